"""Driver accounts, their provider identities and their refresh tokens (SQL); sign-in states (ephemeral)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.kit.ephemeral import EphemeralStore
from carpulse.models import Account, AccountRole, DriverIdentity, DriverRefreshToken

STATE_PREFIX = "driver:google-state:"


class DriverRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def identity(self, provider: str, subject: str) -> DriverIdentity | None:
        statement = select(DriverIdentity).where(DriverIdentity.provider == provider, DriverIdentity.subject == subject)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def identity_of(self, account_id: uuid.UUID) -> DriverIdentity | None:
        statement = select(DriverIdentity).where(DriverIdentity.account_id == account_id)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def account(self, account_id: uuid.UUID) -> Account | None:
        return await self.db.get(Account, account_id)

    async def ensure_account(self, username: str, email: str | None) -> Account:
        """The account named `username`, inserted unless present: one statement, so two first sign-ins of the
        same person (or two first calls of the local driver) end with one account."""
        values = {"username": username, "email": email, "role": AccountRole.driver, "is_active": True}
        await self.db.execute(insert_ignoring_conflicts(self.db, Account.__table__, values))
        found = (await self.db.execute(select(Account).where(Account.username == username))).scalar_one()
        return found

    async def ensure_identity(self, account: Account, provider: str, subject: str) -> DriverIdentity:
        values = {"id": uuid.uuid4(), "account_id": account.id, "provider": provider, "subject": subject}
        await self.db.execute(insert_ignoring_conflicts(self.db, DriverIdentity.__table__, values))
        found = await self.identity(provider, subject)
        if found is None:
            raise RuntimeError("the driver identity was neither inserted nor found")
        return found

    # --- refresh tokens -----------------------------------------------------------------------------

    def add_refresh_token(
        self, account_id: uuid.UUID, family_id: uuid.UUID, token_hash: str, now: datetime, expires_at: datetime
    ) -> DriverRefreshToken:
        row = DriverRefreshToken(
            account_id=account_id, family_id=family_id, token_hash=token_hash, created_at=now, expires_at=expires_at
        )
        self.db.add(row)
        return row

    async def refresh_token(self, token_hash: str) -> DriverRefreshToken | None:
        statement = select(DriverRefreshToken).where(DriverRefreshToken.token_hash == token_hash)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def use_refresh_token(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Stamp the token used unless it already is (or is revoked); True for the one caller that stamped it."""
        statement = (
            update(DriverRefreshToken)
            .where(
                DriverRefreshToken.id == token_id,
                DriverRefreshToken.used_at.is_(None),
                DriverRefreshToken.revoked_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.db.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> int:
        statement = (
            update(DriverRefreshToken)
            .where(DriverRefreshToken.family_id == family_id, DriverRefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.db.execute(statement)
        return int(result.rowcount)  # type: ignore[attr-defined]


class SignInStateRepository:
    """A web sign-in's state, PKCE verifier and nonce, until its callback takes them (once)."""

    def __init__(self, store: EphemeralStore) -> None:
        self.store = store

    async def put(self, state: str, data: dict[str, Any], ttl_seconds: float) -> None:
        await self.store.set(STATE_PREFIX + state, json.dumps(data), ttl_seconds)

    async def take(self, state: str) -> dict[str, Any] | None:
        raw = await self.store.take(STATE_PREFIX + state)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data
