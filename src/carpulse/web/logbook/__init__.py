"""The Logbook's pages for drivers: sign-in, trips by day and month, a trip on its map, cars and their webhook
tokens, known places, charging stations near a point, and privacy (export, erase)."""

from __future__ import annotations

from fastapi import APIRouter

from carpulse.web.logbook import cars, places, privacy, sign_in, trips


def logbook_router() -> APIRouter:
    router = APIRouter()
    for part in (sign_in, trips, cars, places, privacy):
        router.include_router(part.router)
    return router
