"""PayPal behind our `PaymentGateway`: Orders v2 with capture on our side, webhooks verified offline
(`signature.py`) and mapped to payment outcomes."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation

import httpx
from pydantic import ValidationError

from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.logs import get_logger
from carpulse.kit.money import format_minor
from carpulse.kit.resilience import CircuitBreakers
from carpulse.payment.gateway import (
    CheckoutRequest,
    CheckoutStarted,
    PaymentOutcome,
    PaymentStatus,
    WebhookEvent,
    WebhookSignatureInvalid,
)
from carpulse.payment.gateway import Refund as MoneyBack
from carpulse.payment.paypal.client import PayPalClient
from carpulse.payment.paypal.errors import PayPalError, PayPalOrderAlreadyCaptured
from carpulse.payment.paypal.schemas import (
    Amount,
    Capture,
    ExperienceContext,
    Item,
    Money,
    Order,
    OrderCreate,
    PaymentSource,
    PayPalWallet,
    PurchaseUnitRequest,
    Refund,
    RefundCreate,
    WebhookEnvelope,
)
from carpulse.payment.paypal.signature import SignatureVerifier

log = get_logger("carpulse.paypal")

PROVIDER = "paypal"
ORDER_ID = re.compile(r"^[A-Z0-9]{17}$")  # e.g. 5O190127TN364715T; treated as opaque beyond its shape
ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})  # PayPal takes no decimals for these

# Our languages → the PayPal locale of their main market; a region we are given is kept when PayPal knows it.
LANGUAGE_LOCALES = {
    "fi": "fi-FI",
    "sv": "sv-SE",
    "nb": "nb-NO",
    "no": "nb-NO",
    "nn": "nb-NO",
    "da": "da-DK",
    "de": "de-DE",
    "fr": "fr-FR",
    "es": "es-ES",
    "it": "it-IT",
    "en": "en-US",
}
PAYPAL_LOCALES = frozenset(
    {
        *LANGUAGE_LOCALES.values(),
        *("en-GB", "en-AU", "en-CA", "en-IE", "de-AT", "de-CH", "fr-BE", "fr-CA", "fr-CH", "es-MX", "it-CH"),
        *("sv-FI", "fi-FI", "da-FO", "nl-NL", "nl-BE", "pl-PL", "pt-PT", "pt-BR"),
    }
)

_ORDER_STATUS: dict[str, PaymentStatus] = {
    "CREATED": PaymentStatus.pending,
    "SAVED": PaymentStatus.pending,
    "PAYER_ACTION_REQUIRED": PaymentStatus.pending,
    "APPROVED": PaymentStatus.pending,  # the buyer said yes; we still have to capture
    "VOIDED": PaymentStatus.expired,
}
_CAPTURE_STATUS: dict[str, PaymentStatus] = {
    "COMPLETED": PaymentStatus.succeeded,
    "PARTIALLY_REFUNDED": PaymentStatus.succeeded,  # we only model full refunds
    "REFUNDED": PaymentStatus.refunded,
    "PENDING": PaymentStatus.pending,  # e.g. compliance review; PAYMENT.CAPTURE.COMPLETED follows
    "DECLINED": PaymentStatus.failed,
    "FAILED": PaymentStatus.failed,
}
_CAPTURE_EVENTS: dict[str, PaymentStatus] = {
    "PAYMENT.CAPTURE.COMPLETED": PaymentStatus.succeeded,
    "PAYMENT.CAPTURE.DENIED": PaymentStatus.failed,
    "PAYMENT.CAPTURE.DECLINED": PaymentStatus.failed,  # PayPal's lists name both (reference §3.9)
}


def paypal_locale(locale: str) -> str | None:
    """`fi` / `fi_FI` / `en-GB` → the `locale` PayPal's page understands (None: let PayPal choose)."""
    parts = locale.replace("_", "-").split("-")
    language = parts[0].lower()
    if len(parts) > 1:
        candidate = f"{language}-{parts[-1].upper()}"
        if candidate in PAYPAL_LOCALES:
            return candidate
    return LANGUAGE_LOCALES.get(language)


def to_value(cents: int, currency: str) -> str:
    """Integer minor units → PayPal's decimal string, exactly (`1900` → `"19.00"`)."""
    if cents < 0:
        raise ValueError("a payment amount cannot be negative")
    return str(cents) if currency.upper() in ZERO_DECIMAL_CURRENCIES else format_minor(cents)


def to_cents(value: str, currency: str) -> int:
    """PayPal's decimal string → integer minor units, refusing anything that is not a whole minor unit."""
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a decimal amount") from exc
    minor = amount if currency.upper() in ZERO_DECIMAL_CURRENCIES else amount * 100
    if not minor.is_finite() or minor != minor.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of minor units of {currency}")
    return int(minor)


