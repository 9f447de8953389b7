from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import ReconcileRun


class ReconcileRunRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def add(self, run: ReconcileRun) -> None:
        self.db.add(run)

    async def forget_before(self, before: datetime) -> None:
        await self.db.execute(delete(ReconcileRun).where(ReconcileRun.started_at < before))

    async def latest(self, limit: int, only_found: bool) -> list[ReconcileRun]:
        statement = select(ReconcileRun)
        if only_found:
            statement = statement.where(ReconcileRun.total_found > 0)
        statement = statement.order_by(ReconcileRun.started_at.desc(), ReconcileRun.id).limit(limit)
        return list((await self.db.execute(statement)).scalars())

    async def count(self) -> int:
        return int(await self.db.scalar(select(func.count()).select_from(ReconcileRun)) or 0)
