"""The payment-provider strategy (seed 001: BasePaymentProvider): one protocol, one factory.

Adding a provider means a package under `payment/` implementing `PaymentGateway` and one line in
the factory; no service code changes. Amounts are integer minor units the server computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class PaymentStatus(StrEnum):
    pending = "pending"  # created, the customer has not finished
    succeeded = "succeeded"  # money captured
    failed = "failed"  # declined
    expired = "expired"  # abandoned / session expired
    refunded = "refunded"  # (fully) refunded after success


@dataclass(frozen=True)
class CheckoutRequest:
    order_id: str
    amount_cents: int
    currency: str
    description: str
    locale: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    expires_at: datetime | None = None
    payment_method: str | None = None  # offer only this method (one of the gateway's `payment_methods()`)


@dataclass(frozen=True)
class CheckoutStarted:
    provider: str
    provider_payment_id: str
    redirect_url: str | None
    client_secret: str | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    provider: str
    provider_payment_id: str
    status: PaymentStatus
    amount_cents: int | None
    currency: str | None
    order_id: str | None = None
    payment_method: str | None = None
    reference: str | None = None  # the provider's capture / payment-intent id, for receipts and support


@dataclass(frozen=True)
class Refund:
    """Money sent back for a payment: the provider's refund id, and `refunded` once it went through."""

    provider: str
    provider_refund_id: str
    status: PaymentStatus  # refunded, or pending while the provider still works on it
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class WebhookEvent:
    provider: str
    event_id: str
    event_type: str
    outcome: PaymentOutcome | None  # None: an event we accept but do not act on
    payload: dict[str, object] = field(default_factory=dict)


class WebhookSignatureInvalid(Exception):
    """The webhook's signature, timestamp or body did not verify."""


class PaymentGateway(Protocol):
    name: str

    def is_configured(self) -> bool: ...

    def can_handle_payment_id(self, payment_id: str) -> bool:
        """Whether an id like `cs_…` / `pi_…` / a PayPal order id is this provider's."""
        ...

    def payment_methods(self) -> frozenset[str]:
        """The methods a checkout can be restricted to here (`mobilepay`, `apple_pay`…), as configured."""
        ...

    async def create_payment(self, request: CheckoutRequest) -> CheckoutStarted: ...

    async def verify(self, provider_payment_id: str) -> PaymentOutcome:
        """The payment's current state at the provider (never trusts the client)."""
        ...

    async def capture(self, provider_payment_id: str, idempotency_key: str) -> PaymentOutcome:
        """Capture an approved payment (PayPal); providers that capture on their own just verify."""
        ...

    async def close(self, provider_payment_id: str, idempotency_key: str) -> PaymentOutcome:
        """Make sure an unpaid payment can no longer be paid (an order we gave up on); its state afterwards,
        which may still be `succeeded` when the customer paid first."""
        ...

    async def refund(
        self, provider_payment_id: str, amount_cents: int, currency: str, idempotency_key: str, reason: str
    ) -> Refund:
        """Give `amount_cents` of a succeeded payment back; the same `idempotency_key` never refunds twice."""
        ...

    async def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify and read a webhook delivery; raises `WebhookSignatureInvalid`."""
        ...

    def read_event(self, payload: bytes) -> WebhookEvent:
        """Read a delivery that was verified when it arrived (the inbox keeps the body, not the headers)."""
        ...

    async def aclose(self) -> None: ...
