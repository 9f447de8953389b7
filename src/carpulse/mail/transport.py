"""How a mail leaves: SMTP in production, the sandbox's mailbox when the sandbox is on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True)
class MailMessage:
    sender: str
    to: str
    subject: str
    text: str
    links: tuple[str, ...] = ()
    message_id: str | None = None


class MailNotSent(Exception):
    """A failure worth trying again later (the server is down, busy, or answered 4xx)."""


class MailRejected(MailNotSent):
    """The server refused this mail for good (5xx on the sender or the recipient): retrying cannot help."""


class MailTransport(Protocol):
    name: str

    async def send(self, message: MailMessage) -> None: ...


class SandboxTransport:
    """Hands the mail to the sandbox's mailbox (`/_sandbox/mail`), where scripts and tests read it."""

    name = "sandbox"

    def __init__(self, http: httpx.AsyncClient, sandbox_root: str, timeout_seconds: float) -> None:
        self.http = http
        self.url = f"{sandbox_root}/mail/messages"
        self.timeout_seconds = timeout_seconds

    async def send(self, message: MailMessage) -> None:
        body = {
            "from": message.sender,
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "message_id": message.message_id,
        }
        try:
            response = await self.http.post(self.url, json=body, timeout=self.timeout_seconds)
        except httpx.HTTPError as exc:
            raise MailNotSent(f"the sandbox mailbox did not answer: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise MailNotSent(f"the sandbox mailbox answered {response.status_code}")
        if response.status_code >= 400:
            raise MailRejected(f"the sandbox mailbox refused the mail: {response.status_code} {response.text[:200]}")


class Unconfigured:
    """No SMTP server is configured (development without the sandbox): every send fails, to be retried."""

    name = "unconfigured"

    async def send(self, message: MailMessage) -> None:
        raise MailNotSent("no mail server: set CARPULSE_MAIL__HOST and CARPULSE_MAIL__FROM, or enable the sandbox")
