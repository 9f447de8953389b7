"""The outbox: mail written with the request's transaction, sent by a job through SMTP (a real local
server, aiosmtpd) or the sandbox, tried again with growing pauses, and found again when its job was lost."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.consumer import register_tasks
from carpulse.mail.service import mailer
from carpulse.mail.tasks import sweep_lost
from carpulse.models import MailStatus, OutboundMail
from carpulse.worker import discard_pending, registered_schedules
from tests.signup.flow import confirmation_link, login, mailbox, register, token_of

SENDER = "Car Pulse <no-reply@carpulse.test>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Recorder:
    """An aiosmtpd handler keeping what it accepted; recipients at `bounce.example` are refused for good."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.endswith("@bounce.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data == LoginPassword(b"carpulse", b"smtp-secret"))

    def messages(self) -> list[Message]:
        return [email.message_from_bytes(envelope.original_content or b"") for envelope in self.envelopes]


class SmtpServerFixture:
    def __init__(self, port: int, **options: Any) -> None:
        self.recorder = Recorder()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=port, **options)

    def __enter__(self) -> Recorder:
        self.controller.start()
        return self.recorder

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[Recorder]:
    with SmtpServerFixture(smtp_port) as recorder:
        yield recorder


def smtp_settings(port: int, **mail: Any) -> dict[str, Any]:
    return {
        "sandbox": {"enabled": False},
        "mail": {"host": "127.0.0.1", "port": port, "starttls": False, "from": SENDER, **mail},
    }


async def outbox(db: AsyncSession, to: str) -> list[OutboundMail]:
    result = await db.execute(
        select(OutboundMail).where(OutboundMail.to_address == to).execution_options(populate_existing=True)
    )
    return list(result.scalars())


