"""Usage records and kept answers: every query scoped to the client (account) that made the calls."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import IdempotentResponse, UsageRecord


class UsageRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, record: UsageRecord) -> None:
        self.db.add(record)
        await self.db.flush()

    async def units_on(self, account_id: uuid.UUID, day: date) -> int:
        """The billable units a client used on one UTC day: what its quota counter is rebuilt from."""
        statement = select(func.coalesce(func.sum(UsageRecord.units), 0)).where(
            UsageRecord.account_id == account_id, UsageRecord.day == day
        )
        return int((await self.db.execute(statement)).scalar_one())

    async def grouped(self, account_id: uuid.UUID, first: date, last: date, group_by: str) -> list[dict[str, Any]]:
        """Calls, units and amounts per day, endpoint or key in [first, last], billed and unbilled apart."""
        column: Any = {"day": UsageRecord.day, "endpoint": UsageRecord.endpoint, "key": UsageRecord.api_key_id}[
            group_by
        ]
        billed = UsageRecord.invoice_id.is_not(None)
        statement = (
            select(
                column.label("group"),
                UsageRecord.currency,
                func.count().label("calls"),
                func.sum(UsageRecord.units).label("units"),
                func.sum(UsageRecord.amount_minor).label("amount_minor"),
                func.sum(case((billed, UsageRecord.units), else_=0)).label("billed_units"),
                func.sum(case((billed, UsageRecord.amount_minor), else_=0)).label("billed_amount_minor"),
            )
            .where(UsageRecord.account_id == account_id, UsageRecord.day >= first, UsageRecord.day <= last)
            .group_by(column, UsageRecord.currency)
            .order_by(column, UsageRecord.currency)
        )
        return [dict(row._mapping) for row in (await self.db.execute(statement)).all()]

    async def kept_answer(self, account_id: uuid.UUID, key: str, now: datetime) -> IdempotentResponse | None:
        statement = select(IdempotentResponse).where(
            IdempotentResponse.account_id == account_id,
            IdempotentResponse.key == key,
            IdempotentResponse.expires_at > now,
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def forget_expired_answer(self, account_id: uuid.UUID, key: str, now: datetime) -> None:
        """An answer kept past its window frees its key for a new request."""
        await self.db.execute(
            delete(IdempotentResponse).where(
                IdempotentResponse.account_id == account_id,
                IdempotentResponse.key == key,
                IdempotentResponse.expires_at <= now,
            )
        )

    async def keep_answer(self, answer: IdempotentResponse) -> None:
        self.db.add(answer)
        await self.db.flush()

    async def delete_expired_answers(self, now: datetime) -> int:
        result = await self.db.execute(delete(IdempotentResponse).where(IdempotentResponse.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)
