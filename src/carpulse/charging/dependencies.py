"""`Annotated` aliases of the charging endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from carpulse.charging.history import ChargingHistory
from carpulse.state import get_state


def get_charging_history(request: Request) -> ChargingHistory:
    state = get_state(request)
    return ChargingHistory(state.ephemeral, state.box, state.settings.charging.history_cache_seconds)


ChargingHistoryDep = Annotated[ChargingHistory, Depends(get_charging_history)]
