from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from carpulse.auth.dependencies import AdminAccount, DriverAccount
from carpulse.auth.errors import AdminRequired, DriverRequired, InvalidToken
from carpulse.car.errors import InvalidWebhookToken
from carpulse.database import SessionDep
from carpulse.errors import PayloadTooLarge, ValidationFailed, problem_responses
from carpulse.models import TripEventKind
from carpulse.state import get_state
from carpulse.trip.dependencies import WebhookHolder
from carpulse.trip.errors import (
    InvalidCursor,
    SplitOutsideTrip,
    TripLocked,
    TripNotFound,
    TripsNotAdjacent,
    TripStillOpen,
)
from carpulse.trip.ingest import event_row, writer_for
from carpulse.trip.schemas import (
    ActiveTrip,
    Totals,
    TripMerge,
    TripPage,
    TripPair,
    TripRead,
    TripSplit,
    TripUpdate,
    WebhookAccepted,
    WebhookEvent,
)
from carpulse.trip.service import shape, trips
from carpulse.trip.tasks import recover

webhook_router = APIRouter(tags=["logbook-webhooks"])
router = APIRouter(prefix="/logbook/trips", tags=["logbook-trips"])
admin_router = APIRouter(prefix="/admin/logbook", tags=["logbook-trips"])

# A phone whose clock runs this far ahead is refused rather than trusted.
_CLOCK_SKEW = timedelta(minutes=10)
_DRIVER = (InvalidToken, DriverRequired)


# One event or a list, parsed by pydantic straight from the bytes: a ping's whole budget is half a millisecond,
# and FastAPI's body handling (decode, then validate the union) was a tenth of it.
_EVENTS: TypeAdapter[WebhookEvent | list[WebhookEvent]] = TypeAdapter(WebhookEvent | list[WebhookEvent])
_EVENT_SCHEMA = WebhookEvent.model_json_schema()
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"anyOf": [_EVENT_SCHEMA, {"type": "array", "items": _EVENT_SCHEMA}]}}
        },
    }
}


async def _events(request: Request) -> list[WebhookEvent]:
    try:
        body = _EVENTS.validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from exc
    return body if isinstance(body, list) else [body]


async def _receive(request: Request, kind: TripEventKind, holder: WebhookHolder) -> JSONResponse:
    state = get_state(request)
    events = await _events(request)
    if not events:
        raise ValidationFailed("Send one event, or a list of at least one.")
    if len(events) > state.settings.logbook.max_events_per_request:
        raise PayloadTooLarge(f"At most {state.settings.logbook.max_events_per_request} events per request.")
    now = state.clock.now()
    ahead = [i for i, event in enumerate(events) if event.timestamp > now + _CLOCK_SKEW]
    if ahead:
        raise ValidationFailed(
            "An event's timestamp lies in the future: check the phone's clock.", errors=[{"index": i} for i in ahead]
        )
    rows = [event_row(holder, kind, event, now) for event in events]
    stored = await writer_for(state).submit(holder, rows)
    accepted = WebhookAccepted(received=len(rows), stored=stored)
    return JSONResponse(accepted.model_dump(), status_code=status.HTTP_202_ACCEPTED)


_WEBHOOK_RESPONSES = problem_responses(InvalidWebhookToken, ValidationFailed, PayloadTooLarge)
_EVENT_DOC = (
    "`start` when CarPlay or the car's Bluetooth connects, `ping` with the position during the drive, `end` on "
    "disconnect. The body is one event or a list (a phone's offline backlog). Stored before the answer; the "
    "same event twice is stored once, and events may arrive late or out of order."
)


@webhook_router.post(
    "/webhook/{kind}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookAccepted,
    responses=_WEBHOOK_RESPONSES,
    openapi_extra=_BODY,
    summary="A trip event from a phone (token in the Authorization header)",
    description=_EVENT_DOC,
)
async def webhook(
    request: Request,
    kind: TripEventKind,
    holder: WebhookHolder,
) -> JSONResponse:
    return await _receive(request, kind, holder)


@webhook_router.post(
    "/webhook/{kind}/{token}",
    summary="A trip event from a phone (token as the last path segment, for Shortcuts without headers)",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookAccepted,
    responses=_WEBHOOK_RESPONSES,
    openapi_extra=_BODY,
    description=_EVENT_DOC,
)
async def webhook_token_in_path(
    request: Request,
    kind: TripEventKind,
    token: str,
    holder: WebhookHolder,
) -> JSONResponse:
    return await _receive(request, kind, holder)


Since = Annotated[datetime | None, Query(alias="from", description="trips that started at or after (ISO 8601)")]
Until = Annotated[datetime | None, Query(alias="to", description="trips that started before (ISO 8601)")]
CarFilter = Annotated[uuid.UUID | None, Query(alias="car", description="one car's trips")]


