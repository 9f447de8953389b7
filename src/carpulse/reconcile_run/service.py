"""Recording the reconciler's rounds (`consumer.reconcile_forever`) and reading them back for the admin.

A round runs every `jobs.reconcile_every_seconds` (15 s) on each process that runs jobs, so rounds are
kept for `KEPT_DAYS` only: enough to see whether the reconciler runs and what it has been finding.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import ReconcileRun
from carpulse.reconcile_run.repository import ReconcileRunRepository
from carpulse.reconcile_run.schemas import ReconcileRunList, ReconcileRunRead

KEPT_DAYS = 3


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


class ReconcileRunService:
    async def record(
        self,
        db: AsyncSession,
        started_at: datetime,
        finished_at: datetime,
        found: dict[str, int],
        failed: dict[str, str],
    ) -> ReconcileRun:
        """Keep one round; rounds older than `KEPT_DAYS` go in the same transaction."""
        repository = ReconcileRunRepository(db)
        await repository.forget_before(started_at - timedelta(days=KEPT_DAYS))
        run = ReconcileRun(
            started_at=started_at,
            finished_at=finished_at,
            process=this_process(),
            found=found,
            failed={name: error[:500] for name, error in failed.items()},
            total_found=sum(found.values()),
        )
        repository.add(run)
        await db.flush()
        return run

    async def latest(self, db: AsyncSession, limit: int = 50, only_found: bool = False) -> ReconcileRunList:
        rows = await ReconcileRunRepository(db).latest(limit, only_found)
        return ReconcileRunList(runs=[ReconcileRunRead.model_validate(row) for row in rows], kept_days=KEPT_DAYS)


reconcile_runs = ReconcileRunService()
