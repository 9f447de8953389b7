"""Login and JWT access tokens (HS256 with exp, iat, iss, aud, sub, jti)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.account.repository import AccountRepository
from carpulse.auth.errors import EmailUnconfirmed, InvalidCredentials, InvalidToken
from carpulse.auth.schemas import AccessToken
from carpulse.config import AuthSettings
from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.kit.passwords import verify_password
from carpulse.models import Account, AccountRole

ALGORITHM = "HS256"
log = get_logger("carpulse.auth")


class AuthService:
    async def authenticate(self, session: AsyncSession, username: str, password: str, clock: Clock) -> Account:
        """The active account these credentials open; the same work and answer for every failure."""
        account = await AccountRepository(session).get_by_username(username)
        hashed = account.password_hash if account is not None else None
        # Hash checks cost ~50 ms of CPU; keep them off the event loop.
        valid = await asyncio.to_thread(verify_password, password, hashed)
        if account is None or not valid:
            log.info("auth.login_failed", reason="credentials")
            raise InvalidCredentials("The username or password is incorrect.")
        # Said only to whoever knows the password: to anyone else an unconfirmed account is no account.
        if account.role is AccountRole.api_client and account.email_confirmed_at is None:
            log.info("auth.login_failed", reason="unconfirmed", account_id=str(account.id))
            raise EmailUnconfirmed(
                "Confirm the e-mail address first: follow the link we sent to it, "
                "or ask for a new one with POST /api/v1/auth/confirm/resend."
            )
        if not account.is_active:
            log.info("auth.login_failed", reason="credentials")
            raise InvalidCredentials("The username or password is incorrect.")
        account.last_login_at = clock.now()
        await session.flush()
        log.info("auth.login_succeeded", account_id=str(account.id))
        return account

    def issue_token(
        self, settings: AuthSettings, account: Account, clock: Clock, lifetime: timedelta | None = None
    ) -> AccessToken:
        """A signed access token for `account`, valid `lifetime` (default: the API's access-token lifetime)."""
        now = clock.now()
        lifetime = lifetime or timedelta(minutes=settings.jwt_access_token_expire_minutes)
        claims = {
            "sub": str(account.id),
            "role": account.role.value,
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        token = jwt.encode(claims, settings.jwt_secret_key.get_secret_value(), algorithm=ALGORITHM)
        return AccessToken(access_token=token, expires_in=int(lifetime.total_seconds()))

    def decode_token(self, settings: AuthSettings, token: str, clock: Clock) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                settings.jwt_secret_key.get_secret_value(),
                algorithms=[ALGORITHM],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The token has expired; log in again.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("The token is not valid.") from exc
        if claims["exp"] < clock.now().timestamp() - 5:
            raise InvalidToken("The token has expired; log in again.")
        return claims

    async def account_for_token(
        self, session: AsyncSession, settings: AuthSettings, token: str, clock: Clock
    ) -> Account:
        claims = self.decode_token(settings, token, clock)
        try:
            account_id = uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise InvalidToken("The token is not valid.") from exc
        account = await AccountRepository(session).get(account_id)
        if account is None or not account.is_active:
            raise InvalidToken("The account behind this token no longer exists or is disabled.")
        return account


auth = AuthService()