@router.get(
    "",
    response_model=TripPage,
    responses=problem_responses(*_DRIVER, InvalidCursor, ValidationFailed),
    summary="Your trips, newest first",
)
async def list_trips(
    db: SessionDep,
    driver: DriverAccount,
    car: CarFilter = None,
    since: Since = None,
    until: Until = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TripPage:
    return await trips.page(db, driver, car_id=car, start=since, end=until, cursor=cursor, limit=limit)


@router.get(
    "/active",
    response_model=ActiveTrip,
    responses=problem_responses(*_DRIVER),
    summary="The trip you are on now (for a live activity or a watch)",
)
async def active_trip(request: Request, db: SessionDep, driver: DriverAccount, car: CarFilter = None) -> ActiveTrip:
    return await trips.active(db, driver, car, get_state(request).clock.now())


@router.get(
    "/totals",
    response_model=Totals,
    responses=problem_responses(*_DRIVER, ValidationFailed),
    summary="Trips, km and time per day or month (the local date where each started), or per car",
)
async def trip_totals(
    db: SessionDep,
    driver: DriverAccount,
    by: Literal["day", "month", "car"] = "month",
    car: CarFilter = None,
    since: Since = None,
    until: Until = None,
) -> Totals:
    return await trips.totals(db, driver, by, car, since, until)


@router.get(
    "/{trip_id}.geojson",
    responses={200: {"content": {"application/geo+json": {}}}, **problem_responses(*_DRIVER, TripNotFound)},
    summary="A trip as GeoJSON: its simplified track and its ends",
)
async def trip_geojson(db: SessionDep, driver: DriverAccount, trip_id: uuid.UUID) -> JSONResponse:
    return JSONResponse(await trips.geojson(db, driver, trip_id), media_type="application/geo+json")


@router.get(
    "/{trip_id}.gpx",
    response_class=Response,
    responses={200: {"content": {"application/gpx+xml": {}}}, **problem_responses(*_DRIVER, TripNotFound)},
    summary="A trip as GPX 1.1: every fix with its time",
)
async def trip_gpx(db: SessionDep, driver: DriverAccount, trip_id: uuid.UUID) -> Response:
    document = await trips.gpx(db, driver, trip_id)
    return Response(
        document,
        media_type="application/gpx+xml",
        headers={"Content-Disposition": f'attachment; filename="trip-{trip_id}.gpx"'},
    )


@router.get(
    "/{trip_id}", response_model=TripRead, responses=problem_responses(*_DRIVER, TripNotFound), summary="A trip"
)
async def read_trip(db: SessionDep, driver: DriverAccount, trip_id: uuid.UUID) -> TripRead:
    return shape(await trips.get(db, driver, trip_id))


@router.patch(
    "/{trip_id}",
    response_model=TripRead,
    responses=problem_responses(*_DRIVER, TripNotFound, TripLocked, ValidationFailed),
    summary="Change a trip's purpose (recorded as an edit in its change history)",
)
async def update_trip(
    request: Request, db: SessionDep, driver: DriverAccount, trip_id: uuid.UUID, body: TripUpdate
) -> TripRead:
    return shape(await trips.update(db, driver, trip_id, body, get_state(request).clock.now()))


@router.post(
    "/{trip_id}/merge",
    response_model=TripRead,
    responses=problem_responses(*_DRIVER, TripNotFound, TripsNotAdjacent, TripLocked, TripStillOpen),
    summary="Merge a trip with its neighbour (the later is folded into the earlier; recorded as a change)",
)
async def merge_trips(
    request: Request, db: SessionDep, driver: DriverAccount, trip_id: uuid.UUID, body: TripMerge
) -> TripRead:
    return shape(await trips.merge(db, get_state(request), driver, trip_id, body.with_trip))


@router.post(
    "/{trip_id}/split",
    response_model=TripPair,
    responses=problem_responses(*_DRIVER, TripNotFound, SplitOutsideTrip, TripLocked, TripStillOpen),
    summary="Split a trip at an instant into two (recorded as a change)",
)
async def split_trip(
    request: Request, db: SessionDep, driver: DriverAccount, trip_id: uuid.UUID, body: TripSplit
) -> TripPair:
    first, second = await trips.split(db, get_state(request), driver, trip_id, body.at)
    return TripPair(trips=[shape(first), shape(second)])


@router.delete(
    "/{trip_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*_DRIVER, TripNotFound, TripLocked),
    summary="Delete a trip (kept as a deleted entry in the change history)",
)
async def delete_trip(request: Request, db: SessionDep, driver: DriverAccount, trip_id: uuid.UUID) -> Response:
    await trips.delete(db, driver, trip_id, get_state(request).clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@admin_router.post(
    "/recover-trips",
    responses=problem_responses(InvalidToken, AdminRequired),
    summary="Close open trips with no fix for the recovery timeout now (the worker does it on its own too)",
)
async def recover_trips(request: Request, admin: AdminAccount) -> dict[str, list[str]]:
    return {"recovered": [str(trip_id) for trip_id in await recover(get_state(request))]}
