"""API keys: every query, scoped to the account that owns them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Account, ApiKey


class ApiKeyRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, key: ApiKey) -> ApiKey:
        self.db.add(key)
        await self.db.flush()
        return key

    async def of_account(self, account_id: uuid.UUID) -> list[ApiKey]:
        statement = select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at.desc())
        return list((await self.db.execute(statement)).scalars())

    async def get_owned(self, account_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
        statement = select(ApiKey).where(ApiKey.id == key_id, ApiKey.account_id == account_id)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def by_hash(self, secret_hash: str) -> tuple[ApiKey, Account] | None:
        """The key with this HMAC and its account, in one read."""
        statement = select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id)
        row = (await self.db.execute(statement.where(ApiKey.secret_hash == secret_hash))).one_or_none()
        return (row[0], row[1]) if row is not None else None

    async def touch(self, key_id: uuid.UUID, at: datetime) -> None:
        await self.db.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))
