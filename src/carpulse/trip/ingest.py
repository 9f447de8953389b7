"""Webhook events into SQL, many requests to one INSERT: a group commit.

Every request waits until its events are committed before it is answered (nothing acknowledged is
lost); while one INSERT is on its way, the events of the requests arriving meanwhile gather for the
next. An idle server writes each request at once; a busy one writes hundreds of pings per round trip.
Duplicates (the same car and dedupe key) are skipped by the database, so a retried request is a no-op.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from cachetools import TTLCache
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carpulse.car.errors import InvalidWebhookToken
from carpulse.car.repository import WebhookTokenRepository
from carpulse.car.service import TokenHolder
from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.models import TripEvent, TripEventKind
from carpulse.trip.schemas import WebhookEvent
from carpulse.trip.tasks import ASSEMBLE_JOB

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.trip")

# Rows per INSERT: 14 columns each stays under every driver's bound-parameter limit.
_MAX_ROWS = 1000
_TOUCH_EVERY = timedelta(minutes=1)
_WRITER = "trip.event_writer"


def dedupe_key(kind: TripEventKind, event: WebhookEvent) -> str:
    """The phone's event id when it sends one, else what makes the event itself: kind, time and position."""
    if event.event_id is not None:
        return f"id:{event.event_id}"
    material = f"{kind.value}|{event.timestamp.isoformat()}|{event.lat:.6f}|{event.lon:.6f}"
    return "sha:" + hashlib.sha256(material.encode()).hexdigest()[:40]


def event_row(holder: TokenHolder, kind: TripEventKind, event: WebhookEvent, received_at: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "car_id": holder.car_id,
        "driver_id": holder.driver_id,
        "kind": kind,
        "dedupe_key": dedupe_key(kind, event),
        "at": event.timestamp,
        "received_at": received_at,
        "lat": event.lat,
        "lon": event.lon,
        "accuracy_m": event.accuracy,
        "altitude_m": event.altitude,
        "speed_mps": event.speed,
        "heading_deg": event.heading,
        "odometer_km": event.odometer_km,
        "battery_pct": event.battery_level,
    }


@dataclass
class _Submission:
    token_id: uuid.UUID
    rows: list[dict[str, Any]]
    done: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class EventWriter:
    """One per process: submissions wait for the commit that stores them.

    `on_stored` hears of each car written (and whether a `start` or `end` was among its events) before the
    requests are answered, so a job the events trigger is queued by the time the phone hears back.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        on_stored: Callable[[dict[uuid.UUID, bool]], Awaitable[None]],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.on_stored = on_stored
        self._queue: list[_Submission] = []
        self._flusher: asyncio.Task[None] | None = None
        # When this process last wrote each token's `last_used_at`: once a minute is enough.
        self._touched: TTLCache[uuid.UUID, bool] = TTLCache(maxsize=100_000, ttl=_TOUCH_EVERY.total_seconds())
        self.batches = 0

    async def submit(self, holder: TokenHolder, rows: list[dict[str, Any]]) -> int:
        """Store the rows; how many were new. Raises what storing them raised."""
        submission = _Submission(holder.token_id, rows)
        self._queue.append(submission)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        # A client that hangs up does not take its events with it: the flusher still writes them.
        return await asyncio.shield(submission.done)

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def _flush_all(self) -> None:
        while self._queue:
            batch: list[_Submission] = []
            rows = 0
            while self._queue and (not batch or rows + len(self._queue[0].rows) <= _MAX_ROWS):
                submission = self._queue.pop(0)
                batch.append(submission)
                rows += len(submission.rows)
            cars: dict[uuid.UUID, bool] = {}
            stored: list[int | BaseException]
            try:
                stored = list(await self._write(batch))
            except IntegrityError:
                # One submission's car was deleted meanwhile: write the others each on their own.
                stored = [await self._write_alone(submission) for submission in batch]
            except Exception as exc:
                for submission in batch:
                    if not submission.done.done():
                        submission.done.set_exception(exc)
                continue
            for submission, count in zip(batch, stored, strict=True):
                if isinstance(count, int) and count:
                    car_id = submission.rows[0]["car_id"]
                    boundary = any(row["kind"] is not TripEventKind.ping for row in submission.rows)
                    cars[car_id] = cars.get(car_id, False) or boundary
            self.batches += 1
            if cars:
                try:
                    await self.on_stored(cars)
                except Exception:
                    # Stored is stored: the sweep finds events whose job never started.
                    log.exception("trip.assembly_trigger_failed", cars=len(cars))
            for submission, count in zip(batch, stored, strict=True):
                if isinstance(count, BaseException):
                    submission.done.set_exception(count)
                else:
                    submission.done.set_result(count)

    async def _write_alone(self, submission: _Submission) -> int | BaseException:
        try:
            return (await self._write([submission]))[0]
        except IntegrityError:
            # Its car (or driver) went while this replica still trusted the token.
            return InvalidWebhookToken("This webhook token's car no longer exists: nothing was stored.")
        except Exception as exc:
            return exc

    async def _write(self, batch: list[_Submission]) -> list[int]:
        now = self.clock.now()
        rows = [row for submission in batch for row in submission.rows]
        stale = sorted({submission.token_id for submission in batch if submission.token_id not in self._touched})
        async with self.sessionmaker() as db:
            upsert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
            # Core, not the ORM's bulk insert: nothing here needs objects, and a ping's budget is small.
            table = cast("Table", TripEvent.__table__)
            statement = (
                upsert(table).on_conflict_do_nothing(index_elements=["car_id", "dedupe_key"]).returning(table.c.id)
            )
            inserted = {row_id for (row_id,) in (await db.execute(statement, rows)).all()} if rows else set()
            if stale:
                await WebhookTokenRepository(db).touch(stale, now, now - _TOUCH_EVERY)
            await db.commit()
        for token_id in stale:
            self._touched[token_id] = True
        return [sum(1 for row in submission.rows if row["id"] in inserted) for submission in batch]


def writer_for(state: State) -> EventWriter:
    """This process's writer, made on first use; it queues the assembly of each car it wrote to.

    A `start` or `end` queues the car's assembly at once, so a trip opens and closes as soon as its
    event is stored. Pings queue it at once at most every `assembly_debounce_seconds` per car, and once
    more at the end of that window: the job takes every pending event of the car, so a busy phone costs
    two messages a second, not one per ping, and its last ping is still placed within the window.
    """
    writer: EventWriter | None = state.per_process.get(_WRITER)
    if writer is None:
        window = state.settings.logbook.assembly_debounce_seconds
        now: TTLCache[uuid.UUID, bool] = TTLCache(maxsize=100_000, ttl=window)
        later: TTLCache[uuid.UUID, bool] = TTLCache(maxsize=100_000, ttl=window)

        async def on_stored(cars: dict[uuid.UUID, bool]) -> None:
            for car_id, boundary in cars.items():
                if boundary or window <= 0 or car_id not in now:
                    now[car_id] = True
                    await state.jobs.enqueue(ASSEMBLE_JOB, car_id=str(car_id))
                    if not boundary or window <= 0:
                        continue
                # A start or an end may land just as the car's running job looked for the last time (its message
                # still live, so the enqueue above was a no-op): the message at the window's end places it.
                if car_id not in later:
                    later[car_id] = True
                    await state.jobs.enqueue_later(window, ASSEMBLE_JOB, car_id=str(car_id))

        writer = EventWriter(state.sessionmaker, state.clock, on_stored)
        state.per_process[_WRITER] = writer
    return writer