class TestSmtpDelivery:
    @pytest.fixture
    def settings_overrides(self, smtp_port: int) -> dict[str, Any]:
        return smtp_settings(smtp_port)

    async def test_the_confirmation_goes_out_through_smtp_and_its_link_works(
        self, smtp: Recorder, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        assert (await register(client, "smtp@dealer.example")).status_code == 202

        [envelope] = smtp.envelopes
        assert (envelope.mail_from, envelope.rcpt_tos) == ("no-reply@carpulse.test", ["smtp@dealer.example"])
        [message] = smtp.messages()
        assert message["From"] == SENDER
        assert message["To"] == "smtp@dealer.example"
        assert message["Subject"] == "Confirm your Car Pulse Data API account"
        assert message["Auto-Submitted"] == "auto-generated"
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        [mail] = await outbox(db, "smtp@dealer.example")
        assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.sent, 1, None)
        assert mail.sent_at is not None
        [link] = [link for link in mail.links if "token=" in link]
        assert link in body.decode()

        confirmed = await client.post("/api/v1/auth/confirm", json={"token": token_of(link)})
        assert confirmed.json()["status"] == "confirmed"
        assert (await login(client, "smtp@dealer.example")).status_code == 200

    async def test_the_sandbox_mailbox_is_not_served_without_the_sandbox(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/_sandbox/mail", params={"to": "smtp@dealer.example"})).status_code == 404


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
class TestSmtpLogin:
    @pytest.fixture
    def settings_overrides(self, smtp_port: int) -> dict[str, Any]:
        return smtp_settings(smtp_port, username="carpulse", password="smtp-secret")

    async def test_the_configured_credentials_are_used(self, smtp_port: int, client: httpx.AsyncClient) -> None:
        recorder = Recorder()
        controller = Controller(
            recorder,
            hostname="127.0.0.1",
            port=smtp_port,
            authenticator=recorder.authenticate,
            auth_required=True,
            auth_require_tls=False,
        )
        controller.start()
        try:
            await register(client, "auth@dealer.example")
        finally:
            controller.stop()

        assert recorder.logins == [(b"carpulse", b"smtp-secret")]
        assert len(recorder.envelopes) == 1


class TestRetries:
    @pytest.fixture
    def settings_overrides(self, smtp_port: int) -> dict[str, Any]:
        return smtp_settings(smtp_port, retry_seconds=[30, 600], max_attempts=3, timeout_seconds=2)

    async def test_a_server_that_is_down_is_tried_again_after_a_pause(
        self, app: FastAPI, smtp_port: int, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        await register(client, "later@dealer.example")

        [mail] = await outbox(db, "later@dealer.example")
        assert (mail.status, mail.attempts) == (MailStatus.pending, 1)
        assert "SMTP delivery failed" in (mail.last_error or "")
        # The first pause is in [first / 2, first] seconds (equal jitter).
        assert timedelta(seconds=15) <= mail.next_attempt_at - mail.updated_at <= timedelta(seconds=30)
        state = app.state.carpulse
        assert await mailer.deliver(state, str(mail.id)) is None  # not due yet

        await db.execute(update(OutboundMail).values(next_attempt_at=state.clock.now()))
        await db.commit()
        with SmtpServerFixture(smtp_port) as recorder:
            assert await mailer.deliver(state, str(mail.id)) == MailStatus.sent

        assert len(recorder.envelopes) == 1
        [mail] = await outbox(db, "later@dealer.example")
        assert (mail.status, mail.attempts) == (MailStatus.sent, 2)

    async def test_it_gives_up_after_the_last_attempt(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        await register(client, "never@dealer.example")
        state = app.state.carpulse
        [mail] = await outbox(db, "never@dealer.example")
        for _ in range(2):
            await db.execute(update(OutboundMail).values(next_attempt_at=state.clock.now()))
            await db.commit()
            await mailer.deliver(state, str(mail.id))

        [mail] = await outbox(db, "never@dealer.example")
        assert (mail.status, mail.attempts) == (MailStatus.failed, 3)

    async def test_a_refused_recipient_fails_at_once(
        self, smtp: Recorder, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        await register(client, "nobody@bounce.example")

        [mail] = await outbox(db, "nobody@bounce.example")
        assert (mail.status, mail.attempts) == (MailStatus.failed, 1)
        assert "550" in (mail.last_error or "")
        assert smtp.envelopes == []


class TestStartTls:
    @pytest.fixture
    def settings_overrides(self, smtp_port: int) -> dict[str, Any]:
        return smtp_settings(smtp_port, starttls=True)

    async def test_a_server_without_starttls_gets_nothing_in_clear(
        self, smtp: Recorder, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        await register(client, "tls@dealer.example")

        [mail] = await outbox(db, "tls@dealer.example")
        assert (mail.status, mail.attempts) == (MailStatus.pending, 1)
        assert "STARTTLS" in (mail.last_error or "").upper()
        assert smtp.envelopes == []


class TestLostJobs:
    async def _queue_without_job(self, app: FastAPI, to: str) -> OutboundMail:
        """A mail committed while its job was lost (the process died between commit and enqueue)."""
        state = app.state.carpulse
        async with state.sessionmaker() as db:
            mail = await mailer.queue(
                db, to=to, subject="Hello", text="See https://example.test/x.", kind="test", now=state.clock.now()
            )
            discard_pending(db)
            await db.commit()
        return mail

    async def _age(self, db: AsyncSession, mail: OutboundMail, seconds: float, **values: Any) -> None:
        await db.execute(
            update(OutboundMail)
            .where(OutboundMail.id == mail.id)
            .values(next_attempt_at=mail.next_attempt_at - timedelta(seconds=seconds), **values)
        )
        await db.commit()

    def test_the_sweep_is_declared(self) -> None:
        register_tasks()
        assert "mail.requeue_lost" in [schedule.name for schedule in registered_schedules()]

    async def test_the_sweep_sends_a_mail_whose_job_was_lost(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        mail = await self._queue_without_job(app, "lost@dealer.example")
        state = app.state.carpulse
        await sweep_lost(state)
        assert await mailbox(app, client, "lost@dealer.example") == []  # too recent: its job may still come

        await self._age(db, mail, state.settings.report.reconcile_after_seconds + 1)
        await sweep_lost(state)

        [message] = await mailbox(app, client, "lost@dealer.example")
        assert message["links"] == ["https://example.test/x"]
        [row] = await outbox(db, "lost@dealer.example")
        assert (row.status, row.attempts) == (MailStatus.sent, 1)

    async def test_a_send_held_by_a_live_worker_is_left_alone_and_a_dead_ones_taken_over(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        state = app.state.carpulse
        mail = await self._queue_without_job(app, "held@dealer.example")
        await self._age(db, mail, 60, lease_until=state.clock.now() + timedelta(seconds=60), attempts=1)
        await sweep_lost(state)
        assert await mailbox(app, client, "held@dealer.example") == []

        await db.execute(update(OutboundMail).values(lease_until=state.clock.now() - timedelta(seconds=1)))
        await db.commit()
        await sweep_lost(state)

        assert len(await mailbox(app, client, "held@dealer.example")) == 1
        [row] = await outbox(db, "held@dealer.example")
        assert (row.status, row.attempts) == (MailStatus.sent, 2)

    async def test_a_sent_mail_is_not_sent_again(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        await register(client, "once@dealer.example")
        [mail] = await outbox(db, "once@dealer.example")
        await self._age(db, mail, 3600)

        await sweep_lost(app.state.carpulse)
        await mailer.deliver(app.state.carpulse, str(mail.id))

        assert len(await mailbox(app, client, "once@dealer.example")) == 1
        assert confirmation_link((await mailbox(app, client, "once@dealer.example"))[0])
