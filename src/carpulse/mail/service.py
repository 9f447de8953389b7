"""The outbox: `mailer.queue` writes a mail in the caller's transaction; the job `mail.send` delivers it.

Delivery is at least once: a worker that dies between the server's acceptance and the row's update
sends the mail again once its lease lapses. A failed send is tried again with growing pauses, up to
`mail.max_attempts`; a lost job is found by the sweep in `mail.tasks`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.kit.logs import get_logger
from carpulse.kit.privacy import mask_email
from carpulse.kit.resilience import spaced_delay
from carpulse.mail.repository import OutboundMailRepository
from carpulse.mail.transport import (
    MailMessage,
    MailNotSent,
    MailRejected,
    MailTransport,
    SandboxTransport,
    Unconfigured,
)
from carpulse.models import MailStatus, OutboundMail
from carpulse.worker import enqueue_after_commit

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.mail")

SEND_JOB = "mail.send"
# Used when no sender is configured (development, the sandbox).
DEVELOPMENT_SENDER = "Car Pulse <no-reply@carpulse.localhost>"


def transport_for(state: State) -> MailTransport:
    """The sandbox's mailbox when the sandbox is on, else the configured SMTP server."""
    settings = state.settings
    if settings.sandbox_root is not None:
        return SandboxTransport(state.vendor_http, settings.sandbox_root, settings.mail.timeout_seconds)
    if settings.mail.host is None:
        return Unconfigured()
    from carpulse.mail.smtp import SmtpTransport

    return SmtpTransport(settings.mail)


class MailService:
    async def queue(
        self,
        db: AsyncSession,
        *,
        to: str,
        subject: str,
        text: str,
        kind: str,
        now: datetime,
        links: list[str] | None = None,
    ) -> OutboundMail:
        """Write the mail into the outbox in `db`'s transaction; its send job starts once that commits."""
        mail = await OutboundMailRepository(db).add(
            OutboundMail(
                kind=kind,
                to_address=to,
                subject=subject,
                text_body=text,
                links=list(links or []),
                status=MailStatus.pending,
                attempts=0,
                next_attempt_at=now,
            )
        )
        enqueue_after_commit(db, SEND_JOB, mail_id=str(mail.id))
        log.info("mail.queued", mail=str(mail.id)[:8], kind=kind, to=mask_email(to))
        return mail

    async def deliver(self, state: State, mail_id: str, transport: MailTransport | None = None) -> MailStatus | None:
        """Send one outbox mail if it is due and free; its status afterwards (None: not ours to send now)."""
        settings = state.settings.mail
        row_id = uuid.UUID(mail_id)
        now = state.clock.now()
        async with state.sessionmaker() as db:
            repository = OutboundMailRepository(db)
            mail = await repository.claim(row_id, now, now + timedelta(seconds=settings.lease_seconds))
            await db.commit()
        if mail is None:
            return None
        transport = transport or transport_for(state)
        message = MailMessage(
            sender=settings.from_address or DEVELOPMENT_SENDER,
            to=mail.to_address,
            subject=mail.subject,
            text=mail.text_body,
            links=tuple(mail.links),
            message_id=f"<{mail.id}@carpulse>",
        )
        try:
            await transport.send(message)
        except MailNotSent as exc:
            return await self._record_failure(state, mail, exc)
        async with state.sessionmaker() as db:
            done = state.clock.now()
            await OutboundMailRepository(db).settle(row_id, done, status=MailStatus.sent, sent_at=done, last_error=None)
            await db.commit()
        log.info("mail.sent", mail=mail_id[:8], kind=mail.kind, transport=transport.name, attempt=mail.attempts)
        return MailStatus.sent

    async def _record_failure(self, state: State, mail: OutboundMail, exc: MailNotSent) -> MailStatus:
        settings = state.settings.mail
        now = state.clock.now()
        give_up = isinstance(exc, MailRejected) or mail.attempts >= settings.max_attempts
        delay = spaced_delay(mail.attempts - 1, *settings.retry_seconds)
        async with state.sessionmaker() as db:
            repository = OutboundMailRepository(db)
            if give_up:
                await repository.settle(mail.id, now, status=MailStatus.failed, last_error=str(exc)[:2000])
            else:
                await repository.settle(
                    mail.id, now, next_attempt_at=now + timedelta(seconds=delay), last_error=str(exc)[:2000]
                )
            await db.commit()
        if give_up:
            log.error(
                "mail.failed", mail=str(mail.id)[:8], kind=mail.kind, attempts=mail.attempts, error=str(exc)[:200]
            )
            return MailStatus.failed
        log.warning(
            "mail.retry", mail=str(mail.id)[:8], attempt=mail.attempts, seconds=round(delay, 1), error=str(exc)[:200]
        )
        await state.jobs.enqueue_later(delay, SEND_JOB, mail_id=str(mail.id))
        return MailStatus.pending


mailer = MailService()
