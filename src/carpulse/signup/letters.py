"""The texts of the sign-up mails (plain text: every link is written out whole)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    links: list[str]


def confirmation(
    company_name: str, link: str, lifetime: str, *, resend_page: str, confirm_api: str, resend_api: str
) -> Letter:
    text = (
        "Hello,\n\n"
        f"this address was used to sign up {company_name} for the Car Pulse Data API.\n"
        "To confirm the address and activate the account, open this link:\n\n"
        f"{link}\n\n"
        f"The link works once, for {lifetime}. Scripts can POST the link's token to {confirm_api} instead.\n"
        f"If it has expired, ask for a new one at {resend_page} (or POST your address to {resend_api}).\n\n"
        "If you did not sign up, ignore this mail: without the confirmation nobody can use the account.\n\n"
        "Car Pulse\n"
    )
    return Letter(subject="Confirm your Car Pulse Data API account", text=text, links=[link, resend_page])


def already_registered(confirmed: bool, login_url: str, *, resend_page: str, resend_api: str) -> Letter:
    if confirmed:
        next_step = (
            "If it was you: your account already exists, so sign in instead, at\n"
            f"{login_url}\n"
            "If you have forgotten your password, use the password reset rather than signing up again.\n"
        )
    else:
        next_step = (
            "If it was you: the account is waiting for its address to be confirmed. We did not send a new link\n"
            f"with this attempt; to get one, open\n{resend_page}\n(scripts: POST your address to {resend_api})\n"
        )
    text = (
        "Hello,\n\n"
        "someone just tried to sign up for the Car Pulse Data API with this address, which already has an "
        "account. Nothing was changed.\n\n"
        f"{next_step}\n"
        "If it was not you, you can ignore this mail: your account and its password are unchanged.\n\n"
        "Car Pulse\n"
    )
    return Letter(subject="Sign-up attempt with your Car Pulse address", text=text, links=[login_url, resend_page])
