"""Trips and their events: every query a driver makes is scoped to the trips they drove or whose car they own."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Account, CarDriver, CarRole, Trip, TripEvent, TripState


def visible_to(driver: Account) -> ColumnElement[bool]:
    """A driver reads the trips they drove, and every trip of a car they own (the car's log is theirs)."""
    owns = exists().where(
        CarDriver.car_id == Trip.car_id, CarDriver.account_id == driver.id, CarDriver.role == CarRole.owner
    )
    return and_(Trip.deleted_at.is_(None), or_(Trip.driver_id == driver.id, owns))


class TripRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def scoped(self, driver: Account) -> Select[Trip]:
        return select(Trip).where(visible_to(driver))

    async def get(self, driver: Account, trip_id: uuid.UUID, *, for_update: bool = False) -> Trip | None:
        statement = self.scoped(driver).where(Trip.id == trip_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def page(
        self,
        driver: Account,
        *,
        car_id: uuid.UUID | None,
        start: datetime | None,
        end: datetime | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Trip]:
        """Newest first; `after` is the (started_at, id) of the last trip of the previous page."""
        statement = self.scoped(driver)
        if car_id is not None:
            statement = statement.where(Trip.car_id == car_id)
        if start is not None:
            statement = statement.where(Trip.started_at >= start)
        if end is not None:
            statement = statement.where(Trip.started_at < end)
        if after is not None:
            at, trip_id = after
            statement = statement.where(or_(Trip.started_at < at, and_(Trip.started_at == at, Trip.id < trip_id)))
        statement = statement.order_by(Trip.started_at.desc(), Trip.id.desc()).limit(limit)
        return list((await self.db.execute(statement)).scalars())

    async def in_range(
        self, driver: Account, car_id: uuid.UUID | None, start: datetime | None, end: datetime | None
    ) -> list[Trip]:
        statement = self.scoped(driver)
        if car_id is not None:
            statement = statement.where(Trip.car_id == car_id)
        if start is not None:
            statement = statement.where(Trip.started_at >= start)
        if end is not None:
            statement = statement.where(Trip.started_at < end)
        return list((await self.db.execute(statement.order_by(Trip.started_at))).scalars())

    async def active(self, driver: Account, car_id: uuid.UUID | None) -> Trip | None:
        statement = self.scoped(driver).where(Trip.state == TripState.open, Trip.driver_id == driver.id)
        if car_id is not None:
            statement = statement.where(Trip.car_id == car_id)
        return (await self.db.execute(statement.order_by(Trip.last_fix_at.desc()).limit(1))).scalar_one_or_none()

    async def between(self, car_id: uuid.UUID, earlier: Trip, later: Trip) -> bool:
        """Whether another trip of the car starts between the two."""
        statement = select(
            exists().where(
                Trip.car_id == car_id,
                Trip.deleted_at.is_(None),
                Trip.id.not_in([earlier.id, later.id]),
                Trip.started_at >= earlier.started_at,
                Trip.started_at <= later.started_at,
            )
        )
        return bool(await self.db.scalar(statement))

    async def has_pending(self, car_id: uuid.UUID) -> bool:
        statement = select(exists().where(TripEvent.car_id == car_id, TripEvent.assembled_at.is_(None)))
        return bool(await self.db.scalar(statement))

    async def fix_count(self, trip_id: uuid.UUID) -> int:
        statement = select(func.count()).select_from(TripEvent).where(TripEvent.trip_id == trip_id)
        return int(await self.db.scalar(statement) or 0)

    async def fixes(self, trip_id: uuid.UUID) -> list[TripEvent]:
        statement = select(TripEvent).where(TripEvent.trip_id == trip_id).order_by(TripEvent.at)
        return list((await self.db.execute(statement)).scalars())

    async def move_events(self, from_trip: uuid.UUID, to_trip: uuid.UUID, at_or_after: datetime | None = None) -> int:
        statement = update(TripEvent).where(TripEvent.trip_id == from_trip)
        if at_or_after is not None:
            statement = statement.where(TripEvent.at >= at_or_after)
        result = await self.db.execute(statement.values(trip_id=to_trip))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def last_before(self, trip_id: uuid.UUID, at: datetime) -> datetime | None:
        statement = select(func.max(TripEvent.at)).where(TripEvent.trip_id == trip_id, TripEvent.at < at)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def thin_before(self, cutoff: datetime, now: datetime, batch: int = 200) -> int:
        """Reduce the events of trips ended before `cutoff` to each trip's first and last; how many trips."""
        statement = (
            select(Trip.id)
            .where(Trip.ended_at < cutoff, Trip.thinned_at.is_(None))
            .order_by(Trip.ended_at)
            .limit(batch)
        )
        trip_ids = list((await self.db.execute(statement)).scalars())
        for trip_id in trip_ids:
            ends = select(func.min(TripEvent.at), func.max(TripEvent.at)).where(TripEvent.trip_id == trip_id)
            first, last = (await self.db.execute(ends)).one()
            await self.db.execute(
                delete(TripEvent).where(
                    TripEvent.trip_id == trip_id, TripEvent.at.not_in([value for value in (first, last) if value])
                )
            )
            trip = await self.db.get(Trip, trip_id)
            if trip is not None:
                trip.thinned_at = now
                if trip.track:
                    trip.track = [trip.track[0], trip.track[-1]]
        await self.db.flush()
        return len(trip_ids)

    async def of_driver(self, driver: Account) -> list[Trip]:
        statement = self.scoped(driver).order_by(Trip.started_at)
        return list((await self.db.execute(statement)).scalars())
