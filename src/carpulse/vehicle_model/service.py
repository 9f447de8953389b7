"""The model catalogue: kept in line with the shipped file at start, listed, searched and matched to VINs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.kit.logs import get_logger
from carpulse.vehicle_model.catalogue import entries
from carpulse.vehicle_model.repository import VehicleModelRepository

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.vehicle_model")


class VehicleModelService:
    async def seed(self, state: State) -> None:
        """At start: the table holds the shipped catalogue (replicas starting together both succeed)."""
        async with state.sessionmaker() as session:
            changed = await self.sync_catalogue(session)
            await session.commit()
        if changed:
            log.info("vehicle_model.catalogue_synced", changed=changed)

    async def sync_catalogue(self, db: AsyncSession) -> int:
        """Insert or update every entry that differs from its row; returns how many did. Flushes, never commits.
        Rows no longer shipped stay (an older replica may still serve them during a rollout)."""
        repository = VehicleModelRepository(db)
        existing = {row.model_id: row for row in await repository.all()}
        changed = 0
        # One order for every replica, so that concurrent upserts lock rows in the same sequence.
        for entry in sorted(entries(), key=lambda entry: entry.model_id):
            values = entry.row()
            row = existing.get(entry.model_id)
            if row is not None and all(getattr(row, name) == value for name, value in values.items()):
                continue
            await repository.upsert(values)
            changed += 1
        if changed:
            db.expire_all()
        return changed


vehicle_models = VehicleModelService()
