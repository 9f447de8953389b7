from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import MailStatus, OutboundMail


class OutboundMailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, mail: OutboundMail) -> OutboundMail:
        self.session.add(mail)
        await self.session.flush()
        return mail

    async def get(self, mail_id: uuid.UUID) -> OutboundMail | None:
        return await self.session.get(OutboundMail, mail_id)

    async def claim(self, mail_id: uuid.UUID, now: datetime, lease_until: datetime) -> OutboundMail | None:
        """The mail if it is due and nobody holds it, leased to the caller with one more attempt counted."""
        result = await self.session.execute(
            update(OutboundMail)
            .where(
                OutboundMail.id == mail_id,
                OutboundMail.status == MailStatus.pending,
                OutboundMail.next_attempt_at <= now,
                or_(OutboundMail.lease_until.is_(None), OutboundMail.lease_until < now),
            )
            .values(lease_until=lease_until, attempts=OutboundMail.attempts + 1, updated_at=now)
            .returning(OutboundMail.id)
        )
        if result.scalar_one_or_none() is None:
            return None
        mail = await self.session.get(OutboundMail, mail_id, populate_existing=True)
        return mail

    async def settle(self, mail_id: uuid.UUID, now: datetime, **values: Any) -> None:
        await self.session.execute(
            update(OutboundMail).where(OutboundMail.id == mail_id).values(lease_until=None, updated_at=now, **values)
        )

    async def lost(self, due_before: datetime, now: datetime, limit: int = 500) -> list[uuid.UUID]:
        """Pending mail due for a while that nobody holds: its job was lost (or its worker died)."""
        result = await self.session.execute(
            select(OutboundMail.id)
            .where(
                OutboundMail.status == MailStatus.pending,
                OutboundMail.next_attempt_at < due_before,
                or_(OutboundMail.lease_until.is_(None), OutboundMail.lease_until < now),
            )
            .order_by(OutboundMail.next_attempt_at)
            .limit(limit)
        )
        return list(result.scalars())