def _cents(money: Money | None, what: str) -> tuple[int | None, str | None]:
    if money is None:
        return None, None
    try:
        return to_cents(money.value, money.currency_code), money.currency_code.upper()
    except ValueError as exc:
        raise PayPalError(f"PayPal sent an unreadable {what} amount.") from exc


def _settled_capture(order: Order) -> Capture | None:
    captures = order.captures
    for capture in captures:
        if capture.status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED", "PENDING"):
            return capture
    return captures[-1] if captures else None


def order_outcome(order: Order) -> PaymentOutcome:
    """An order's state in our terms: only a COMPLETED capture is money received."""
    unit = order.purchase_units[0] if order.purchase_units else None
    capture = _settled_capture(order) if order.status == "COMPLETED" else None
    if capture is not None:
        status = _CAPTURE_STATUS.get(capture.status, PaymentStatus.pending)
    else:
        status = _ORDER_STATUS.get(order.status, PaymentStatus.pending)
    amount, currency = _cents(capture.amount if capture else unit.amount if unit else None, "order")
    method = next(iter(order.payment_source or {}), PROVIDER)
    return PaymentOutcome(
        provider=PROVIDER,
        provider_payment_id=order.id,
        status=status,
        amount_cents=amount,
        currency=currency,
        order_id=(unit.custom_id if unit else None) or (capture.custom_id if capture else None),
        payment_method=method,
        reference=capture.id if capture else None,
    )


def _id_after(href: str | None, marker: str) -> str | None:
    if not href or marker not in href:
        return None
    return href.split(marker, 1)[1].split("/", 1)[0].split("?", 1)[0] or None


class PayPalGateway:
    """`PaymentGateway` for PayPal Orders v2 (intent CAPTURE): create → buyer approves → we capture."""

    name = PROVIDER

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        api_base: str,
        certificate_hosts: list[str],
        http: httpx.AsyncClient,
        *,
        brand_name: str | None = None,
        timeout_seconds: float = 15.0,
        max_retries: int = 2,
        retry_after_cap_seconds: float = 10.0,
        breakers: CircuitBreakers | None = None,
        clock: Clock = system_clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = PayPalClient(
            http,
            api_base=api_base,
            client_id=client_id,
            client_secret=client_secret,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            retry_after_cap_seconds=retry_after_cap_seconds,
            breakers=breakers,
            clock=clock,
            sleep=sleep,
        )
        self.webhook_id = webhook_id
        self.signatures = SignatureVerifier(self.client, webhook_id, certificate_hosts, clock)
        self.brand_name = brand_name

    def is_configured(self) -> bool:
        client = self.client
        return bool(client.client_id and client.client_secret and client.api_base and self.webhook_id)

    def can_handle_payment_id(self, payment_id: str) -> bool:
        return bool(ORDER_ID.fullmatch(payment_id))

    def payment_methods(self) -> frozenset[str]:
        """None to narrow to: the customer pays with PayPal itself."""
        return frozenset()

    async def create_payment(self, request: CheckoutRequest) -> CheckoutStarted:
        currency = request.currency.upper()
        total = Money(currency_code=currency, value=to_value(request.amount_cents, currency))
        description = (request.description or f"Order {request.order_id}")[:127]
        order = OrderCreate(
            purchase_units=[
                PurchaseUnitRequest(
                    reference_id=request.order_id,
                    custom_id=request.order_id,
                    description=description,
                    amount=Amount(currency_code=currency, value=total.value, breakdown={"item_total": total}),
                    items=[Item(name=description, unit_amount=total)],
                )
            ],
            payment_source=PaymentSource(
                paypal=PayPalWallet(
                    experience_context=ExperienceContext(
                        return_url=request.success_url,
                        cancel_url=request.cancel_url,
                        locale=paypal_locale(request.locale),
                        brand_name=self.brand_name,
                    )
                )
            ),
        )
        created = await self.client.create_order(order, request_id=request.idempotency_key)
        redirect_url = created.link("payer-action", "approve")
        if redirect_url is None:
            raise PayPalError("PayPal created the order without an approval link.")
        log.info("payment.paypal_order_created", order_id=request.order_id, paypal_order_id=created.id)
        return CheckoutStarted(provider=PROVIDER, provider_payment_id=created.id, redirect_url=redirect_url)

    async def verify(self, provider_payment_id: str) -> PaymentOutcome:
        return order_outcome(await self.client.get_order(provider_payment_id))

    async def capture(self, provider_payment_id: str, idempotency_key: str) -> PaymentOutcome:
        try:
            order = await self.client.capture_order(provider_payment_id, request_id=idempotency_key)
        except PayPalOrderAlreadyCaptured:
            # Captured by an earlier request (another key, or a webhook-driven capture): read the result.
            order = await self.client.get_order(provider_payment_id)
        return order_outcome(order)

    async def close(self, provider_payment_id: str, idempotency_key: str) -> PaymentOutcome:
        """Nothing to close: PayPal takes the money only when we capture, and `PaymentService.capture`
        refuses orders that failed or expired. Their state, for the caller to apply."""
        return await self.verify(provider_payment_id)

    async def refund(
        self, provider_payment_id: str, amount_cents: int, currency: str, idempotency_key: str, reason: str
    ) -> MoneyBack:
        """Refund the order's capture (`POST /v2/payments/captures/{id}/refund`); the request id makes a retry
        return the first refund instead of refunding again."""
        order = await self.client.get_order(provider_payment_id)
        capture = _settled_capture(order)
        if capture is None:
            raise PayPalError("This PayPal order has no capture to refund.")
        unit = order.purchase_units[0] if order.purchase_units else None
        refunded = await self.client.refund_capture(
            capture.id,
            request_id=idempotency_key,
            refund=RefundCreate(
                amount=Money(currency_code=currency.upper(), value=to_value(amount_cents, currency)),
                custom_id=unit.custom_id if unit else None,
                note_to_payer=reason[:255],
            ),
        )
        amount, refund_currency = _cents(refunded.amount, "refund")
        log.info("payment.paypal_refunded", paypal_order_id=provider_payment_id, refund_id=refunded.id)
        return MoneyBack(
            provider=PROVIDER,
            provider_refund_id=refunded.id,
            status=PaymentStatus.refunded if refunded.status == "COMPLETED" else PaymentStatus.pending,
            amount_cents=amount if amount is not None else amount_cents,
            currency=refund_currency or currency.upper(),
        )

    async def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        await self.signatures.verify(body, headers)
        return self.read_event(body)

    def read_event(self, payload: bytes) -> WebhookEvent:
        """Read a verified delivery; pure, so the inbox can replay the stored body without PayPal."""
        try:
            data = json.loads(payload)
            envelope = WebhookEnvelope.model_validate(data)
            outcome = event_outcome(envelope)
        except (ValueError, ValidationError, PayPalError) as exc:
            raise WebhookSignatureInvalid("the signed body is not a readable PayPal event") from exc
        return WebhookEvent(
            provider=PROVIDER, event_id=envelope.id, event_type=envelope.event_type, outcome=outcome, payload=data
        )

    async def aclose(self) -> None:
        """The HTTP client belongs to whoever injected it (the lifespan); only our caches go."""
        self.signatures.forget_certificates()


