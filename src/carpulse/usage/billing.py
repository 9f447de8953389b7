"""Closing a client's unbilled usage up to a cutoff into one invoice, in one transaction.

The usage records are stamped with the invoice by one `UPDATE … RETURNING`, and the invoice's lines are
made from exactly the rows that statement returned: a call recorded meanwhile is either on this invoice or
left for the next, never on both and never lost. Two payments at once queue on the client's row; paying again
with the same cutoff returns the invoice it made; with nothing unbilled left, there is nothing to bill.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Account, DataClient, Invoice, UsageRecord
from carpulse.receipt.invoice import invoices
from carpulse.receipt.repository import InvoiceRepository
from carpulse.receipt.schemas import InvoiceLine
from carpulse.state import State
from carpulse.usage.errors import InvalidCutoff, NothingToBill


class BillingService:
    async def pay(
        self, db: AsyncSession, state: State, account_id: uuid.UUID, cutoff: datetime | None
    ) -> tuple[Invoice, bool]:
        """The invoice closing the client's unbilled usage before `cutoff` (default: now), and whether it is new."""
        if cutoff is not None and cutoff.tzinfo is None:
            raise InvalidCutoff("Give the cutoff with its UTC offset, e.g. 2026-12-01T00:00:00Z.")
        if cutoff is not None and cutoff > state.clock.now():
            raise InvalidCutoff("The cutoff is in the future: only usage that happened can be billed.")
        # Payments of one client queue here (a row lock on PostgreSQL; SQLite has one writer at a time), and
        # "now" is read after the wait: a payment that queued behind another bills what came after it.
        await db.execute(select(DataClient).where(DataClient.account_id == account_id).with_for_update())
        now = state.clock.now()
        cutoff = cutoff or now
        repository = InvoiceRepository(db)
        existing = await repository.closing_at(account_id, cutoff)
        if existing is not None:
            return existing, False
        last_end = await repository.last_end(account_id)
        if last_end is not None and cutoff < last_end:
            raise InvalidCutoff(f"Usage before {last_end.isoformat()} is invoiced already; choose a later cutoff.")
        account = await db.get(Account, account_id)
        if account is None:
            raise RuntimeError(f"no account {account_id}")
        invoice = await invoices.open(db, state.settings, account, last_end or cutoff, cutoff, now)
        stamped = (
            await db.execute(
                update(UsageRecord)
                .where(
                    UsageRecord.account_id == account_id,
                    UsageRecord.invoice_id.is_(None),
                    UsageRecord.occurred_at < cutoff,
                )
                .values(invoice_id=invoice.id)
                .returning(
                    UsageRecord.plan_code,
                    UsageRecord.endpoint,
                    UsageRecord.unit_price_minor,
                    UsageRecord.units,
                    UsageRecord.amount_minor,
                    UsageRecord.currency,
                    UsageRecord.occurred_at,
                )
                .execution_options(synchronize_session=False)
            )
        ).all()
        if not stamped:
            raise NothingToBill("Every call before the cutoff is on an invoice already; nothing is left to bill.")
        currencies = {row.currency for row in stamped}
        if len(currencies) != 1:
            raise RuntimeError(f"usage of one invoice in several currencies: {sorted(currencies)}")
        totals: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0])
        for row in stamped:
            total = totals[(row.plan_code, row.endpoint, row.unit_price_minor)]
            total[0] += row.units
            total[1] += row.amount_minor
        lines = [
            InvoiceLine(plan=plan, endpoint=endpoint, quantity=units, unit_price_minor=price, net_minor=amount)
            for (plan, endpoint, price), (units, amount) in sorted(totals.items())
        ]
        if last_end is None:
            invoice.period_start = min(row.occurred_at for row in stamped)
        await invoices.close(db, invoice, lines, currencies.pop(), len(stamped))
        return invoice, True


billing = BillingService()
