"""PayPal's payloads (Orders v2, Payments v2, OAuth, webhooks), tolerant of fields we do not use.

Statuses stay strings: PayPal adds values, and an unknown one must not break reading an order.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PayPalModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class Money(PayPalModel):
    currency_code: str
    value: str  # a decimal string ("19.00"); never a float


class Link(PayPalModel):
    href: str
    rel: str
    method: str | None = None


class Linked(PayPalModel):
    links: list[Link] = Field(default_factory=list)

    def link(self, *rels: str) -> str | None:
        """The href of the first link whose `rel` is one of `rels` (in that order of preference)."""
        for rel in rels:
            for link in self.links:
                if link.rel == rel:
                    return link.href
        return None


class TokenResponse(PayPalModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - a token kind, not a secret
    expires_in: int = 32400
    scope: str | None = None
    app_id: str | None = None


class RelatedIds(PayPalModel):
    order_id: str | None = None
    capture_id: str | None = None
    authorization_id: str | None = None


class SupplementaryData(PayPalModel):
    related_ids: RelatedIds | None = None


class Capture(Linked):
    id: str
    status: str  # COMPLETED, DECLINED, PARTIALLY_REFUNDED, PENDING, REFUNDED, FAILED
    amount: Money | None = None
    custom_id: str | None = None
    invoice_id: str | None = None
    final_capture: bool | None = None
    supplementary_data: SupplementaryData | None = None

    @property
    def order_id(self) -> str | None:
        related = self.supplementary_data.related_ids if self.supplementary_data else None
        return related.order_id if related else None


class RefundBreakdown(PayPalModel):
    total_refunded_amount: Money | None = None


class Refund(Linked):
    id: str
    status: str  # CANCELLED, FAILED, PENDING, COMPLETED
    amount: Money | None = None
    custom_id: str | None = None
    invoice_id: str | None = None
    seller_payable_breakdown: RefundBreakdown | None = None
    supplementary_data: SupplementaryData | None = None

    @property
    def order_id(self) -> str | None:
        related = self.supplementary_data.related_ids if self.supplementary_data else None
        return related.order_id if related else None


class Payments(PayPalModel):
    captures: list[Capture] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)


class PurchaseUnit(PayPalModel):
    reference_id: str | None = None
    custom_id: str | None = None
    invoice_id: str | None = None
    description: str | None = None
    amount: Money | None = None
    payments: Payments | None = None


class Payer(PayPalModel):
    payer_id: str | None = None
    email_address: str | None = None


class Order(Linked):
    id: str
    status: str  # CREATED, SAVED, APPROVED, VOIDED, COMPLETED, PAYER_ACTION_REQUIRED
    intent: str | None = None
    purchase_units: list[PurchaseUnit] = Field(default_factory=list)
    payer: Payer | None = None
    payment_source: dict[str, Any] | None = None

    @property
    def captures(self) -> list[Capture]:
        return [capture for unit in self.purchase_units if unit.payments for capture in unit.payments.captures]


class ErrorDetail(PayPalModel):
    issue: str | None = None
    description: str | None = None
    field: str | None = None


class ErrorBody(PayPalModel):
    name: str | None = None
    message: str | None = None
    debug_id: str | None = None
    details: list[ErrorDetail] = Field(default_factory=list)
    # OAuth-style bodies of the token endpoint and the bearer check
    error: str | None = None
    error_description: str | None = None

    @property
    def issue(self) -> str | None:
        return next((detail.issue for detail in self.details if detail.issue), None) or self.name or self.error


class WebhookEnvelope(PayPalModel):
    id: str
    event_type: str
    resource_type: str | None = None
    create_time: str | None = None
    summary: str | None = None
    resource: dict[str, Any] = Field(default_factory=dict)


# --- requests we send ---------------------------------------------------------------------------


class Amount(BaseModel):
    currency_code: str
    value: str
    breakdown: dict[str, Money] | None = None


class Item(BaseModel):
    name: str = Field(max_length=127)
    quantity: str = "1"
    unit_amount: Money
    category: str = "DIGITAL_GOODS"


class PurchaseUnitRequest(BaseModel):
    reference_id: str = Field(max_length=256)
    custom_id: str = Field(max_length=127)
    description: str | None = Field(default=None, max_length=127)
    amount: Amount
    items: list[Item] | None = None


class ExperienceContext(BaseModel):
    return_url: str
    cancel_url: str
    locale: str | None = None
    brand_name: str | None = Field(default=None, max_length=127)
    shipping_preference: str = "NO_SHIPPING"
    user_action: str = "PAY_NOW"


class PayPalWallet(BaseModel):
    experience_context: ExperienceContext


class PaymentSource(BaseModel):
    paypal: PayPalWallet


class OrderCreate(BaseModel):
    intent: str = "CAPTURE"
    purchase_units: list[PurchaseUnitRequest]
    payment_source: PaymentSource


class RefundCreate(BaseModel):
    amount: Money | None = None
    custom_id: str | None = Field(default=None, max_length=127)  # our order id, echoed on the refund webhook
    invoice_id: str | None = None
    note_to_payer: str | None = None