def event_outcome(envelope: WebhookEnvelope) -> PaymentOutcome | None:
    """What a webhook event means for the payment; None for events we accept but do not act on."""
    if envelope.event_type in _CAPTURE_EVENTS:
        return _capture_outcome(Capture.model_validate(envelope.resource), _CAPTURE_EVENTS[envelope.event_type])
    if envelope.event_type == "PAYMENT.CAPTURE.REFUNDED":
        return _refund_outcome(Refund.model_validate(envelope.resource))
    if envelope.event_type == "CHECKOUT.ORDER.APPROVED":
        return order_outcome(Order.model_validate(envelope.resource))
    return None


def _capture_outcome(capture: Capture, status: PaymentStatus) -> PaymentOutcome:
    amount, currency = _cents(capture.amount, "capture")
    paypal_order = capture.order_id or _id_after(capture.link("up"), "/v2/checkout/orders/")
    return PaymentOutcome(
        provider=PROVIDER,
        provider_payment_id=paypal_order or capture.id,
        status=status,
        amount_cents=amount,
        currency=currency,
        order_id=capture.custom_id,
        payment_method=PROVIDER,
        reference=capture.id,
    )


def _refund_outcome(refund: Refund) -> PaymentOutcome:
    """A refund event names its capture only by the `up` link; our order id comes from `custom_id`.

    The amount is the total refunded so far when PayPal says it (else this refund's amount), so a
    partial refund can be told from a full one by comparing it with the order's total.
    """
    breakdown = refund.seller_payable_breakdown
    total = breakdown.total_refunded_amount if breakdown and breakdown.total_refunded_amount else refund.amount
    amount, currency = _cents(total, "refund")
    capture_id = _id_after(refund.link("up"), "/v2/payments/captures/")
    return PaymentOutcome(
        provider=PROVIDER,
        provider_payment_id=refund.order_id or capture_id or refund.id,
        status=PaymentStatus.refunded,
        amount_cents=amount,
        currency=currency,
        order_id=refund.custom_id,
        payment_method=PROVIDER,
        reference=capture_id,
    )
