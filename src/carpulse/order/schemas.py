"""Checkout requests and the order as its id opens it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carpulse.connect.schemas import Locale
from carpulse.models import DataSharing

SessionIdField = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
TokenIdField = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class CreateIntent(BaseModel):
    # Amounts, plans and prices sent by a client are ignored: the quote decides.
    model_config = ConfigDict(extra="ignore")

    session_id: str = SessionIdField
    quote_id: str = TokenIdField
    provider: Literal["stripe", "paypal", "mobilepay", "google_pay", "apple_pay"] = Field(
        description="a provider (every method it offers) or one method a provider carries (a checkout offering only "
        "it); asked again for the same quote with another choice before paying, it switches"
    )
    locale: Locale | None = None


class IntentCreated(BaseModel):
    order_id: str
    reference: str = Field(
        description="the order's public reference: the provider's return URL carries it as `checkout=` (never an id)"
    )
    provider: str
    provider_payment_id: str
    redirect_url: str | None
    client_secret: str | None = None
    amount_cents: int
    currency: str
    expires_at: datetime


class VerifyPayment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    order_id: str = TokenIdField


class OrderTransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    created_at: datetime


class OrderRead(BaseModel):
    """What an order id opens: the order itself, never the connect session behind it."""

    order_id: str
    status: str
    package: str
    vins: list[str]
    currency: str
    net_cents: int
    vat_rate: Decimal
    vat_cents: int
    gross_cents: int
    discount_cents: int
    voucher_code: str | None
    provider: str
    provider_payment_id: str | None
    checkout_method: str | None = Field(
        default=None, description="the one method the checkout offers (`mobilepay`, `apple_pay`…); null: all"
    )
    payment_method: str | None = Field(description="the method actually used, as the provider reports it")
    flagged: bool
    paid_at: datetime | None
    data_until: datetime | None = Field(
        default=None, description="a paid order opens its reports and vehicle data until then"
    )
    expires_at: datetime
    receipt_id: str | None
    transitions: list[OrderTransitionRead]
    refunded_cents: int | None = Field(default=None, description="money given back (a full refund)")
    refunded_at: datetime | None = None
    refund_id: str | None = Field(default=None, description="the provider's refund id")
    credit_note_id: str | None = Field(default=None, description="the credit note cancelling the receipt")


class DataSharingChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sharing: DataSharing = Field(
        description=(
            "private (the default): the readings serve your report only. model_statistics: counted, unnamed, in a "
            "model's published state-of-health curves, where a bin shows only with enough other cars. "
            "vehicle_data: your car's readings may be sold per VIN to businesses (dealers, insurers) through the "
            "Data API. Change or withdraw it at any time; it applies to the readings kept and to later ones."
        )
    )


class DataSharingRead(BaseModel):
    order_id: str
    sharing: DataSharing
    readings: int | None = Field(
        default=None, description="on a change: the kept readings of the order's cars it changed"
    )


class AdminOrder(BaseModel):
    """An order as the admin sees it: its state, amounts and payment."""

    id: str
    reference: str
    status: str
    provider: str
    payment_method: str | None
    provider_payment_id: str | None
    package: str
    vehicles: int
    locale: str
    currency: str
    subtotal_cents: int
    discount_cents: int
    net_cents: int
    vat_rate: Decimal
    vat_cents: int
    gross_cents: int
    voucher_code: str | None
    refunded_cents: int | None
    flagged_reason: str | None
    created_at: datetime
    paid_at: datetime | None
    expires_at: datetime


class AdminOrderList(BaseModel):
    orders: list[AdminOrder]
    total: int = Field(description="orders matching the filters, over every page")
    limit: int
    offset: int


class AdminOrderDetail(AdminOrder):
    vins: list[str]
    session_id: str
    transitions: list[OrderTransitionRead] = Field(description="every status change, oldest first")
