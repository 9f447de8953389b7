from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from carpulse.auth.dependencies import DriverAccount
from carpulse.auth.errors import DriverRequired, InvalidToken
from carpulse.car.service import webhook_tokens
from carpulse.charging_station.dependencies import limit_searches
from carpulse.charging_station.errors import ChargingStationsUnavailable
from carpulse.charging_station.schemas import StationList
from carpulse.charging_station.service import charging_stations
from carpulse.database import SessionDep
from carpulse.errors import RateLimited, ValidationFailed, problem_responses
from carpulse.logbook.schemas import Erased
from carpulse.logbook.service import erase, export, relabel
from carpulse.place.errors import PlaceNotFound
from carpulse.place.schemas import PlaceCreate, PlaceList, PlaceSaved, PlaceUpdate
from carpulse.place.service import places
from carpulse.state import get_state
from carpulse.trip.errors import TripNotFound
from carpulse.trip.service import trips

router = APIRouter(prefix="/logbook")

_DRIVER = (InvalidToken, DriverRequired)


@router.get(
    "/places",
    tags=["logbook-places"],
    response_model=PlaceList,
    responses=problem_responses(*_DRIVER),
    summary="Your known places, and the configured home and office",
)
async def list_places(request: Request, db: SessionDep, driver: DriverAccount) -> PlaceList:
    return PlaceList(places=await places.of_driver(db, get_state(request).settings, driver))


@router.post(
    "/places",
    tags=["logbook-places"],
    status_code=status.HTTP_201_CREATED,
    response_model=PlaceSaved,
    responses=problem_responses(*_DRIVER, ValidationFailed),
    summary="Add a place; your unlocked trips that end in it are labelled with it",
)
async def create_place(request: Request, db: SessionDep, driver: DriverAccount, body: PlaceCreate) -> PlaceSaved:
    settings = get_state(request).settings
    row, known = await places.create(db, settings, driver, body)
    count = await relabel(db, settings, driver, [known])
    return PlaceSaved(**places.read(row).model_dump(), relabelled_trips=count)


@router.patch(
    "/places/{place_id}",
    tags=["logbook-places"],
    response_model=PlaceSaved,
    responses=problem_responses(*_DRIVER, PlaceNotFound, ValidationFailed),
    summary="Change a place; unlocked trips are labelled again",
)
async def update_place(
    request: Request, db: SessionDep, driver: DriverAccount, place_id: uuid.UUID, body: PlaceUpdate
) -> PlaceSaved:
    settings = get_state(request).settings
    row, before, after = await places.update(db, driver, place_id, body)
    count = await relabel(db, settings, driver, [before, after])
    return PlaceSaved(**places.read(row).model_dump(), relabelled_trips=count)


@router.delete(
    "/places/{place_id}",
    tags=["logbook-places"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*_DRIVER, PlaceNotFound),
    summary="Delete a place; unlocked trips lose its label",
)
async def delete_place(request: Request, db: SessionDep, driver: DriverAccount, place_id: uuid.UUID) -> Response:
    before = await places.delete(db, driver, place_id)
    await relabel(db, get_state(request).settings, driver, [before])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/privacy/export",
    tags=["logbook-privacy"],
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}, **problem_responses(*_DRIVER)},
    summary="Everything we hold about you: JSON and GPX in one ZIP",
)
async def export_data(request: Request, db: SessionDep, driver: DriverAccount) -> Response:
    archive = await export(db, get_state(request).settings, driver)
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="carpulse-logbook.zip"', "Cache-Control": "no-store"},
    )


@router.delete(
    "/privacy/account",
    tags=["logbook-privacy"],
    response_model=Erased,
    responses=problem_responses(*_DRIVER),
    summary="Erase your Logbook account: trips, tracks, places, tokens (locked tax-logbook trips are kept)",
)
async def erase_account(request: Request, db: SessionDep, driver: DriverAccount) -> Erased:
    erased = await erase(db, driver)
    webhook_tokens.forget(get_state(request).replica_caches)
    return erased


@router.get(
    "/trips/{trip_id}/charging-stations",
    tags=["logbook-charging-stations"],
    response_model=StationList,
    dependencies=[Depends(limit_searches)],
    responses=problem_responses(*_DRIVER, TripNotFound, RateLimited, ChargingStationsUnavailable, ValidationFailed),
    summary="Charging stations near where a trip ended (or where an open trip is now)",
)
async def stations_near_trip(
    request: Request,
    db: SessionDep,
    driver: DriverAccount,
    trip_id: uuid.UUID,
    radius_km: Annotated[float, Query(gt=0, le=50)] = 2.0,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> StationList:
    trip = await trips.get(db, driver, trip_id)
    lat, lon = (trip.end_lat, trip.end_lon) if trip.end_lat is not None else (trip.start_lat, trip.start_lon)
    if lat is None or lon is None:
        raise ValidationFailed("This trip has no position yet.")
    return await charging_stations.near(get_state(request), lat, lon, radius_km=radius_km, limit=limit)
