"""Trips as drivers read and fix them: pages, the active trip, totals, merge, split, delete, GeoJSON and GPX."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import gpxpy.gpx
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.kit.logs import get_logger
from carpulse.models import Account, Trip, TripChange, TripChangeKind, TripEnd, TripState
from carpulse.trip.errors import (
    InvalidCursor,
    SplitOutsideTrip,
    TripLocked,
    TripNotFound,
    TripsNotAdjacent,
    TripStillOpen,
)
from carpulse.trip.repository import TripRepository
from carpulse.trip.schemas import (
    ActiveTrip,
    Address,
    PlaceLabel,
    Totals,
    TotalsRow,
    TripEndpoint,
    TripPage,
    TripRead,
    TripUpdate,
    feature_properties,
)

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.trip")


def _local(at: datetime | None, zone: str | None) -> datetime | None:
    if at is None or zone is None:
        return None
    try:
        return at.astimezone(ZoneInfo(zone))
    except (KeyError, ValueError):
        return None


def _endpoint(trip: Trip, end: bool) -> TripEndpoint:
    at = (trip.ended_at if trip.state is not TripState.open else None) if end else trip.started_at
    zone = trip.end_zone if end else trip.start_zone
    address = trip.end_address if end else trip.start_address
    place = trip.end_place if end else trip.start_place
    return TripEndpoint(
        at=at,
        local_time=_local(at, zone),
        time_zone=zone,
        lat=trip.end_lat if end else trip.start_lat,
        lon=trip.end_lon if end else trip.start_lon,
        address=Address.model_validate(address) if address else None,
        place=PlaceLabel.model_validate(place) if place else None,
        odometer_km=trip.odometer_end_km if end else trip.odometer_start_km,
        battery_pct=trip.battery_end_pct if end else trip.battery_start_pct,
    )


def shape(trip: Trip) -> TripRead:
    ended = trip.ended_at if trip.state is not TripState.open else None
    return TripRead(
        id=trip.id,
        car_id=trip.car_id,
        driver_id=trip.driver_id,
        state=trip.state,
        ended_by=trip.ended_by,
        recovered=trip.ended_by is TripEnd.recovered,
        start=_endpoint(trip, end=False),
        end=_endpoint(trip, end=True),
        distance_km=round(trip.distance_m / 1000, 3) if trip.distance_m is not None else None,
        distance_source=trip.distance_source,
        distance_estimated=trip.distance_estimated,
        duration_s=int((ended - trip.started_at).total_seconds()) if ended else None,
        fix_count=trip.fix_count,
        purpose=trip.purpose,
        locked=trip.locked_at is not None,
        thinned=trip.thinned_at is not None,
    )


def snapshot(trip: Trip) -> dict[str, Any]:
    """What a change record keeps of a trip, before and after."""
    read = shape(trip)
    return {
        "state": trip.state.value,
        "started_at": trip.started_at.isoformat(),
        "ended_at": trip.ended_at.isoformat() if trip.ended_at else None,
        "distance_m": trip.distance_m,
        "start_address": read.start.address.label if read.start.address else None,
        "end_address": read.end.address.label if read.end.address else None,
        "start_place": trip.start_place,
        "end_place": trip.end_place,
        "purpose": trip.purpose,
        "fix_count": trip.fix_count,
    }


def change(
    trip: Trip,
    driver: Account,
    kind: TripChangeKind,
    at: datetime,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    related: Trip | None = None,
) -> TripChange:
    """The history row of what `driver` did to `trip` (the tax logbook chains these)."""
    return TripChange(
        trip_id=trip.id,
        car_id=trip.car_id,
        account_id=driver.id,
        kind=kind,
        related_trip_id=related.id if related is not None else None,
        at=at,
        before=before,
        after=after,
    )


def encode_cursor(trip: Trip) -> str:
    return base64.urlsafe_b64encode(f"{trip.started_at.isoformat()}|{trip.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, trip_id = text.split("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, uuid.UUID(trip_id)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidCursor("Pass back the `next_cursor` of the previous page unchanged.") from exc


class TripService:
    async def get(self, db: AsyncSession, driver: Account, trip_id: uuid.UUID, *, for_update: bool = False) -> Trip:
        trip = await TripRepository(db).get(driver, trip_id, for_update=for_update)
        if trip is None:
            raise TripNotFound("No such trip among yours.")
        return trip

    async def page(
        self,
        db: AsyncSession,
        driver: Account,
        *,
        car_id: uuid.UUID | None,
        start: datetime | None,
        end: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> TripPage:
        after = decode_cursor(cursor) if cursor else None
        rows = await TripRepository(db).page(driver, car_id=car_id, start=start, end=end, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return TripPage(trips=[shape(t) for t in rows], next_cursor=encode_cursor(rows[-1]) if more and rows else None)

    async def active(self, db: AsyncSession, driver: Account, car_id: uuid.UUID | None, now: datetime) -> ActiveTrip:
        trip = await TripRepository(db).active(driver, car_id)
        if trip is None:
            return ActiveTrip(active=False, trip=None, elapsed_s=None, last_fix_age_s=None)
        return ActiveTrip(
            active=True,
            trip=shape(trip),
            elapsed_s=max(0, int((now - trip.started_at).total_seconds())),
            last_fix_age_s=max(0, int((now - trip.last_fix_at).total_seconds())),
        )

    async def totals(
        self,
        db: AsyncSession,
        driver: Account,
        by: Literal["day", "month", "car"],
        car_id: uuid.UUID | None,
        start: datetime | None,
        end: datetime | None,
    ) -> Totals:
        sums: dict[tuple[str, uuid.UUID | None], list[float]] = defaultdict(lambda: [0, 0.0, 0])
        for trip in await TripRepository(db).in_range(driver, car_id, start, end):
            if trip.state is TripState.open:
                continue
            key = (
                (str(trip.car_id), trip.car_id)
                if by == "car"
                else (
                    (_local(trip.started_at, trip.start_zone) or trip.started_at).strftime(
                        "%Y-%m-%d" if by == "day" else "%Y-%m"
                    ),
                    None,
                )
            )
            row = sums[key]
            row[0] += 1
            row[1] += trip.distance_m or 0
            row[2] += ((trip.ended_at or trip.started_at) - trip.started_at).total_seconds()
        return Totals(
            by=by,
            rows=[
                TotalsRow(
                    period=period, car_id=car, trips=int(n), distance_km=round(metres / 1000, 3), duration_s=int(s)
                )
                for (period, car), (n, metres, s) in sorted(sums.items(), key=lambda item: item[0][0])
            ],
        )

    async def merge(
        self, db: AsyncSession, state: State, driver: Account, trip_id: uuid.UUID, other_id: uuid.UUID
    ) -> Trip:
        from carpulse.trip.tasks import remeasure

        one = await self.get(db, driver, trip_id, for_update=True)
        other = await self.get(db, driver, other_id, for_update=True)
        if one.id == other.id or one.car_id != other.car_id:
            raise TripsNotAdjacent("Merge two different trips of the same car.")
        earlier, later = sorted((one, other), key=lambda t: (t.started_at, t.id.int))
        for trip in (earlier, later):
            self._editable(trip)
        repository = TripRepository(db)
        if await repository.between(earlier.car_id, earlier, later):
            raise TripsNotAdjacent("Another trip lies between these two: merge neighbours only.")
        before = (snapshot(earlier), snapshot(later))
        await repository.move_events(later.id, earlier.id)
        earlier.state, earlier.ended_by, earlier.ended_at = later.state, later.ended_by, later.ended_at
        earlier.last_fix_at = later.last_fix_at
        later.deleted_at = state.clock.now()
        await db.flush()
        await remeasure(db, state, {earlier.id})
        now = state.clock.now()
        db.add_all(
            [
                change(
                    earlier,
                    driver,
                    TripChangeKind.merged,
                    now,
                    before=before[0],
                    after=snapshot(earlier),
                    related=later,
                ),
                change(later, driver, TripChangeKind.merged, now, before=before[1], related=earlier),
            ]
        )
        await db.flush()
        log.info("trip.merged", trip_id=str(earlier.id), merged_id=str(later.id))
        return earlier

    async def split(
        self, db: AsyncSession, state: State, driver: Account, trip_id: uuid.UUID, at: datetime
    ) -> tuple[Trip, Trip]:
        from carpulse.trip.tasks import remeasure

        trip = await self.get(db, driver, trip_id, for_update=True)
        self._editable(trip)
        repository = TripRepository(db)
        last_before = await repository.last_before(trip.id, at)
        if last_before is None or at > trip.last_fix_at or at <= trip.started_at:
            raise SplitOutsideTrip(
                f"Split between the trip's first fix ({trip.started_at.isoformat()}) and its last "
                f"({trip.last_fix_at.isoformat()}), with fixes on both sides."
            )
        before = snapshot(trip)
        rest = Trip(
            id=uuid.uuid4(),
            car_id=trip.car_id,
            driver_id=trip.driver_id,
            state=trip.state,
            ended_by=trip.ended_by,
            ended_at=trip.ended_at,
            has_start_event=True,
            started_at=at,
            last_fix_at=trip.last_fix_at,
            purpose=trip.purpose,
        )
        trip.state, trip.ended_by, trip.ended_at, trip.last_fix_at = (
            TripState.closed,
            TripEnd.split_at,
            last_before,
            last_before,
        )
        await db.flush()
        db.add(rest)
        await db.flush()
        await repository.move_events(trip.id, rest.id, at_or_after=at)
        await remeasure(db, state, {trip.id, rest.id})
        now = state.clock.now()
        db.add_all(
            [
                change(trip, driver, TripChangeKind.split_at, now, before=before, after=snapshot(trip), related=rest),
                change(rest, driver, TripChangeKind.split_at, now, after=snapshot(rest), related=trip),
            ]
        )
        await db.flush()
        log.info("trip.split", trip_id=str(trip.id), new_id=str(rest.id))
        return trip, rest

    async def delete(self, db: AsyncSession, driver: Account, trip_id: uuid.UUID, now: datetime) -> None:
        trip = await self.get(db, driver, trip_id, for_update=True)
        if trip.locked_at is not None:
            raise TripLocked("This trip is locked in the tax logbook and cannot be deleted.")
        before = snapshot(trip)
        trip.deleted_at = now
        if trip.state is TripState.open:
            # Its phone may still be sending: those fixes go to this (deleted) trip, not to a new one.
            trip.state, trip.ended_by, trip.ended_at = TripState.closed, TripEnd.end, trip.last_fix_at
        db.add(change(trip, driver, TripChangeKind.deleted, now, before=before))
        await db.flush()
        log.info("trip.deleted", trip_id=str(trip.id))

    async def update(
        self, db: AsyncSession, driver: Account, trip_id: uuid.UUID, body: TripUpdate, now: datetime
    ) -> Trip:
        """Change what the driver may say about a trip (its purpose); recorded as an edit when it changes."""
        trip = await self.get(db, driver, trip_id, for_update=True)
        if body.purpose is None or body.purpose == trip.purpose:
            return trip
        if trip.locked_at is not None:
            raise TripLocked("This trip is locked in the tax logbook.")
        before = snapshot(trip)
        trip.purpose = body.purpose
        await db.flush()
        db.add(change(trip, driver, TripChangeKind.edited, now, before=before, after=snapshot(trip)))
        await db.flush()
        log.info("trip.edited", trip_id=str(trip.id), purpose=trip.purpose)
        return trip

    def _editable(self, trip: Trip) -> None:
        if trip.locked_at is not None:
            raise TripLocked("This trip is locked in the tax logbook.")
        if trip.state is TripState.open:
            raise TripStillOpen("This trip is still being recorded.")

    async def geojson(self, db: AsyncSession, driver: Account, trip_id: uuid.UUID) -> dict[str, Any]:
        trip = await self.get(db, driver, trip_id)
        read = shape(trip)
        features: list[dict[str, Any]] = [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": trip.track or []},
                "properties": feature_properties(read),
            }
        ]
        for name, lat, lon in (("start", trip.start_lat, trip.start_lon), ("end", trip.end_lat, trip.end_lon)):
            if lat is not None and lon is not None:
                features.append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {"role": name},
                    }
                )
        return {"type": "FeatureCollection", "features": features}

    async def gpx(self, db: AsyncSession, driver: Account, trip_id: uuid.UUID) -> str:
        trip = await self.get(db, driver, trip_id)
        return gpx_document([(trip, await TripRepository(db).fixes(trip.id))])


def gpx_document(trips: list[tuple[Trip, list[Any]]]) -> str:
    """Every trip a GPX track of its fixes (time, elevation), one segment each."""
    document = gpxpy.gpx.GPX()
    document.creator = "Car Pulse Logbook"
    for trip, events in trips:
        track = gpxpy.gpx.GPXTrack(name=f"Trip {trip.started_at.isoformat()}")
        source = trip.distance_source.value if trip.distance_source else "unmeasured"
        track.description = f"{(trip.distance_m or 0) / 1000:.3f} km ({source})"
        segment = gpxpy.gpx.GPXTrackSegment()
        for event in events:
            if event.lat is None or event.lon is None:
                continue
            segment.points.append(
                gpxpy.gpx.GPXTrackPoint(
                    event.lat, event.lon, elevation=event.altitude_m, time=event.at, speed=event.speed_mps
                )
            )
        track.segments.append(segment)
        document.tracks.append(track)
    return document.to_xml(version="1.1")


trips = TripService()
