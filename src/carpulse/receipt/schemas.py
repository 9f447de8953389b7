"""Receipts as the API returns them, and the document a receipt PDF is rendered from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class Seller(BaseModel):
    name: str
    address: str
    y_tunnus: str = Field(description="Finnish business ID")
    vat_number: str
    email: str
    website: str


class ReceiptLine(BaseModel):
    description: str = Field(description="already in the receipt's language")
    quantity: int
    unit_gross_cents: int
    net_cents: int
    vat_cents: int
    gross_cents: int
    kind: Literal["package", "volume_discount", "voucher"] = Field(
        default="package", description="a discount is a line of its own, with negative amounts"
    )
    vins: list[str] = Field(default_factory=list, description="the vehicles a package line covers")
    voucher_code: str | None = Field(default=None, description="on the voucher's discount line")


class VatBreakdown(BaseModel):
    """Net, VAT and gross at one rate, after every discount; they add up to the receipt's totals."""

    rate: Decimal = Field(description="percent, e.g. 25.5")
    net_cents: int
    vat_cents: int
    gross_cents: int


class Receipt(BaseModel):
    id: str
    number: str = Field(description="gap-free per year: YYYY-NNNNNN")
    order_reference: str = Field(description="the order's reference for support; not the order id, opens nothing")
    issued_at: datetime
    locale: str
    seller: Seller
    lines: list[ReceiptLine]
    discount_cents: int = Field(description="VAT-inclusive discount, shown as lines of its own")
    net_cents: int
    vat_rate: Decimal = Field(description="percent, e.g. 25.5")
    vat_cents: int
    gross_cents: int
    currency: str
    payment_method: str | None
    payment_provider: str
    payment_reference: str | None
    voucher_code: str | None = None
    vat_breakdown: list[VatBreakdown] = Field(default_factory=list, description="per VAT rate, after discounts")


class CreditNote(BaseModel):
    """A credit note (hyvityslasku) cancelling a receipt in full: negative amounts, the receipt's VAT breakdown."""

    id: str
    number: str = Field(description="gap-free per year in its own series: HYV-YYYY-NNNNNN")
    receipt_id: str
    receipt_number: str = Field(description="the receipt this credit note cancels")
    order_reference: str
    issued_at: datetime
    locale: str
    reason: str = Field(description="why the money went back")
    seller: Seller
    lines: list[ReceiptLine] = Field(description="the receipt's lines with negative amounts")
    discount_cents: int = Field(description="the receipt's discount, negated")
    net_cents: int
    vat_rate: Decimal
    vat_cents: int
    gross_cents: int
    currency: str
    payment_method: str | None
    payment_provider: str
    refund_reference: str | None = Field(description="the provider's refund id")


class InvoiceBuyer(BaseModel):
    company_name: str | None
    email: str
    country: str | None = Field(description="ISO 3166 alpha-2")
    vat_number: str | None


class InvoiceLine(BaseModel):
    plan: str = Field(description="the plan's code the calls were priced by")
    endpoint: str = Field(description="the operation, e.g. vehicle.dynamic")
    quantity: int = Field(description="billable units")
    unit_price_minor: int = Field(description="net, per unit")
    net_minor: int


class Invoice(BaseModel):
    id: str
    number: str = Field(description="gap-free per year in its own series: DAT-YYYY-NNNNNN")
    issued_at: datetime
    period_start: datetime = Field(description="first usage it bills (or the previous invoice's end)")
    period_end: datetime = Field(description="the cutoff: usage before it, exclusive")
    seller: Seller
    buyer: InvoiceBuyer
    lines: list[InvoiceLine]
    currency: str
    net_minor: int
    vat_treatment: Literal["finnish_vat", "reverse_charge", "outside_eu"]
    vat_rate: Decimal = Field(description="percent")
    vat_minor: int
    gross_minor: int
    vat_note: str | None = Field(description="why no Finnish VAT is charged, where none is")
    usage_count: int = Field(description="the usage records (calls) it closed")
    pdf_path: str


class InvoiceList(BaseModel):
    invoices: list[Invoice]
