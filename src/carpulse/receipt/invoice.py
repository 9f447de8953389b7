"""Data API invoices: numbered gap-free in their own series, with the VAT rule for a business buyer.

The seller is Finnish, and what it sells (data over an API) is a service. The rule implemented:

- a buyer in Finland pays Finnish VAT (the general rate, `pricing.vat_rate_percent`);
- a buyer in another EU member state with a VAT number is reverse charged: no VAT on the invoice, the buyer's
  VAT number and the reverse-charge notice on it (VAT Directive 2006/112/EC art. 44 and 196; AVL 65 §);
- a buyer in another EU member state without a VAT number is treated as not VAT-registered and pays Finnish
  VAT (the seed's rule; above the EU's EUR 10,000 threshold the OSS destination rate would apply instead);
- a buyer outside the EU pays no Finnish VAT: the place of supply is the buyer's country (art. 44).

Plan prices are net; an invoice adds VAT to the total of its lines, half up to the cent.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.eu.vat import MEMBER_STATES

from carpulse.config import Settings
from carpulse.kit.money import percent_of
from carpulse.models import Account, Invoice
from carpulse.receipt.errors import InvoiceNotFound
from carpulse.receipt.repository import InvoiceRepository, ReceiptRepository
from carpulse.receipt.schemas import Invoice as InvoiceOut
from carpulse.receipt.schemas import InvoiceBuyer, InvoiceLine
from carpulse.receipt.service import RECEIPT_TIME_ZONE, seller_of

# Northern Ireland (XI) is in the EU's VAT area for goods only; for services it is the United Kingdom.
EU_SERVICE_COUNTRIES = frozenset(code.upper() for code in MEMBER_STATES) - {"XI"}
SELLER_COUNTRY = "FI"
REVERSE_CHARGE_NOTE = "Reverse charge: VAT to be accounted for by the buyer (VAT Directive 2006/112/EC, art. 196)."
OUTSIDE_EU_NOTE = "Not subject to Finnish VAT: place of supply outside the EU (VAT Directive 2006/112/EC, art. 44)."


@dataclass(frozen=True)
class VatTreatment:
    name: str  # finnish_vat, reverse_charge, outside_eu
    rate: Decimal
    note: str | None


def vat_treatment(country: str | None, vat_number: str | None, finnish_rate: Decimal) -> VatTreatment:
    """How VAT applies to a business buyer in `country` with or without a VAT number (see the module)."""
    where = (country or SELLER_COUNTRY).upper()
    if where == SELLER_COUNTRY:
        return VatTreatment("finnish_vat", finnish_rate, None)
    if where in EU_SERVICE_COUNTRIES:
        if vat_number:
            return VatTreatment("reverse_charge", Decimal(0), REVERSE_CHARGE_NOTE)
        return VatTreatment("finnish_vat", finnish_rate, None)
    return VatTreatment("outside_eu", Decimal(0), OUTSIDE_EU_NOTE)


class InvoiceService:
    async def open(
        self,
        db: AsyncSession,
        settings: Settings,
        buyer: Account,
        period_start: datetime,
        period_end: datetime,
        now: datetime,
    ) -> Invoice:
        """A numbered invoice for `buyer`, its lines still to come (`close`): numbered in the caller's
        transaction, so an invoice that bills nothing is rolled back with its number."""
        # The series follows the Finnish calendar year the invoice is dated in, as receipts' do.
        year = now.astimezone(RECEIPT_TIME_ZONE).year
        sequence = await ReceiptRepository(db).next_invoice_number(year)
        treatment = vat_treatment(buyer.country, buyer.vat_number, settings.pricing.vat_rate_percent)
        invoice = Invoice(
            id=secrets.token_urlsafe(32),
            account_id=buyer.id,
            number=f"DAT-{year}-{sequence:06d}",
            year=year,
            sequence=sequence,
            issued_at=now,
            period_start=period_start,
            period_end=period_end,
            seller=seller_of(settings.company).model_dump(),
            buyer=InvoiceBuyer(
                company_name=buyer.company_name,
                email=buyer.email or buyer.username,
                country=buyer.country,
                vat_number=buyer.vat_number,
            ).model_dump(),
            lines=[],
            net_minor=0,
            vat_treatment=treatment.name,
            vat_rate=treatment.rate,
            vat_minor=0,
            gross_minor=0,
            currency="EUR",
            usage_count=0,
        )
        await InvoiceRepository(db).add(invoice)
        return invoice

    async def close(
        self, db: AsyncSession, invoice: Invoice, lines: list[InvoiceLine], currency: str, usage_count: int
    ) -> Invoice:
        """Put the lines on an opened invoice and total it: net, VAT at its rate (half up), gross."""
        net = sum(line.net_minor for line in lines)
        vat = percent_of(net, Decimal(invoice.vat_rate))
        invoice.lines = [line.model_dump() for line in lines]
        invoice.currency = currency
        invoice.net_minor = net
        invoice.vat_minor = vat
        invoice.gross_minor = net + vat
        invoice.usage_count = usage_count
        await db.flush()
        return invoice

    def read(self, invoice: Invoice, pdf_path: str) -> InvoiceOut:
        treatment = {"reverse_charge": REVERSE_CHARGE_NOTE, "outside_eu": OUTSIDE_EU_NOTE}
        return InvoiceOut.model_validate(
            {
                "id": invoice.id,
                "number": invoice.number,
                "issued_at": invoice.issued_at,
                "period_start": invoice.period_start,
                "period_end": invoice.period_end,
                "seller": invoice.seller,
                "buyer": invoice.buyer,
                "lines": invoice.lines,
                "currency": invoice.currency,
                "net_minor": invoice.net_minor,
                "vat_treatment": invoice.vat_treatment,
                "vat_rate": invoice.vat_rate,
                "vat_minor": invoice.vat_minor,
                "gross_minor": invoice.gross_minor,
                "vat_note": treatment.get(invoice.vat_treatment),
                "usage_count": invoice.usage_count,
                "pdf_path": pdf_path,
            }
        )

    async def owned(self, db: AsyncSession, account_id: uuid.UUID, invoice_id: str) -> Invoice:
        """One of the account's invoices; another's id, or none, answers 404."""
        row = await InvoiceRepository(db).owned(account_id, invoice_id)
        if row is None:
            raise InvoiceNotFound("You have no invoice with this id.")
        return row


invoices = InvoiceService()
