"""Writing a simulated fleet: its readings as synthetic observations, once however often it is run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import DataSharing, Observation
from carpulse.simulator.fleet import SOURCE, SimulatedVehicle, fleet

# Rows per statement: SQLAlchemy sends them as multi-row VALUES batches within its parameter limits.
BATCH_ROWS = 10_000


@dataclass(frozen=True)
class Simulation:
    vehicles: list[SimulatedVehicle]
    written: int


def _insert(db: AsyncSession) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING id` in the session's dialect: what is returned was new."""
    table = cast(Table, Observation.__table__)
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing().returning(table.c.id)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing().returning(table.c.id)


class SimulatorService:
    async def write(self, db: AsyncSession, vehicles: Iterable[SimulatedVehicle]) -> int:
        """Insert the vehicles' readings (synthetic, sold per VIN) unless recorded already; returns how many were
        new. Flushes, never commits."""
        statement = _insert(db)
        written = 0
        batch: list[dict[str, object]] = []

        async def send() -> int:
            result = await db.execute(statement, batch)
            count = len(result.all())
            batch.clear()
            return count

        for simulated in vehicles:
            extra = {
                "source": SOURCE,
                "brand": simulated.brand,
                "sharing": DataSharing.vehicle_data,
                "synthetic": True,
            }
            batch.extend(reading | extra for reading in simulated.readings)
            if len(batch) >= BATCH_ROWS:
                written += await send()
        if batch:
            written += await send()
        return written

    async def simulate(self, db: AsyncSession, *, vehicles: int, months: int, seed: int, until: date) -> Simulation:
        """Generate the fleet of `seed` and write it; the same arguments a second time write nothing."""
        generated = list(fleet(seed, vehicles, months=months, until=until))
        return Simulation(generated, await self.write(db, generated))


simulator = SimulatorService()
