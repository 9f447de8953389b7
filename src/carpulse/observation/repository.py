"""Observations: every query. They are a vehicle's, not an account's: any caller reads a VIN's readings."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import Observation, ObservationKind


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

    async def delete_before(self, before: datetime) -> None:
        statement = delete(Observation).where(Observation.captured_at < before)
        await self.db.execute(statement.execution_options(synchronize_session=False))
