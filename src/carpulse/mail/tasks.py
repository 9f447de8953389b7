"""The send job, and the sweep that finds outbox mail whose job was lost."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from carpulse.kit.logs import get_logger
from carpulse.mail.repository import OutboundMailRepository
from carpulse.mail.service import SEND_JOB, mailer
from carpulse.worker import job, scheduled

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.mail")


@job(SEND_JOB)
async def send(state: State, mail_id: str) -> None:
    await mailer.deliver(state, mail_id)


async def requeue_lost(state: State, older_than_seconds: float) -> int:
    """Pending mail due for `older_than_seconds` that nobody holds: enqueue its send again."""
    now = state.clock.now()
    async with state.sessionmaker() as db:
        ids = await OutboundMailRepository(db).lost(now - timedelta(seconds=older_than_seconds), now)
    for mail_id in ids:
        await state.jobs.enqueue(SEND_JOB, mail_id=str(mail_id))
    if ids:
        log.warning("mail.requeued", count=len(ids))
    return len(ids)


@scheduled("mail.requeue_lost")
async def sweep_lost(state: State) -> None:
    await requeue_lost(state, older_than_seconds=state.settings.report.reconcile_after_seconds)
