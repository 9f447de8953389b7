"""Usage sweeps: kept answers of idempotent calls are forgotten once their window is over."""

from __future__ import annotations

from typing import TYPE_CHECKING

from carpulse.database import transaction
from carpulse.kit.logs import get_logger
from carpulse.usage.repository import UsageRepository
from carpulse.worker import scheduled

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.usage")


@scheduled("usage.forget_kept_answers", every_seconds=3600)
async def forget_kept_answers(state: State) -> None:
    """An `Idempotency-Key` names its answer for `data_api.idempotency_hours`; after that the answer goes."""
    async with transaction(state.sessionmaker, state.jobs) as db:
        forgotten = await UsageRepository(db).delete_expired_answers(state.clock.now())
    if forgotten:
        log.info("usage.kept_answers_forgotten", count=forgotten)
