from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import Account, AccountRole


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: uuid.UUID) -> Account | None:
        return await self.session.get(Account, account_id)

    async def get_by_username(self, username: str) -> Account | None:
        if "\x00" in username:
            return None  # no stored name has a NUL (PostgreSQL cannot hold one)
        result = await self.session.execute(select(Account).where(Account.username == username.lower()))
        return result.scalar_one_or_none()

    async def add(self, account: Account) -> Account:
        self.session.add(account)
        await self.session.flush()
        return account

    async def add_if_absent(self, username: str, password_hash: str, role: AccountRole, **columns: Any) -> bool:
        """Insert the account unless the username is taken (by anyone, at any moment); True if inserted.

        One statement, so two processes seeding (or two people registering) the same name cannot both insert it.
        """
        values = {**columns, "username": username.lower(), "password_hash": password_hash, "role": role}
        result = await self.session.execute(insert_ignoring_conflicts(self.session, Account.__table__, values))
        return bool(result.rowcount)  # type: ignore[attr-defined]
