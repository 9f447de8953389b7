"""`/logbook` (a day's or a month's trips with their totals) and `/logbook/trips/{id}` (a trip on its map)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from carpulse.database import SessionDep
from carpulse.models import TripState
from carpulse.state import get_state
from carpulse.trip.errors import TripLocked, TripNotFound, TripsNotAdjacent, TripStillOpen
from carpulse.trip.schemas import TRIP_PURPOSES, TotalsRow, TripRead, TripUpdate
from carpulse.trip.service import shape, trips
from carpulse.web.csrf import verify_csrf
from carpulse.web.locale import page_locale
from carpulse.web.logbook.view import LogbookFormat
from carpulse.web.pages import PageError, page_router, redirect, render_page
from carpulse.web.session import PageDriver

router = page_router()

# A trip's day is the local date where it started: up to 14 hours either side of the UTC day.
_ZONE_SLACK = timedelta(hours=14)
# A day holds at most this many trips on its page (a delivery driver's busiest day is far below).
_DAY_LIMIT = 200
_BACK_TO_LOGBOOK = ("web.logbook.back", "/logbook")
# Where a trip's neighbours (of the same car) are looked for.
_NEIGHBOUR_WINDOW = timedelta(days=3)


def _not_found() -> PageError:
    return PageError(404, "web.logbook.trip.not_found", action=_BACK_TO_LOGBOOK)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _window(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, UTC) - _ZONE_SLACK
    end = datetime.combine(last + timedelta(days=1), time.min, UTC) + _ZONE_SLACK
    return start, end


def _local_day(trip: TripRead) -> str | None:
    at = trip.start.local_time or trip.start.at
    return at.strftime("%Y-%m-%d") if at else None


def _parse_day(value: str | None, today: date) -> date:
    if not value:
        return today
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PageError(422, "web.logbook.day.invalid", action=_BACK_TO_LOGBOOK, value=value[:20]) from exc


def _parse_month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise PageError(422, "web.logbook.month.invalid", action=_BACK_TO_LOGBOOK, value=value[:20]) from exc


def _sum(rows: list[TotalsRow]) -> dict[str, float]:
    return {
        "trips": sum(row.trips for row in rows),
        "distance_km": sum(row.distance_km for row in rows),
        "duration_s": sum(row.duration_s for row in rows),
    }


@router.get("/logbook")
async def overview(
    request: Request,
    db: SessionDep,
    account: PageDriver,
    day: Annotated[str | None, Query(max_length=20)] = None,
    month: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    today = get_state(request).clock.now().date()
    lfmt = LogbookFormat(page_locale(request))
    if month:
        first = _parse_month(month)
        last = _next_month(first) - timedelta(days=1)
        start, end = _window(first, last)
        by_day = await trips.totals(db, account, "day", None, start, end)
        prefix = first.strftime("%Y-%m")
        rows = [row for row in by_day.rows if row.period.startswith(prefix)]
        return render_page(
            request,
            "pages/logbook/month.html",
            month=first,
            rows=[(date.fromisoformat(row.period), row) for row in rows],
            total=_sum(rows),
            previous=(first - timedelta(days=1)).strftime("%Y-%m"),
            following=_next_month(first).strftime("%Y-%m"),
            this_month=today.strftime("%Y-%m"),
            lfmt=lfmt,
        )
    chosen = _parse_day(day, today)
    start, end = _window(chosen, chosen)
    page = await trips.page(db, account, car_id=None, start=start, end=end, cursor=None, limit=_DAY_LIMIT)
    key = chosen.isoformat()
    day_trips = sorted((t for t in page.trips if _local_day(t) == key), key=lambda t: t.start.at or start)
    day_totals = await trips.totals(db, account, "day", None, start, end)
    month_first = _month_start(chosen)
    month_totals = await trips.totals(db, account, "month", None, *_window(month_first, _next_month(month_first)))
    month_key = month_first.strftime("%Y-%m")
    return render_page(
        request,
        "pages/logbook/day.html",
        day=chosen,
        today=today,
        trips=day_trips,
        day_total=_sum([row for row in day_totals.rows if row.period == key]),
        month_total=_sum([row for row in month_totals.rows if row.period == month_key]),
        month_key=month_key,
        previous=(chosen - timedelta(days=1)).isoformat(),
        following=(chosen + timedelta(days=1)).isoformat(),
        lfmt=lfmt,
        purposes=TRIP_PURPOSES,
    )


async def _trip(db: SessionDep, account: PageDriver, trip_id: str) -> TripRead:
    try:
        parsed = uuid.UUID(trip_id)
    except ValueError as exc:
        raise _not_found() from exc
    try:
        return shape(await trips.get(db, account, parsed))
    except TripNotFound as exc:
        raise _not_found() from exc


@router.get("/logbook/trips/{trip_id}.geojson")
async def trip_geojson(db: SessionDep, account: PageDriver, trip_id: str) -> Response:
    trip = await _trip(db, account, trip_id)
    return JSONResponse(
        await trips.geojson(db, account, trip.id),
        media_type="application/geo+json",
        headers={"cache-control": "no-store"},
    )


@router.get("/logbook/trips/{trip_id}.gpx")
async def trip_gpx(db: SessionDep, account: PageDriver, trip_id: str) -> Response:
    trip = await _trip(db, account, trip_id)
    return Response(
        await trips.gpx(db, account, trip.id),
        media_type="application/gpx+xml",
        headers={"content-disposition": f'attachment; filename="trip-{trip.id}.gpx"', "cache-control": "no-store"},
    )


async def _neighbours(db: SessionDep, account: PageDriver, trip: TripRead) -> tuple[TripRead | None, TripRead | None]:
    """The same car's trips just before and after this one (what a merge may fold together)."""
    if trip.start.at is None:
        return None, None
    page = await trips.page(
        db,
        account,
        car_id=trip.car_id,
        start=trip.start.at - _NEIGHBOUR_WINDOW,
        end=trip.start.at + _NEIGHBOUR_WINDOW,
        cursor=None,
        limit=_DAY_LIMIT,
    )
    ordered = sorted(page.trips, key=lambda t: (t.start.at or trip.start.at, t.id.int))
    ids = [t.id for t in ordered]
    if trip.id not in ids:
        return None, None
    index = ids.index(trip.id)
    before = ordered[index - 1] if index > 0 else None
    after = ordered[index + 1] if index + 1 < len(ordered) else None
    return before, after


