"""Signing drivers in with Google, keeping them signed in with rotating refresh tokens, and the local driver.

Whoever Google vouches for must also have a verified address on the allowlist (`AUTH_ALLOWED_EMAILS`:
exact addresses and `@domain` entries); only then is a driver account found or created, keyed by Google's
`sub`. Refresh tokens are single use: each refresh answers a new one of the same family, and a used
token presented again revokes the family (a stolen copy and its owner both sign in again).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.auth.google.client import GoogleIdentity
from carpulse.auth.google.schemas import IdTokenClaims
from carpulse.auth.service import auth
from carpulse.config import Settings
from carpulse.driver.errors import (
    DriverDisabled,
    DriverIdentityConflict,
    EmailNotAllowed,
    EmailUnverified,
    RefreshTokenInvalid,
    RefreshTokenReused,
    SignInBrowserMismatch,
    SignInDeclined,
    SignInStateInvalid,
)
from carpulse.driver.repository import DriverRepository, SignInStateRepository
from carpulse.driver.schemas import DriverRead, DriverTokens, InitiateResponse
from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.kit.oauth import pkce_challenge
from carpulse.models import Account, AccountRole

log = get_logger("carpulse.driver")

GOOGLE = "google"
# The one account every Logbook call acts as while sign-in is off (development only).
LOCAL_DRIVER_USERNAME = "local:driver"
HANDOFF_PREFIX = "page-handoff:"
HANDOFF_SECONDS = 60


def email_allowed(email: str, entries: list[str]) -> bool:
    """Whether `email` is on the allowlist: an exact address, or `@domain` for every address at that domain
    (not its subdomains). Case does not matter; an empty list lets nobody in."""
    address = email.strip().lower()
    _, at, domain = address.rpartition("@")
    if not at:
        return False
    return any(address == entry if not entry.startswith("@") else domain == entry[1:] for entry in entries)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _binding_digest(binding: str) -> str:
    return hashlib.sha256(f"driver-sign-in-binding:{binding}".encode()).hexdigest()


@dataclass(frozen=True)
class WebSignIn:
    """A finished web sign-in: our tokens, and where the browser goes next."""

    tokens: DriverTokens
    refresh_token: str
    redirect_to: str
    # Started by the web app's sign-in page: its session is the page cookie, not the refresh-token cookie.
    page: bool = False


class DriverService:
    # --- the web flow -------------------------------------------------------------------------------

    async def initiate(
        self,
        states: SignInStateRepository,
        google: GoogleIdentity,
        settings: Settings,
        redirect_to: str | None,
        binding: str,
        *,
        page: bool = False,
    ) -> InitiateResponse:
        """Keep a state (bound to the browser's `binding`), a PKCE verifier and a nonce; answer Google's URL."""
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        nonce = secrets.token_urlsafe(24)
        ttl = settings.logbook_auth.state_ttl_seconds
        record = {
            "verifier": verifier,
            "nonce": nonce,
            "redirect_to": redirect_to,
            "binding": _binding_digest(binding),
            "page": page,
        }
        await states.put(state, record, ttl)
        url = await google.authorization_url(state, pkce_challenge(verifier), nonce)
        return InitiateResponse(authorization_url=url, expires_in=ttl)

    async def complete(
        self,
        db: AsyncSession,
        states: SignInStateRepository,
        google: GoogleIdentity,
        settings: Settings,
        clock: Clock,
        *,
        code: str | None,
        state: str | None,
        error: str | None,
        binding: str | None,
    ) -> WebSignIn:
        """Google's redirect back: the state taken (once), the code exchanged, the ID token verified."""
        pending = await states.take(state) if state else None
        if error:
            log.info("driver.sign_in_declined", error=error[:64])
            raise SignInDeclined("Google did not sign you in (cancelled or refused); nothing changed.")
        if pending is None:
            raise SignInStateInvalid("This sign-in link was already used or has expired; sign in again.")
        if binding is None or not hmac.compare_digest(_binding_digest(binding), str(pending.get("binding"))):
            log.warning("driver.callback_from_another_browser")
            raise SignInBrowserMismatch("This sign-in was started in another browser; sign in again here.")
        if not code:
            raise SignInStateInvalid("Google's answer carries no authorization code; sign in again.")
        answer = await google.exchange_code(code, str(pending["verifier"]))
        claims = await google.verify_id_token(answer.id_token, nonce=str(pending["nonce"]))
        account = await self._admit(db, settings, clock, claims, method="web")
        tokens, refresh_token = await self._issue(db, settings, clock, account, uuid.uuid4())
        return WebSignIn(tokens, refresh_token, pending.get("redirect_to") or "/", page=bool(pending.get("page")))

    async def hand_over(self, states: SignInStateRepository, signed_in: WebSignIn) -> str:
        """A one-time ticket (a minute) the web app's page trades for the access token of a finished sign-in:
        the token itself never travels in a URL."""
        ticket = secrets.token_urlsafe(32)
        record = {
            "access_token": signed_in.tokens.access_token,
            "expires_in": signed_in.tokens.expires_in,
            "redirect_to": signed_in.redirect_to,
        }
        await states.put(HANDOFF_PREFIX + ticket, record, HANDOFF_SECONDS)
        return ticket

    async def take_handoff(self, states: SignInStateRepository, ticket: str) -> tuple[str, int, str] | None:
        """The (access token, lifetime, where next) a ticket stands for; None once used or expired."""
        record = await states.take(HANDOFF_PREFIX + ticket)
        if record is None:
            return None
        return str(record["access_token"]), int(record["expires_in"]), str(record.get("redirect_to") or "/")

    # --- phones and watches -------------------------------------------------------------------------

    async def sign_in_with_id_token(
        self, db: AsyncSession, google: GoogleIdentity, settings: Settings, clock: Clock, id_token: str
    ) -> DriverTokens:
        """An ID token a phone got from Google Sign-In, verified here, for our tokens."""
        claims = await google.verify_id_token(id_token)
        account = await self._admit(db, settings, clock, claims, method="id_token")
        tokens, _ = await self._issue(db, settings, clock, account, uuid.uuid4())
        return tokens

    async def _admit(
        self, db: AsyncSession, settings: Settings, clock: Clock, claims: IdTokenClaims, *, method: str
    ) -> Account:
        """The driver Google vouches for, created on first sign-in; refused (and nothing stored) unless Google
        verified the address and the allowlist names it."""
        if not claims.email:
            raise EmailUnverified("Google did not share an e-mail address; sign in with the e-mail scope.")
        if not claims.email_verified:
            log.info("driver.sign_in_refused", reason="email_unverified", method=method, email=claims.email)
            raise EmailUnverified("Google has not verified this account's e-mail address; verify it, then retry.")
        if not email_allowed(claims.email, settings.logbook_auth.allowed_emails):
            log.info("driver.sign_in_refused", reason="not_allowed", method=method, email=claims.email)
            raise EmailNotAllowed("This Google account's address may not use this Logbook.")
        repository = DriverRepository(db)
        now = clock.now()
        identity = await repository.identity(GOOGLE, claims.sub)
        created = identity is None
        if identity is None:
            account = await repository.ensure_account(f"{GOOGLE}:{claims.sub}", claims.email.lower())
            if account.role is not AccountRole.driver:
                raise DriverIdentityConflict("This Google identity's account name is taken by another account.")
            identity = await repository.ensure_identity(account, GOOGLE, claims.sub)
        found = await repository.account(identity.account_id)
        if found is None:
            raise RefreshTokenInvalid("The account behind this identity no longer exists.")
        if not found.is_active:
            raise DriverDisabled("This driver account is disabled.")
        identity.email, identity.name, identity.picture = claims.email.lower(), claims.name, claims.picture
        identity.last_sign_in_at = now
        found.email = claims.email.lower()
        found.last_login_at = now
        await db.flush()
        log.info("driver.signed_in", account_id=str(found.id), method=method, created=created)
        return found

    # --- our tokens ---------------------------------------------------------------------------------

    async def _issue(
        self, db: AsyncSession, settings: Settings, clock: Clock, account: Account, family_id: uuid.UUID
    ) -> tuple[DriverTokens, str]:
        now = clock.now()
        lifetime = timedelta(days=settings.logbook_auth.refresh_token_days)
        refresh_token = secrets.token_urlsafe(32)
        DriverRepository(db).add_refresh_token(account.id, family_id, _digest(refresh_token), now, now + lifetime)
        await db.flush()
        access = auth.issue_token(settings.auth, account, clock)
        tokens = DriverTokens(
            access_token=access.access_token,
            expires_in=access.expires_in,
            refresh_token=refresh_token,
            refresh_expires_in=int(lifetime.total_seconds()),
        )
        return tokens, refresh_token

    async def refresh(self, db: AsyncSession, settings: Settings, clock: Clock, presented: str) -> DriverTokens:
        """A new access token and the refresh token's successor; the presented one is spent.

        Raises `RefreshTokenReused` after revoking the family (in this transaction: the caller must commit it).
        """
        repository = DriverRepository(db)
        row = await repository.refresh_token(_digest(presented))
        now = clock.now()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise RefreshTokenInvalid("This refresh token is unknown, expired or revoked; sign in again.")
        if row.used_at is not None or not await repository.use_refresh_token(row.id, now):
            revoked = await repository.revoke_family(row.family_id, now)
            log.warning("driver.refresh_token_reused", account_id=str(row.account_id), revoked=revoked)
            raise RefreshTokenReused(
                "This refresh token was used already: this sign-in is ended on every device; sign in again."
            )
        account = await repository.account(row.account_id)
        if account is None or not account.is_active or account.role is not AccountRole.driver:
            raise RefreshTokenInvalid("The account behind this refresh token no longer exists or is disabled.")
        identity = await repository.identity_of(account.id)
        if identity is not None and not email_allowed(account.email or "", settings.logbook_auth.allowed_emails):
            # Taken off the allowlist since signing in: no new tokens.
            raise EmailNotAllowed("This Google account's address may no longer use this Logbook.")
        tokens, _ = await self._issue(db, settings, clock, account, row.family_id)
        return tokens

    async def sign_out(self, db: AsyncSession, clock: Clock, presented: str) -> None:
        """End the sign-in the refresh token belongs to (every token of its family); unknown tokens are ignored."""
        repository = DriverRepository(db)
        row = await repository.refresh_token(_digest(presented))
        if row is None:
            return
        revoked = await repository.revoke_family(row.family_id, clock.now())
        log.info("driver.signed_out", account_id=str(row.account_id), revoked=revoked)

    # --- who is driving -----------------------------------------------------------------------------

    async def local_driver(self, db: AsyncSession) -> Account:
        """The implicit driver while sign-in is off: created by the first call (two first calls make one)."""
        account = await DriverRepository(db).ensure_account(LOCAL_DRIVER_USERNAME, None)
        if account.role is not AccountRole.driver:
            raise DriverIdentityConflict(f"The account {LOCAL_DRIVER_USERNAME!r} exists and is no driver.")
        return account

    async def describe(self, db: AsyncSession, account: Account) -> DriverRead:
        identity = await DriverRepository(db).identity_of(account.id)
        return DriverRead(
            id=account.id,
            email=account.email,
            name=identity.name if identity else None,
            picture=identity.picture if identity else None,
            sign_in="google" if identity is not None else "local",
            created_at=account.created_at,
            last_login_at=account.last_login_at,
        )


driver = DriverService()
