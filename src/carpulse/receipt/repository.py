from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import Receipt, ReceiptSequence


class ReceiptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_number(self, year: int) -> int:
        """The next number of `year`'s series, taken inside the caller's transaction: a rollback
        returns it, and concurrent issuers queue on the row lock, so the series has no gaps."""
        await self.session.execute(
            insert_ignoring_conflicts(self.session, ReceiptSequence, {"year": year, "last_number": 0})
        )
        result = await self.session.execute(
            update(ReceiptSequence)
            .where(ReceiptSequence.year == year)
            .values(last_number=ReceiptSequence.last_number + 1)
            .returning(ReceiptSequence.last_number)
        )
        return int(result.scalar_one())

    async def for_order(self, order_id: str) -> Receipt | None:
        return (await self.session.execute(select(Receipt).where(Receipt.order_id == order_id))).scalar_one_or_none()

    async def by_id_or_order(self, key: str) -> Receipt | None:
        result = await self.session.execute(select(Receipt).where(or_(Receipt.id == key, Receipt.order_id == key)))
        return result.scalars().first()
