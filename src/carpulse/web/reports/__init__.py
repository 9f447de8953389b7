"""The Reports product's buying pages: packages, connect, vehicles with a live quote, pay, and its failures."""

from fastapi import APIRouter

from carpulse.web.reports import checkout, pictures

router = APIRouter()
router.include_router(pictures.router)
router.include_router(checkout.router)

__all__ = ["router"]
