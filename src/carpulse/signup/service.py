"""Registration, confirmation and resend, each answering the same whether or not the address has an account.

A registration hashes the password either way, and either way writes one mail to the address: a
confirmation link for a new account, or a note that someone tried to sign up with it. A link's token
has 256 random bits and is stored only as its SHA-256; it works once, within `signup.confirmation_ttl_seconds`.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.account.repository import AccountRepository
from carpulse.kit.logs import get_logger
from carpulse.kit.passwords import hash_password
from carpulse.kit.privacy import mask_email
from carpulse.mail.service import mailer
from carpulse.models import Account, AccountRole
from carpulse.signup import letters
from carpulse.signup.errors import ConfirmationTokenExpired, ConfirmationTokenInvalid
from carpulse.signup.letters import Letter
from carpulse.signup.repository import EmailConfirmationRepository
from carpulse.signup.schemas import Registration

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.signup")

CONFIRM_PATH = "/api/v1/auth/confirm"
RESEND_PATH = "/api/v1/auth/confirm/resend"
LOGIN_PATH = "/api/v1/auth/login"
# Where the mail's links go: the web console's pages (a person opens the mail); scripts use the API paths.
CONFIRM_PAGE_PATH = "/console/confirm"
RESEND_PAGE_PATH = "/console/resend"
LOGIN_PAGE_PATH = "/login"

# Runs in the registration's transaction with the new (unconfirmed) account: e.g. its plan.
AccountHook = Callable[[AsyncSession, Account], Awaitable[None]]


def _lifetime(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} minutes"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class SignupService:
    def __init__(self) -> None:
        self._on_registered: list[AccountHook] = []
        self._on_confirmed: list[AccountHook] = []

    def on_registered(self, hook: AccountHook) -> AccountHook:
        """Register what a new self-registered account gets, in the transaction that creates it."""
        if hook not in self._on_registered:
            self._on_registered.append(hook)
        return hook

    def on_confirmed(self, hook: AccountHook) -> AccountHook:
        """Register what confirming an address starts, in the transaction that confirms it (once per account)."""
        if hook not in self._on_confirmed:
            self._on_confirmed.append(hook)
        return hook

    async def register(self, db: AsyncSession, state: State, form: Registration) -> None:
        """Create the unconfirmed `api_client` account and mail its link; for a taken address, mail its owner."""
        now = state.clock.now()
        email = str(form.email)
        # ~50 ms of CPU off the event loop, paid for taken addresses too: the time tells nothing.
        password_hash = await asyncio.to_thread(hash_password, form.password)
        repository = AccountRepository(db)
        inserted = await repository.add_if_absent(
            email,
            password_hash,
            AccountRole.api_client,
            email=email,
            is_active=False,
            company_name=form.company_name,
            country=form.country,
            vat_number=form.vat_number,
        )
        account = await repository.get_by_username(email)
        if account is None:
            raise RuntimeError("the registered account was neither inserted nor found")
        if not inserted:
            await self._mail_attempt(db, state, account, now)
            log.info("signup.address_taken", account_id=str(account.id))
            return
        for hook in self._on_registered:
            await hook(db, account)
        await self._mail_link(db, state, account, now)
        log.info("signup.registered", account_id=str(account.id), country=form.country, to=mask_email(email))

    async def resend(self, db: AsyncSession, state: State, email: str) -> None:
        """A new link for an account still waiting for its confirmation; nothing for any other address."""
        account = await AccountRepository(db).get_by_username(email)
        if account is None or account.role is not AccountRole.api_client or account.email_confirmed_at is not None:
            log.info("signup.resend_ignored")
            return
        await EmailConfirmationRepository(db).drop_unused(account.id)
        await self._mail_link(db, state, account, state.clock.now())
        log.info("signup.link_resent", account_id=str(account.id))

    async def confirm(self, db: AsyncSession, state: State, token: str) -> Literal["confirmed", "already_confirmed"]:
        """Confirm the address a link was sent to; a link followed again (or after another) changes nothing."""
        now = state.clock.now()
        confirmations = EmailConfirmationRepository(db)
        confirmation = await confirmations.by_hash(token_hash(token))
        if confirmation is None:
            raise ConfirmationTokenInvalid(
                "This confirmation link is not valid: check that it was copied whole, or ask for a new one "
                f"with POST {RESEND_PATH} (a new link replaces the earlier ones)."
            )
        account = await AccountRepository(db).get(confirmation.account_id)
        if account is None:
            raise ConfirmationTokenInvalid("This confirmation link is not valid.")
        if confirmation.used_at is not None or account.email_confirmed_at is not None:
            return "already_confirmed"
        if confirmation.expires_at <= now:
            raise ConfirmationTokenExpired(
                f"This confirmation link expired at {confirmation.expires_at.isoformat()}; "
                f"ask for a new one with POST {RESEND_PATH}."
            )
        if not await confirmations.use(confirmation.id, now):
            return "already_confirmed"  # a concurrent follow of the same link won
        account.email_confirmed_at = now
        account.is_active = True
        await confirmations.drop_unused(account.id)
        for hook in self._on_confirmed:
            await hook(db, account)
        await db.flush()
        log.info("signup.confirmed", account_id=str(account.id))
        return "confirmed"

    async def _mail_link(self, db: AsyncSession, state: State, account: Account, now: datetime) -> None:
        ttl = state.settings.signup.confirmation_ttl_seconds
        token = secrets.token_urlsafe(32)
        await EmailConfirmationRepository(db).add(account.id, token_hash(token), now, now + timedelta(seconds=ttl))
        base = state.settings.base_url
        link = f"{base}{CONFIRM_PAGE_PATH}?{urlencode({'token': token})}"
        letter = letters.confirmation(
            account.company_name or account.username,
            link,
            _lifetime(ttl),
            resend_page=base + RESEND_PAGE_PATH,
            confirm_api=base + CONFIRM_PATH,
            resend_api=base + RESEND_PATH,
        )
        await self._send(db, account, letter, "signup.confirmation", now)

    async def _mail_attempt(self, db: AsyncSession, state: State, account: Account, now: datetime) -> None:
        base = state.settings.base_url
        letter = letters.already_registered(
            account.email_confirmed_at is not None or account.role is not AccountRole.api_client,
            base + LOGIN_PAGE_PATH,
            resend_page=base + RESEND_PAGE_PATH,
            resend_api=base + RESEND_PATH,
        )
        await self._send(db, account, letter, "signup.address_taken", now)

    async def _send(self, db: AsyncSession, account: Account, letter: Letter, kind: str, now: datetime) -> None:
        await mailer.queue(
            db,
            to=self._address(account),
            subject=letter.subject,
            text=letter.text,
            links=letter.links,
            kind=kind,
            now=now,
        )

    @staticmethod
    def _address(account: Account) -> str:
        return account.email or account.username


signups = SignupService()
