"""`Annotated` aliases of the charging-station endpoints: the search's query, and the caller's budget."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from carpulse.auth.dependencies import DriverAccount
from carpulse.charging_station.schemas import MAX_LIMIT, MAX_RADIUS_KM, ConnectorFilter, StationQuery
from carpulse.rate_limit import enforce


def station_query(
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="latitude (WGS 84)")],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, description="longitude (WGS 84)")],
    radius_km: Annotated[
        float, Query(gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False, description="search radius around the point")
    ] = 5.0,
    min_power_kw: Annotated[
        float | None,
        Query(
            ge=0,
            le=1000,
            allow_inf_nan=False,
            description="only stations with a plug this powerful (and of `connector`)",
        ),
    ] = None,
    connector: Annotated[ConnectorFilter | None, Query(description="only stations with this plug family")] = None,
    operator: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="network operator: its name (e.g. IONITY) or OCM id"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many stations")] = 20,
) -> StationQuery:
    return StationQuery(
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        min_power_kw=min_power_kw,
        connector=connector,
        operator=operator,
        limit=limit,
    )


async def limit_searches(request: Request, driver: DriverAccount) -> None:
    """Each driver's searches count against `charging_stations` (Open Charge Map bans callers that flood it)."""
    await enforce(request, "charging_stations", "driver", str(driver.id))


StationQueryDep = Annotated[StationQuery, Depends(station_query)]
