from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import CreditNote, CreditNoteSequence, Receipt, ReceiptSequence


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

    async def next_credit_note_number(self, year: int) -> int:
        """The next number of `year`'s credit-note series: its own series, taken as gap-free as receipts'."""
        await self.session.execute(
            insert_ignoring_conflicts(self.session, CreditNoteSequence, {"year": year, "last_number": 0})
        )
        result = await self.session.execute(
            update(CreditNoteSequence)
            .where(CreditNoteSequence.year == year)
            .values(last_number=CreditNoteSequence.last_number + 1)
            .returning(CreditNoteSequence.last_number)
        )
        return int(result.scalar_one())

    async def credit_note_for_receipt(self, receipt_id: str) -> CreditNote | None:
        result = await self.session.execute(select(CreditNote).where(CreditNote.receipt_id == receipt_id))
        return result.scalar_one_or_none()

    async def credit_note_for_order(self, order_id: str) -> CreditNote | None:
        result = await self.session.execute(select(CreditNote).where(CreditNote.order_id == order_id))
        return result.scalars().first()

    async def credit_note(self, key: str) -> CreditNote | None:
        """By the credit note's own id or its order's id."""
        result = await self.session.execute(
            select(CreditNote).where(or_(CreditNote.id == key, CreditNote.order_id == key))
        )
        return result.scalars().first()
