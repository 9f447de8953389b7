"""A Data API invoice as a document: `Invoice` → view (values formatted, in English) → HTML → PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pycountry

from carpulse.kit.documents import render_html, render_pdf_off_loop
from carpulse.kit.i18n import format_date, format_datetime, format_money
from carpulse.kit.money import plain_rate
from carpulse.receipt.schemas import Invoice, Seller

TEMPLATE = "invoice.html"
LOCALE = "en"
SELLER_TIME_ZONE = ZoneInfo("Europe/Helsinki")  # the date of issue is the seller's
PAYMENT_TERM = timedelta(days=14)
# What each metered operation is called on an invoice.
OPERATIONS = {
    "vehicle.static": "Vehicle static data",
    "vehicle.dynamic": "Vehicle dynamic data (state of health)",
    "vehicle.batch": "Vehicle data in batches (per VIN answered)",
    "models.trendline": "Model state-of-health trendline",
    "models.warranty": "Model warranty terms",
}


@dataclass(frozen=True)
class BuyerView:
    name: str
    country: str
    vat_number: str | None
    email: str


@dataclass(frozen=True)
class LineView:
    description: str
    quantity: str
    unit_price: str
    net: str


@dataclass(frozen=True)
class InvoiceView:
    number: str
    issued_on: str
    due_on: str
    period_start: str
    period_end: str
    usage_count: int
    seller: Seller
    buyer: BuyerView
    lines: list[LineView]
    net: str
    vat_rate: str
    vat: str
    gross: str
    vat_note: str | None


def _money(minor: int, currency: str) -> str:
    return format_money(minor, currency, LOCALE)


def _country(code: str | None) -> str:
    found = pycountry.countries.get(alpha_2=code) if code else None
    return f"{found.name} ({code})" if found is not None else code or "—"


def _moment(value: datetime) -> str:
    """A period's edge as usage is metered: the UTC day and time, to the minute."""
    return f"{format_datetime(value, LOCALE, style='medium', tz=UTC)} UTC"


def invoice_view(invoice: Invoice) -> InvoiceView:
    currency = invoice.currency
    return InvoiceView(
        number=invoice.number,
        issued_on=format_date(invoice.issued_at, LOCALE, style="long", tz=SELLER_TIME_ZONE),
        due_on=format_date(invoice.issued_at + PAYMENT_TERM, LOCALE, style="long", tz=SELLER_TIME_ZONE),
        period_start=_moment(invoice.period_start),
        period_end=_moment(invoice.period_end),
        usage_count=invoice.usage_count,
        seller=invoice.seller,
        buyer=BuyerView(
            name=invoice.buyer.company_name or invoice.buyer.email,
            country=_country(invoice.buyer.country),
            vat_number=invoice.buyer.vat_number,
            email=invoice.buyer.email,
        ),
        lines=[
            LineView(
                description=f"{OPERATIONS.get(line.endpoint, line.endpoint)} · {line.plan.capitalize()} plan",
                quantity=f"{line.quantity:,}",
                unit_price=_money(line.unit_price_minor, currency),
                net=_money(line.net_minor, currency),
            )
            for line in invoice.lines
        ],
        net=_money(invoice.net_minor, currency),
        vat_rate=f"{plain_rate(Decimal(invoice.vat_rate))} %",
        vat=_money(invoice.vat_minor, currency),
        gross=_money(invoice.gross_minor, currency),
        vat_note=invoice.vat_note,
    )


def render_invoice_html(invoice: Invoice) -> str:
    return render_html(TEMPLATE, LOCALE, invoice=invoice_view(invoice))


async def render_invoice_pdf(invoice: Invoice) -> bytes:
    return await render_pdf_off_loop(render_invoice_html(invoice))
