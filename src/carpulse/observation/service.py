"""Readings kept one by one, with when and where each was read: a snapshot's, recorded once however often seen."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import DataSharing, Observation, ObservationKind
from carpulse.observation.repository import ObservationRepository
from carpulse.provider.base import Reading, VehicleSnapshot


class ObservationService:
    async def record_snapshot(
        self,
        db: AsyncSession,
        snapshot: VehicleSnapshot,
        *,
        brand: str,
        connection_id: str | None,
        sharing: DataSharing = DataSharing.private,
    ) -> int:
        """Record the snapshot's scalar readings (a reading without its own time takes the snapshot's); returns
        how many were new. Flushes, never commits."""
        repository = ObservationRepository(db)
        added = 0
        for kind in ObservationKind:
            reading: Reading[float] | Reading[str] | None = getattr(snapshot, kind.value)
            value = _text(reading.value) if reading is not None else None
            if reading is None or value is None:
                continue
            added += await repository.add(
                {
                    "vin": snapshot.identity.vin,
                    "kind": kind,
                    "value": value,
                    "unit": reading.unit,
                    "captured_at": reading.captured_at or snapshot.captured_at,
                    "source": reading.source,
                    "brand": brand,
                    "connection_id": connection_id,
                    "sharing": sharing,
                }
            )
        return added

    async def of_vehicle(
        self,
        db: AsyncSession,
        vin: str,
        *,
        kinds: Collection[ObservationKind] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[Observation]:
        """A vehicle's readings, newest first, from every provider and connection that read it."""
        return await ObservationRepository(db).for_vehicle(vin, kinds=kinds, since=since, until=until, limit=limit)

    async def share(self, db: AsyncSession, connection_id: str, vins: Collection[str], sharing: DataSharing) -> int:
        """Put the readings a connection read of `vins` under `sharing` (a consent given, changed or withdrawn);
        returns how many rows it changed. Flushes, never commits."""
        return await ObservationRepository(db).set_sharing(connection_id, vins, sharing)

    async def forget_before(self, db: AsyncSession, before: datetime) -> None:
        """The retention of acquired vehicle data: readings captured before `before` go with their snapshots
        (the simulator's synthetic readings are not acquired, and stay)."""
        await ObservationRepository(db).delete_before(before)


def _text(value: object) -> str | None:
    """A number as its decimal text, a text as it is; None for what is no reading (a blank, not a number)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return str(number) if number.is_finite() else None


observations = ObservationService()