def _mergeable(trip: TripRead, other: TripRead | None) -> TripRead | None:
    if other is None or trip.locked or other.locked or TripState.open in (trip.state, other.state):
        return None
    return other


@router.get("/logbook/trips/{trip_id}")
async def trip_page(request: Request, db: SessionDep, account: PageDriver, trip_id: str) -> Response:
    trip = await _trip(db, account, trip_id)
    before, after = await _neighbours(db, account, trip)
    return render_page(
        request,
        "pages/logbook/trip.html",
        trip=trip,
        merge_before=_mergeable(trip, before),
        merge_after=_mergeable(trip, after),
        day=_local_day(trip),
        lfmt=LogbookFormat(page_locale(request)),
        purposes=TRIP_PURPOSES,
        saved=False,
        error=None,
    )


@router.post("/logbook/trips/{trip_id}/purpose", dependencies=[Depends(verify_csrf)])
async def set_purpose(
    request: Request,
    db: SessionDep,
    account: PageDriver,
    trip_id: str,
    purpose: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    trip = await _trip(db, account, trip_id)
    fragment = request.headers.get("hx-request") == "true"
    try:
        body = TripUpdate.model_validate({"purpose": purpose})
    except ValidationError:
        context = {"trip": trip, "purposes": TRIP_PURPOSES, "saved": False, "error": "web.logbook.purpose.invalid"}
        if fragment:
            return render_page(request, "pages/logbook/_purpose.html", status_code=422, **context)
        return render_page(
            request,
            "pages/logbook/trip.html",
            status_code=422,
            day=_local_day(trip),
            lfmt=LogbookFormat(page_locale(request)),
            merge_before=None,
            merge_after=None,
            **context,
        )
    updated = shape(await trips.update(db, account, trip.id, body, get_state(request).clock.now()))
    if fragment:
        return render_page(
            request, "pages/logbook/_purpose.html", trip=updated, purposes=TRIP_PURPOSES, saved=True, error=None
        )
    return redirect(request, f"/logbook/trips/{trip.id}")


@router.post("/logbook/trips/{trip_id}/merge", dependencies=[Depends(verify_csrf)])
async def merge_trips(
    request: Request,
    db: SessionDep,
    account: PageDriver,
    trip_id: str,
    with_trip: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    trip = await _trip(db, account, trip_id)
    other = await _trip(db, account, with_trip)
    back = ("web.logbook.trip.back", f"/logbook/trips/{trip.id}")
    try:
        merged = await trips.merge(db, get_state(request), account, trip.id, other.id)
    except (TripsNotAdjacent, TripLocked, TripStillOpen) as exc:
        raise PageError(409, "web.logbook.trip.merge_refused", action=back) from exc
    return redirect(request, f"/logbook/trips/{merged.id}")


@router.post("/logbook/trips/{trip_id}/delete", dependencies=[Depends(verify_csrf)])
async def delete_trip(request: Request, db: SessionDep, account: PageDriver, trip_id: str) -> Response:
    trip = await _trip(db, account, trip_id)
    await trips.delete(db, account, trip.id, get_state(request).clock.now())
    day = _local_day(trip)
    return redirect(request, f"/logbook?day={day}" if day else "/logbook")
