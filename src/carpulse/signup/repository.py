from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import EmailConfirmation


class EmailConfirmationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, account_id: uuid.UUID, token_hash: str, now: datetime, expires_at: datetime) -> None:
        self.session.add(
            EmailConfirmation(account_id=account_id, token_hash=token_hash, created_at=now, expires_at=expires_at)
        )
        await self.session.flush()

    async def by_hash(self, token_hash: str) -> EmailConfirmation | None:
        result = await self.session.execute(select(EmailConfirmation).where(EmailConfirmation.token_hash == token_hash))
        return result.scalar_one_or_none()

    async def use(self, confirmation_id: uuid.UUID, now: datetime) -> bool:
        """Stamp the token used unless it already is; True for the one caller that stamped it."""
        result = await self.session.execute(
            update(EmailConfirmation)
            .where(EmailConfirmation.id == confirmation_id, EmailConfirmation.used_at.is_(None))
            .values(used_at=now)
            .returning(EmailConfirmation.id)
        )
        return result.scalar_one_or_none() is not None

    async def drop_unused(self, account_id: uuid.UUID) -> None:
        """Forget the account's links not followed yet (a newer link replaces them, or the address is confirmed)."""
        await self.session.execute(
            delete(EmailConfirmation).where(
                EmailConfirmation.account_id == account_id, EmailConfirmation.used_at.is_(None)
            )
        )
