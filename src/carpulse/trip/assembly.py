"""Trips from a car's webhook events, whatever order they arrive in.

Events are stored first (`ingest`), then placed by this job, one car at a time (the car's row is locked),
in the order of the phone's clock. A `start` opens a trip (closing an open one at its last fix first; a
start inside a trip splits it there); a `ping` joins the trip its time falls in, or continues a trip that
lacked its `end` when it is close enough (`gap_seconds`), or opens one (its `start` was lost); an `end`
closes the trip it falls in, or the trip before it that never got one (within `end_match_seconds`), or
is kept unmatched. Events after an end are placed again, so an `end` that arrives late still cuts its
trip in the right place. The same events in any order give the same trips.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.config import LogbookSettings
from carpulse.models import Car, Trip, TripEnd, TripEvent, TripEventKind, TripState

_RANK = {TripEventKind.start: 0, TripEventKind.ping: 1, TripEventKind.end: 2}


def _last(trip: Trip) -> datetime:
    return trip.ended_at or trip.last_fix_at


@dataclass
class Assembly:
    db: AsyncSession
    settings: LogbookSettings
    car_id: uuid.UUID
    now: datetime
    trips: list[Trip] = field(default_factory=list)
    touched: set[uuid.UUID] = field(default_factory=set)
    _queue: list[tuple[datetime, int, int, TripEvent]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    async def run(self) -> set[uuid.UUID]:
        """Place every pending event of the car; the ids of the trips that changed."""
        await self.db.execute(select(Car.id).where(Car.id == self.car_id).with_for_update())
        pending = list(
            (
                await self.db.execute(
                    select(TripEvent).where(TripEvent.car_id == self.car_id, TripEvent.assembled_at.is_(None))
                )
            ).scalars()
        )
        if not pending:
            return set()
        reach = timedelta(seconds=max(self.settings.gap_seconds, self.settings.end_match_seconds))
        low = min(event.at for event in pending) - reach
        high = max(event.at for event in pending) + timedelta(seconds=self.settings.gap_seconds)
        statement = select(Trip).where(
            Trip.car_id == self.car_id,
            Trip.started_at <= high,
            or_(Trip.state == TripState.open, Trip.last_fix_at >= low, Trip.ended_at >= low),
        )
        self.trips = sorted(
            (await self.db.execute(statement)).scalars(), key=lambda trip: (trip.started_at, trip.id.int)
        )
        for event in pending:
            self._push(event)
        while self._queue:
            *_, event = heapq.heappop(self._queue)
            await self._place(event)
            event.assembled_at = self.now
        await self.db.flush()
        return self.touched

    def _push(self, event: TripEvent) -> None:
        heapq.heappush(self._queue, (event.at, _RANK[event.kind], next(self._seq), event))

    # The trips around an instant, among those loaded (deleted ones only absorb their own late events).
    def _covering(self, at: datetime) -> Trip | None:
        for trip in reversed(self.trips):
            if trip.started_at <= at and (trip.state is TripState.open or at <= _last(trip)):
                return trip
        return None

    def _before(self, at: datetime) -> Trip | None:
        candidates = [t for t in self.trips if t.deleted_at is None and t.state is not TripState.open and _last(t) < at]
        return max(candidates, key=_last, default=None)

    def _after(self, at: datetime) -> Trip | None:
        candidates = [t for t in self.trips if t.deleted_at is None and t.started_at > at]
        return min(candidates, key=lambda t: t.started_at, default=None)

    def _open(self) -> Trip | None:
        return next((t for t in self.trips if t.state is TripState.open), None)

    def _near(self, earlier: datetime, later: datetime, seconds: int) -> bool:
        return later - earlier <= timedelta(seconds=seconds)

    async def _place(self, event: TripEvent) -> None:
        covering = self._covering(event.at)
        if covering is not None and covering.deleted_at is not None:
            # A late or repeated event of a trip its driver deleted stays with it: nothing comes back.
            self._attach(covering, event)
            return
        if event.kind is TripEventKind.start:
            await self._start(event)
        elif event.kind is TripEventKind.ping:
            await self._ping(event)
        else:
            await self._end(event)

    async def _start(self, event: TripEvent) -> None:
        trip = self._covering(event.at)
        if trip is not None and trip.started_at < event.at:
            # A start inside a trip: what came before it was another drive.
            trip = await self._split(trip, event.at, TripEnd.next_start)
        if trip is None:
            after = self._after(event.at)
            if (
                after is not None
                and not after.has_start_event
                and self._near(event.at, after.started_at, self.settings.gap_seconds)
            ):
                trip = after  # its pings came first; this is the start they lacked
            else:
                trip = await self._new(event, alone=after is not None)
        trip.has_start_event = True
        self._attach(trip, event)

    async def _ping(self, event: TripEvent) -> None:
        trip = self._covering(event.at)
        if trip is None:
            before, after = self._before(event.at), self._after(event.at)
            gap = self.settings.gap_seconds
            if before is not None and before.ended_by is not TripEnd.end and self._near(_last(before), event.at, gap):
                trip = before
                if before.state is TripState.recovered and after is None and self._open() is None:
                    # Recovered too early (the phone was out of reach): the drive goes on.
                    before.state, before.ended_by, before.ended_at = TripState.open, None, None
            elif after is not None and not after.has_start_event and self._near(event.at, after.started_at, gap):
                trip = after
            else:
                trip = await self._new(event, alone=after is not None or self._open() is not None)
        self._attach(trip, event)

    async def _end(self, event: TripEvent) -> None:
        trip = self._covering(event.at)
        if trip is None:
            before, after = self._before(event.at), self._after(event.at)
            if (
                before is not None
                and before.ended_by is not TripEnd.end
                and self._near(_last(before), event.at, self.settings.end_match_seconds)
                and (after is None or after.started_at > event.at)
            ):
                trip = before
        if trip is None:
            event.trip_id = None  # an end that ends nothing we know: kept, and shown to no trip
            return
        if trip.state is TripState.open or trip.ended_by is not TripEnd.end or event.at < _last(trip):
            await self._detach_after(trip, event.at)
            trip.state, trip.ended_by = TripState.closed, TripEnd.end
            trip.ended_at = event.at
            await self.db.flush()
        self._attach(trip, event)

    def _attach(self, trip: Trip, event: TripEvent) -> None:
        event.trip_id = trip.id
        trip.started_at = min(trip.started_at, event.at)
        trip.last_fix_at = max(trip.last_fix_at, event.at)
        if trip.state is not TripState.open and trip.ended_at is not None and event.at > trip.ended_at:
            trip.ended_at = event.at
        if trip.deleted_at is None:
            self.touched.add(trip.id)

    async def _new(self, event: TripEvent, *, alone: bool) -> Trip:
        """A trip from this event: open, unless a later trip (or an open one) exists, so this one is already over."""
        trip = Trip(
            id=uuid.uuid4(),
            car_id=self.car_id,
            driver_id=event.driver_id,
            state=TripState.recovered if alone else TripState.open,
            ended_by=TripEnd.recovered if alone else None,
            ended_at=event.at if alone else None,
            started_at=event.at,
            last_fix_at=event.at,
        )
        self.db.add(trip)
        await self.db.flush()
        self.trips.append(trip)
        self.trips.sort(key=lambda t: (t.started_at, t.id.int))
        return trip

    async def _split(self, trip: Trip, at: datetime, ended_by: TripEnd) -> Trip:
        """Cut `trip` at `at`: it keeps what came before and closes at its last fix; a new trip takes the rest."""
        later = await self._events_after(trip, at, inclusive=True)
        earlier_last = await self._last_before(trip, at)
        state, old_end, old_ended_at = trip.state, trip.ended_by, trip.ended_at
        trip.state, trip.ended_by = TripState.closed, ended_by
        trip.last_fix_at = trip.ended_at = earlier_last or trip.started_at
        await self.db.flush()
        rest = Trip(
            id=uuid.uuid4(),
            car_id=self.car_id,
            driver_id=trip.driver_id,
            state=state,
            ended_by=old_end,
            ended_at=old_ended_at,
            started_at=at,
            last_fix_at=max([at, *(e.at for e in later)]),
        )
        self.db.add(rest)
        await self.db.flush()
        for event in later:
            event.trip_id = rest.id
        self.trips.append(rest)
        self.trips.sort(key=lambda t: (t.started_at, t.id.int))
        self.touched.update({trip.id, rest.id})
        return rest

    async def _detach_after(self, trip: Trip, at: datetime) -> None:
        """Events of the trip later than `at` are placed again (they belong to whatever came after its end)."""
        for event in await self._events_after(trip, at, inclusive=False):
            event.trip_id = None
            self._push(event)
        trip.last_fix_at = min(trip.last_fix_at, at)

    async def _events_after(self, trip: Trip, at: datetime, *, inclusive: bool) -> list[TripEvent]:
        condition = TripEvent.at >= at if inclusive else TripEvent.at > at
        await self.db.flush()
        statement = select(TripEvent).where(TripEvent.trip_id == trip.id, condition)
        return list((await self.db.execute(statement)).scalars())

    async def _last_before(self, trip: Trip, at: datetime) -> datetime | None:
        await self.db.flush()
        statement = (
            select(TripEvent.at).where(TripEvent.trip_id == trip.id, TripEvent.at < at).order_by(TripEvent.at.desc())
        )
        return (await self.db.execute(statement.limit(1))).scalar_one_or_none()


async def pending_cars(db: AsyncSession, older_than: datetime, limit: int = 500) -> list[uuid.UUID]:
    """Cars with events no job placed (their trigger was lost)."""
    statement = (
        select(TripEvent.car_id)
        .where(TripEvent.assembled_at.is_(None), TripEvent.received_at < older_than)
        .group_by(TripEvent.car_id)
        .limit(limit)
    )
    return list((await db.execute(statement)).scalars())
