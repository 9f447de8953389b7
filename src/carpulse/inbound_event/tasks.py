"""Jobs that act on stored webhook deliveries, and the reconciler that finds lost ones."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from carpulse.database import transaction
from carpulse.inbound_event.repository import InboundEventRepository
from carpulse.kit.logs import get_logger
from carpulse.worker import job

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.inbound_event")


@job("inbound_event.handle")
async def handle(state: State, event_pk: str) -> None:
    from carpulse.payment.service import payments

    async with transaction(state.sessionmaker, state.jobs) as db:
        await payments.handle_event(db, state, event_pk)


async def requeue_unhandled(state: State, older_than_seconds: float = 60.0) -> int:
    """Events stored but never handled (their job was lost): enqueue them again."""
    async with state.sessionmaker() as db:
        ids = await InboundEventRepository(db).unhandled(state.clock.now() - timedelta(seconds=older_than_seconds))
    for row_id in ids:
        await state.jobs.enqueue("inbound_event.handle", event_pk=str(row_id))
    if ids:
        log.warning("inbound_event.requeued", count=len(ids))
    return len(ids)
