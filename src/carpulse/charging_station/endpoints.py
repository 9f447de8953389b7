"""`GET /api/v1/charging-stations`: stations near a point, for a signed-in driver."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from carpulse.auth.dependencies import DriverAccount
from carpulse.auth.errors import DriverRequired, InvalidToken
from carpulse.charging_station.dependencies import StationQueryDep, limit_searches
from carpulse.charging_station.errors import ChargingStationsUnavailable, UnknownOperator
from carpulse.charging_station.schemas import StationList
from carpulse.charging_station.service import charging_stations
from carpulse.errors import RateLimited, ValidationFailed, problem_responses
from carpulse.state import get_state

router = APIRouter(tags=["logbook-charging-stations"])


@router.get(
    "/charging-stations",
    response_model=StationList,
    summary="Charging stations near a point",
    dependencies=[Depends(limit_searches)],
    responses=problem_responses(
        InvalidToken, DriverRequired, ValidationFailed, UnknownOperator, RateLimited, ChargingStationsUnavailable
    ),
)
async def search_charging_stations(request: Request, driver: DriverAccount, query: StationQueryDep) -> StationList:
    """Stations within `radius_km`, nearest first, from Open Charge Map (answers are shared for 5 minutes).

    Every answer carries `attribution` (Open Charge Map and each data provider's licence), which must be shown
    with the data. While Open Charge Map fails, an earlier answer is served with `cached` and `stale` true;
    with none kept, 503 `charging-stations-unavailable` and `Retry-After`.
    """
    return await charging_stations.search(get_state(request), query)
