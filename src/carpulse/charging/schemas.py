"""What the charging endpoints answer with.

The names and descriptions were published for the Tesla mount, the first brand with a charging
history: they stay as they are (clients and the OpenAPI document rely on them) until a second such
brand needs a wording of its own.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

MAX_MONTHS = 24

Months = Annotated[
    int,
    Query(ge=1, le=MAX_MONTHS, description="lookback window in calendar months, 1 to 24 (default 24)"),
]


class LookbackWindow(BaseModel):
    """The window Tesla's history was read for: sessions that started within [start, end]."""

    months: int = Field(ge=1, le=MAX_MONTHS)
    start: datetime = Field(description="UTC")
    end: datetime = Field(description="UTC, when the request was answered")


class Fee(BaseModel):
    """One fee of a session as Tesla bills it."""

    fee_type: str = Field(description="`CHARGING`, `PARKING` (idle fee) or another type Tesla names")
    pricing_type: str | None = Field(default=None, description="`PAYMENT`, `NO_CHARGE`, …")
    usage: Decimal = Field(description="billed quantity, in `unit`")
    unit: str | None = Field(default=None, description="`kwh` or `min`")
    amount: Decimal = Field(description="due before credits, in the session line's currency")
    net_amount: Decimal = Field(description="due after credits")


class InvoiceRef(BaseModel):
    invoice_id: str = Field(description="Tesla's content id; download it at `download_path`")
    file_name: str = Field(description="the safe file name we serve it under: site-local date + Tesla's name")
    tesla_file_name: str | None = None  # the brand's own file name; the published field keeps its first name
    invoice_type: str | None = None
    download_path: str | None = None


class ChargingLine(BaseModel):
    """One charging session (split by currency in the unheard-of case that its fees carry several)."""

    session_id: str
    site: str | None
    country: str | None
    started_at: datetime = Field(description="UTC")
    stopped_at: datetime | None = Field(description="UTC")
    started_at_site: datetime = Field(description="in the site's local time, with its UTC offset")
    stopped_at_site: datetime | None
    energy_kwh: Decimal
    currency: str | None = Field(description="ISO 4217; every amount of this line is in it")
    fees: list[Fee]
    fees_by_type: dict[str, Decimal] = Field(description="amount due per fee type, before credits")
    credit: Decimal = Field(description="credits applied: the sum of the fees minus `total`")
    total: Decimal = Field(description="what was charged for this line, after credits")
    total_minor: int = Field(description="`total` in the currency's minor units (cents)")
    invoices: list[InvoiceRef]


class CurrencyTotal(BaseModel):
    """Totals of the lines in one currency; amounts of different currencies are never added up."""

    currency: str | None
    sessions: int
    invoices: int
    energy_kwh: Decimal
    fees_by_type: dict[str, Decimal]
    credit: Decimal
    total: Decimal
    total_minor: int


class MonthTotal(BaseModel):
    month: str = Field(description="`YYYY-MM`, by the site-local start date (the date on the invoice)")
    sessions: int
    energy_kwh: Decimal
    totals: list[CurrencyTotal] = Field(description="one entry per currency charged in that month")


class ChargingInvoices(BaseModel):
    vin: str
    display_name: str | None
    window: LookbackWindow
    session_count: int
    invoice_count: int
    sessions: list[ChargingLine] = Field(description="newest first")
    monthly: list[MonthTotal] = Field(description="every month of the window, oldest first")
    totals: list[CurrencyTotal] = Field(description="per currency, over the whole window")
