from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import InboundEvent


class InboundEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_new(
        self, provider: str, event_id: str, event_type: str, payload: str, now: datetime
    ) -> uuid.UUID | None:
        """Store a delivery unless (provider, event id) is already there; the new row's id, or None."""
        row_id = uuid.uuid4()
        statement = insert_ignoring_conflicts(
            self.session,
            InboundEvent,
            {
                "id": row_id,
                "provider": provider,
                "event_id": event_id,
                "event_type": event_type,
                "payload": payload,
                "received_at": now,
            },
        ).returning(InboundEvent.id)
        result = await self.session.execute(statement)
        inserted = result.scalar_one_or_none()
        return row_id if inserted is not None else None

    async def claim(self, row_id: uuid.UUID, now: datetime) -> InboundEvent | None:
        """The event if it is still unhandled, stamped handled in this transaction (so it runs once)."""
        result = await self.session.execute(
            update(InboundEvent)
            .where(InboundEvent.id == row_id, InboundEvent.handled_at.is_(None))
            .values(handled_at=now)
            .returning(InboundEvent.id)
        )
        if result.scalar_one_or_none() is None:
            return None
        return await self.session.get(InboundEvent, row_id)

    async def unhandled(self, older_than: datetime, limit: int = 500) -> list[uuid.UUID]:
        result = await self.session.execute(
            select(InboundEvent.id)
            .where(InboundEvent.handled_at.is_(None), InboundEvent.received_at < older_than)
            .order_by(InboundEvent.received_at)
            .limit(limit)
        )
        return list(result.scalars())
