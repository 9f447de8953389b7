"""SMTP delivery through aiosmtplib (the only module that imports it)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from carpulse.config import MailSettings
from carpulse.mail.transport import MailMessage, MailNotSent, MailRejected


def build_message(message: MailMessage) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = message.sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(usegmt=True)
    domain = parseaddr(message.sender)[1].rpartition("@")[2] or None
    mail["Message-ID"] = message.message_id or make_msgid(domain=domain)
    # RFC 3834: no vacation replies to machine-sent mail.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    return mail


class SmtpTransport:
    name = "smtp"

    def __init__(self, settings: MailSettings) -> None:
        if settings.host is None:
            raise ValueError("SmtpTransport needs CARPULSE_MAIL__HOST")
        self.settings = settings

    async def send(self, message: MailMessage) -> None:
        settings = self.settings
        try:
            await aiosmtplib.send(
                build_message(message),
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=settings.password.get_secret_value() if settings.password else None,
                start_tls=settings.starttls,
                use_tls=False,
                timeout=settings.timeout_seconds,
            )
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError) as exc:
            codes = [refusal.code for refusal in getattr(exc, "recipients", [])] or [getattr(exc, "code", 0)]
            if all(500 <= code < 600 for code in codes):
                raise MailRejected(f"the SMTP server refused the mail: {exc}") from exc
            raise MailNotSent(f"the SMTP server deferred the mail: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailNotSent(f"SMTP delivery failed: {type(exc).__name__}: {exc}") from exc
