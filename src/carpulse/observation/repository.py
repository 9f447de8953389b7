"""Observations: every query. They are a vehicle's, not an account's: any caller reads a VIN's readings."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import DataSharing, Observation, ObservationKind


class ObservationRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, values: dict[str, Any]) -> bool:
        """Insert a reading unless it is recorded already (vin, kind, time, source); True if inserted."""
        result = await self.db.execute(insert_ignoring_conflicts(self.db, Observation.__table__, values))
        return bool(getattr(result, "rowcount", 0))

    async def for_vehicle(
        self,
        vin: str,
        *,
        kinds: Collection[ObservationKind] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[Observation]:
        """A vehicle's readings (of `kinds`, every kind if none), newest first; `until` is exclusive."""
        statement = select(Observation).where(Observation.vin == vin)
        if kinds:
            statement = statement.where(Observation.kind.in_(list(kinds)))
        if since is not None:
            statement = statement.where(Observation.captured_at >= since)
        if until is not None:
            statement = statement.where(Observation.captured_at < until)
        statement = statement.order_by(Observation.captured_at.desc(), Observation.kind).limit(limit)
        return list((await self.db.execute(statement)).scalars())

    async def for_vins_like(
        self, pattern: str, *, besides: str, kinds: Collection[ObservationKind], limit: int
    ) -> list[Observation]:
        """Readings of the vehicles whose VIN matches a SQL LIKE `pattern`, but `besides`, newest first."""
        statement = (
            select(Observation)
            .where(Observation.vin.like(pattern), Observation.vin != besides, Observation.kind.in_(list(kinds)))
            .order_by(Observation.captured_at.desc(), Observation.vin, Observation.kind)
            .limit(limit)
        )
        return list((await self.db.execute(statement)).scalars())

    async def shared_for_vehicle(
        self,
        vin: str,
        *,
        sharing: Collection[DataSharing],
        synthetic: bool,
        kinds: Collection[ObservationKind] = (),
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Observation]:
        """A vehicle's readings taken under one of the `sharing` consents and of the given origin (simulated or
        real), newest first: the only readings another business may be shown."""
        statement = select(Observation).where(
            Observation.vin == vin,
            Observation.sharing.in_(list(sharing)),
            Observation.synthetic == synthetic,
        )
        if kinds:
            statement = statement.where(Observation.kind.in_(list(kinds)))
        if since is not None:
            statement = statement.where(Observation.captured_at >= since)
        statement = statement.order_by(Observation.captured_at.desc(), Observation.kind).limit(limit)
        return list((await self.db.execute(statement)).scalars())

    async def shared_fingerprint(
        self, vin: str, *, sharing: Collection[DataSharing], synthetic: bool
    ) -> tuple[int, datetime | None, datetime | None]:
        """How many readings `shared_for_vehicle` would see, the newest capture and the newest recording: a
        change of either the readings or their consent changes it. One indexed aggregate."""
        statement = select(func.count(), func.max(Observation.captured_at), func.max(Observation.recorded_at)).where(
            Observation.vin == vin,
            Observation.sharing.in_(list(sharing)),
            Observation.synthetic == synthetic,
        )
        count, captured, recorded = (await self.db.execute(statement)).one()
        return int(count), captured, recorded

    async def latest_shared_per_kind(
        self, vin: str, *, sharing: Collection[DataSharing], synthetic: bool
    ) -> list[Observation]:
        """The newest reading of each kind of a vehicle, among those `shared_for_vehicle` may return."""
        ranked = (
            select(
                Observation.id,
                func.row_number()
                .over(partition_by=Observation.kind, order_by=(Observation.captured_at.desc(), Observation.source))
                .label("rank"),
            )
            .where(
                Observation.vin == vin,
                Observation.sharing.in_(list(sharing)),
                Observation.synthetic == synthetic,
            )
            .subquery()
        )
        statement = (
            select(Observation)
            .join(ranked, ranked.c.id == Observation.id)
            .where(ranked.c.rank == 1)
            .order_by(Observation.kind)
        )
        return list((await self.db.execute(statement)).scalars())

    async def shared_vins(
        self, *, sharing: Collection[DataSharing], synthetic: bool, kind: ObservationKind
    ) -> list[str]:
        """Every VIN with a reading of `kind` taken under one of the `sharing` consents and of the given origin."""
        statement = (
            select(Observation.vin)
            .where(
                Observation.sharing.in_(list(sharing)),
                Observation.synthetic == synthetic,
                Observation.kind == kind,
            )
            .distinct()
            .order_by(Observation.vin)
        )
        return list((await self.db.execute(statement)).scalars())

    async def shared_readings_of(
        self,
        vins: Collection[str],
        *,
        sharing: Collection[DataSharing],
        synthetic: bool,
        kinds: Collection[ObservationKind],
    ) -> list[tuple[str, ObservationKind, str, str | None, datetime, str]]:
        """(vin, kind, value, unit, captured_at, source) of these vehicles' shared readings, as plain rows: the
        bulk read of a model's curves, without building an object per reading."""
        statement = select(
            Observation.vin,
            Observation.kind,
            Observation.value,
            Observation.unit,
            Observation.captured_at,
            Observation.source,
        ).where(
            Observation.vin.in_(list(vins)),
            Observation.sharing.in_(list(sharing)),
            Observation.synthetic == synthetic,
            Observation.kind.in_(list(kinds)),
        )
        rows = (await self.db.execute(statement)).all()
        return [(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows]

    async def set_sharing(self, connection_id: str, vins: Collection[str], sharing: DataSharing) -> int:
        statement = (
            update(Observation)
            .where(Observation.connection_id == connection_id, Observation.vin.in_(list(vins)))
            .values(sharing=sharing)
            .execution_options(synchronize_session=False)
        )
        result = await self.db.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete_before(self, before: datetime) -> None:
        """Private acquired readings captured before `before`. Readings kept under a consent to share stay
        while it lasts (withdrawn, they are private again and go); the simulator's fleet is nobody's data and
        stays whole (the retention took 11 of its 12 months within the hour of a `carpulse serve`)."""
        statement = delete(Observation).where(
            Observation.captured_at < before,
            Observation.synthetic.is_(False),
            Observation.sharing == DataSharing.private,
        )
        await self.db.execute(statement.execution_options(synchronize_session=False))
