"""The inbox's job, and the sweep that finds stored events whose job was lost."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from carpulse.database import transaction
from carpulse.inbound_event.repository import InboundEventRepository
from carpulse.inbound_event.service import HANDLE_JOB, inbox
from carpulse.kit.logs import get_logger
from carpulse.worker import job, scheduled

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.inbound_event")


@job(HANDLE_JOB)
async def handle(state: State, event_pk: str) -> None:
    async with transaction(state.sessionmaker, state.jobs) as db:
        await inbox.handle(db, state, event_pk)


async def requeue_unhandled(state: State, older_than_seconds: float = 60.0) -> int:
    """Events stored but never handled (their job was lost): enqueue them again."""
    async with state.sessionmaker() as db:
        ids = await InboundEventRepository(db).unhandled(state.clock.now() - timedelta(seconds=older_than_seconds))
    for row_id in ids:
        await state.jobs.enqueue(HANDLE_JOB, event_pk=str(row_id))
    if ids:
        log.warning("inbound_event.requeued", count=len(ids))
    return len(ids)


@scheduled("inbound_event.requeue_unhandled")
async def sweep_unhandled(state: State) -> None:
    await requeue_unhandled(state, older_than_seconds=state.settings.report.reconcile_after_seconds)
