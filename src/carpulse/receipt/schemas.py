"""Receipts as the API returns them, and the document a receipt PDF is rendered from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

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


class Receipt(BaseModel):
    id: str
    number: str = Field(description="gap-free per year: YYYY-NNNNNN")
    order_reference: str = Field(description="the order's reference for support; not the order id, opens nothing")
    issued_at: datetime
    locale: str
    seller: Seller
    lines: list[ReceiptLine]
    discount_cents: int = Field(description="VAT-inclusive discount already applied to the lines")
    net_cents: int
    vat_rate: Decimal = Field(description="percent, e.g. 25.5")
    vat_cents: int
    gross_cents: int
    currency: str
    payment_method: str | None
    payment_provider: str
    payment_reference: str | None
    voucher_code: str | None = None


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
