from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import CreditNote, CreditNoteSequence, Invoice, InvoiceSequence, Receipt, ReceiptSequence


class ReceiptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_number(self, year: int) -> int:
        """The next number of `year`'s receipt series, taken inside the caller's transaction: a rollback
        returns it, and concurrent issuers queue on the row lock, so the series has no gaps."""
        return await self._next_in(ReceiptSequence, year)

    async def _next_in(self, series: type[ReceiptSequence | CreditNoteSequence | InvoiceSequence], year: int) -> int:
        await self.session.execute(insert_ignoring_conflicts(self.session, series, {"year": year, "last_number": 0}))
        result = await self.session.execute(
            update(series)
            .where(series.year == year)
            .values(last_number=series.last_number + 1)
            .returning(series.last_number)
        )
        return int(result.scalar_one())

    async def for_order(self, order_id: str) -> Receipt | None:
        return (await self.session.execute(select(Receipt).where(Receipt.order_id == order_id))).scalar_one_or_none()

    async def by_id_or_order(self, key: str) -> Receipt | None:
        result = await self.session.execute(select(Receipt).where(or_(Receipt.id == key, Receipt.order_id == key)))
        return result.scalars().first()

    async def next_credit_note_number(self, year: int) -> int:
        """The next number of `year`'s credit-note series: its own series, taken as gap-free as receipts'."""
        return await self._next_in(CreditNoteSequence, year)

    async def next_invoice_number(self, year: int) -> int:
        """The next number of `year`'s Data API invoice series, as gap-free as receipts'."""
        return await self._next_in(InvoiceSequence, year)

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


class InvoiceRepository:
    """Data API invoices, scoped to the client (account) they bill."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, invoice: Invoice) -> None:
        self.session.add(invoice)
        await self.session.flush()

    async def of_account(self, account_id: uuid.UUID) -> list[Invoice]:
        statement = select(Invoice).where(Invoice.account_id == account_id).order_by(Invoice.issued_at.desc())
        return list((await self.session.execute(statement)).scalars())

    async def owned(self, account_id: uuid.UUID, invoice_id: str) -> Invoice | None:
        statement = select(Invoice).where(Invoice.id == invoice_id, Invoice.account_id == account_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get(self, invoice_id: str) -> Invoice | None:
        return await self.session.get(Invoice, invoice_id)

    async def closing_at(self, account_id: uuid.UUID, period_end: datetime) -> Invoice | None:
        statement = select(Invoice).where(Invoice.account_id == account_id, Invoice.period_end == period_end)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def last_end(self, account_id: uuid.UUID) -> datetime | None:
        statement = select(func.max(Invoice.period_end)).where(Invoice.account_id == account_id)
        value: datetime | None = (await self.session.execute(statement)).scalar_one()
        return value
