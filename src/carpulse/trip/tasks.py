"""Assembly jobs, the sweep that finds events whose job was lost, trip recovery, and track retention."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.kit.logs import get_logger
from carpulse.models import Car, Trip, TripEnd, TripState
from carpulse.trip.assembly import Assembly, pending_cars
from carpulse.trip.measure import refresh
from carpulse.trip.repository import TripRepository
from carpulse.worker import job, scheduled

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.trip")

ASSEMBLE_JOB = "trip.assemble"
# A car's events are placed in rounds until none is left: events stored while a round ran are in the next.
_MAX_ROUNDS = 20


async def remeasure(db: AsyncSession, state: State, trip_ids: set[uuid.UUID], *, assembling: bool = False) -> None:
    """Refresh each trip from its events; a trip left without any is removed.

    While assembling, an open trip measured less than `open_measure_seconds` ago only counts its new fixes:
    measuring is linear in the track, and a phone pinging for hours would otherwise cost its whole track per ping.
    """
    now = state.clock.now()
    every = timedelta(seconds=state.settings.logbook.open_measure_seconds)
    for trip_id in sorted(trip_ids):
        trip = await db.get(Trip, trip_id)
        if trip is None:
            continue
        if assembling and trip.state is TripState.open and trip.measured_at and now - trip.measured_at < every:
            trip.fix_count = await TripRepository(db).fix_count(trip.id)
            continue
        if not await refresh(db, state.settings, state.geocoder, state.router, trip):
            await db.execute(delete(Trip).where(Trip.id == trip_id))
            continue
        trip.measured_at = now


async def assemble_car(state: State, car_id: uuid.UUID) -> int:
    """Place the car's pending events; the number of trips that changed."""
    changed = 0
    for _ in range(_MAX_ROUNDS):
        async with state.sessionmaker() as db:
            if await db.get(Car, car_id) is None:
                return changed
            touched = await Assembly(db, state.settings.logbook, car_id, state.clock.now()).run()
            if not touched and not await TripRepository(db).has_pending(car_id):
                await db.commit()
                return changed
            await remeasure(db, state, touched, assembling=True)
            await db.commit()
            changed += len(touched)
    return changed


@job(ASSEMBLE_JOB)
async def assemble(state: State, car_id: str) -> None:
    await assemble_car(state, uuid.UUID(car_id))


async def requeue_pending(state: State, older_than_seconds: float) -> int:
    """Cars with events stored a while ago and never placed (their job was lost): queue them again."""
    async with state.sessionmaker() as db:
        cars = await pending_cars(db, state.clock.now() - timedelta(seconds=older_than_seconds))
    for car_id in cars:
        await state.jobs.enqueue(ASSEMBLE_JOB, car_id=str(car_id))
    if cars:
        log.warning("trip.assembly_requeued", cars=len(cars))
    return len(cars)


@scheduled("trip.requeue_pending")
async def sweep_pending(state: State) -> None:
    await requeue_pending(state, older_than_seconds=5.0)


async def recover(state: State) -> list[uuid.UUID]:
    """Close the open trips with no fix for `recover_after_seconds` at their last fix; their ids."""
    cutoff = state.clock.now() - timedelta(seconds=state.settings.logbook.recover_after_seconds)
    async with state.sessionmaker() as db:
        stale = (
            await db.execute(
                select(Trip.id, Trip.car_id).where(Trip.state == TripState.open, Trip.last_fix_at < cutoff)
            )
        ).all()
    recovered: list[uuid.UUID] = []
    for trip_id, car_id in stale:
        async with state.sessionmaker() as db:
            await db.execute(select(Car.id).where(Car.id == car_id).with_for_update())
            trip = await db.get(Trip, trip_id, with_for_update=True)
            # Looked at again under the car's lock: a ping may have come meanwhile.
            if trip is None or trip.state is not TripState.open or trip.last_fix_at >= cutoff:
                continue
            trip.state, trip.ended_by, trip.ended_at = TripState.recovered, TripEnd.recovered, trip.last_fix_at
            await db.flush()
            await remeasure(db, state, {trip.id})
            await db.commit()
            recovered.append(trip_id)
    if recovered:
        log.info("trip.recovered", trips=len(recovered))
    return recovered


@scheduled("trip.recover")
async def sweep_recover(state: State) -> None:
    await recover(state)


async def thin_tracks(state: State) -> int:
    """Tracks older than the retention keep only their ends; the trips' figures stay."""
    cutoff = state.clock.now() - timedelta(days=state.settings.logbook.track_retention_days)
    async with state.sessionmaker() as db:
        count = await TripRepository(db).thin_before(cutoff, state.clock.now())
        await db.commit()
    if count:
        log.info("trip.tracks_thinned", trips=count)
    return count


@scheduled("trip.thin_tracks", every_seconds=3600.0)
async def sweep_thin(state: State) -> None:
    await thin_tracks(state)
