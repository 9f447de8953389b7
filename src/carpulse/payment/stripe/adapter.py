"""`StripeGateway`: our `PaymentGateway` over hosted Checkout Sessions (reference §2.3, §2.5, §2.11).

Card, Apple Pay, Google Pay and MobilePay come from the account's dynamic payment methods (Endive
refuses `payment_method_types`, reference §0). A checkout for one method narrows them (§2.7):
MobilePay is its own type (`allowed_payment_method_types`); Apple Pay and Google Pay ride on `card`,
so a payment method configuration with only that wallet on picks the wallet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import stripe
from stripe.params.checkout import SessionCreateParams

from carpulse.config import StripeSettings
from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.logs import get_logger
from carpulse.kit.resilience import CircuitBreaker
from carpulse.payment.gateway import (
    CheckoutRequest,
    CheckoutStarted,
    PaymentOutcome,
    PaymentStatus,
    Refund,
    WebhookEvent,
    WebhookSignatureInvalid,
)
from carpulse.payment.stripe.client import build_stripe_client
from carpulse.payment.stripe.errors import (
    StripeGatewayError,
    StripeNotConfigured,
    StripePaymentNotFound,
    StripeRequestRejected,
    StripeUnavailable,
    stripe_error,
)

log = get_logger("carpulse.stripe")

T = TypeVar("T")
PROVIDER = "stripe"
PAYMENT_ID_PREFIXES = ("cs_", "pi_")
CARD_WALLETS = ("apple_pay", "google_pay")
# Stripe accepts `expires_at` 30 min to 24 h after creation by its own clock; keep a margin for skew and latency.
EXPIRY_MIN = timedelta(minutes=31)
EXPIRY_MAX = timedelta(hours=23, minutes=59)
# Our locales → Checkout's `locale`; Stripe calls Norwegian Bokmål `nb`. Anything else: the browser's (`auto`).
CHECKOUT_LOCALES = {
    **{language: language for language in ("en", "fi", "sv", "da", "de", "fr", "es", "it", "nb")},
    "no": "nb",
    "nn": "nb",
}
# PaymentIntent.status → ours; `requires_payment_method` after a failed attempt is `failed` (see `intent_status`).
INTENT_STATUSES: dict[str, PaymentStatus] = {
    "succeeded": PaymentStatus.succeeded,
    "canceled": PaymentStatus.expired,
    "processing": PaymentStatus.pending,
    "requires_action": PaymentStatus.pending,
    "requires_capture": PaymentStatus.pending,
    "requires_confirmation": PaymentStatus.pending,
    "requires_payment_method": PaymentStatus.pending,
}
SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)


def signature_timestamp(header: str) -> int | None:
    """The `t=` of a `Stripe-Signature` header (`t=…,v1=…`)."""
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            return int(value) if value.isdigit() else None
    return None


def stripe_locale(locale: str | None) -> str:
    """`fi`, `fi-FI`, `no`, `nb_NO` → Checkout's locale; unknown → `auto`."""
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    return CHECKOUT_LOCALES.get(language, "auto")


def checkout_expiry(requested: datetime | None, now: datetime) -> int | None:
    """`expires_at` for Stripe: the requested time clamped into the window Stripe accepts."""
    if requested is None:
        return None
    return int(min(max(requested, now + EXPIRY_MIN), now + EXPIRY_MAX).timestamp())


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _currency(value: object) -> str | None:
    text = _text(value)
    return text.upper() if text else None


def _order_id(obj: Mapping[str, Any]) -> str | None:
    return _text(_object(obj.get("metadata")).get("order_id")) or _text(obj.get("client_reference_id"))


def charge_payment_method(charge: Mapping[str, Any]) -> str | None:
    """`card`, `mobilepay`, or the wallet (`apple_pay`, `google_pay`) a card payment came through (§2.7)."""
    details = _object(charge.get("payment_method_details"))
    kind = _text(details.get("type"))
    if kind == "card":
        wallet = _object(_object(details.get("card")).get("wallet"))
        return _text(wallet.get("type")) or "card"
    return kind


def intent_payment_method(intent: Mapping[str, Any]) -> str | None:
    charge = _object(intent.get("latest_charge"))
    if charge:
        return charge_payment_method(charge)
    failed_with = _object(_object(intent.get("last_payment_error")).get("payment_method"))
    if failed_with:
        return _text(failed_with.get("type"))
    types = intent.get("payment_method_types")
    if isinstance(types, list) and len(types) == 1:
        return _text(types[0])
    return None


def intent_status(intent: Mapping[str, Any]) -> PaymentStatus:
    status = INTENT_STATUSES.get(_text(intent.get("status")) or "", PaymentStatus.pending)
    if status is PaymentStatus.pending and intent.get("last_payment_error"):
        return PaymentStatus.failed
    if status is PaymentStatus.succeeded and _object(intent.get("latest_charge")).get("refunded") is True:
        return PaymentStatus.refunded
    return status


def session_status(session: Mapping[str, Any], intent: Mapping[str, Any]) -> PaymentStatus:
    """| session `status` | `payment_status`              | ours                                   |
    | complete         | paid / no_payment_required    | succeeded (refunded if the charge is)  |
    | complete         | unpaid (a delayed method)     | pending                                |
    | expired          | any                           | expired                                |
    | open             | any                           | failed after a declined try, else pending |
    """
    state = _text(session.get("status"))
    if state == "complete":
        if session.get("payment_status") in ("paid", "no_payment_required"):
            refunded = _object(intent.get("latest_charge")).get("refunded") is True
            return PaymentStatus.refunded if refunded else PaymentStatus.succeeded
        return PaymentStatus.pending
    if state == "expired":
        return PaymentStatus.expired
    return PaymentStatus.failed if intent_status(intent) is PaymentStatus.failed else PaymentStatus.pending


def session_outcome(session: Mapping[str, Any]) -> PaymentOutcome:
    """A Checkout Session (its `payment_intent` expanded or an id) as our outcome."""
    raw_intent = session.get("payment_intent")
    intent = _object(raw_intent)
    return PaymentOutcome(
        provider=PROVIDER,
        provider_payment_id=str(session.get("id")),
        status=session_status(session, intent),
        amount_cents=_integer(session.get("amount_total")),
        currency=_currency(session.get("currency")),
        order_id=_order_id(session),
        payment_method=intent_payment_method(intent) if intent else None,
        reference=_text(raw_intent) or _text(intent.get("id")),
    )


def intent_outcome(intent: Mapping[str, Any]) -> PaymentOutcome:
    return PaymentOutcome(
        provider=PROVIDER,
        provider_payment_id=str(intent.get("id")),
        status=intent_status(intent),
        amount_cents=_integer(intent.get("amount")),
        currency=_currency(intent.get("currency")),
        order_id=_order_id(intent),
        payment_method=intent_payment_method(intent),
        reference=_text(intent.get("id")),
    )


def refund_outcome(charge: Mapping[str, Any]) -> PaymentOutcome | None:
    """`charge.refunded` as `refunded` once the charge is refunded in full; a partial refund is not acted on."""
    if charge.get("refunded") is not True:
        return None
    intent_id = _text(charge.get("payment_intent"))
    return PaymentOutcome(
        provider=PROVIDER,
        provider_payment_id=intent_id or str(charge.get("id")),
        status=PaymentStatus.refunded,
        amount_cents=_integer(charge.get("amount_refunded")),
        currency=_currency(charge.get("currency")),
        order_id=_order_id(charge),
        payment_method=charge_payment_method(charge),
        reference=intent_id,
    )


def event_outcome(event_type: str, obj: Mapping[str, Any]) -> PaymentOutcome | None:
    """What a webhook event means for the order; None for events we accept but do not act on."""
    if event_type in SESSION_EVENTS:
        outcome = session_outcome(obj)
        if event_type == "checkout.session.async_payment_failed":
            return replace(outcome, status=PaymentStatus.failed)
        return outcome
    if event_type == "payment_intent.payment_failed":
        return replace(intent_outcome(obj), status=PaymentStatus.failed)
    if event_type == "charge.refunded":
        return refund_outcome(obj)
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


class StripeGateway:
    """Hosted Checkout through the official SDK, sent over an injected `httpx.AsyncClient`."""

    name = PROVIDER

    def __init__(
        self,
        *,
        secret_key: str | None,
        webhook_secret: str | None,
        api_base: str | None = None,
        webhook_tolerance_seconds: int = 300,
        webhook_clock_skew_seconds: int = 60,
        http: httpx.AsyncClient | None = None,
        timeout_seconds: float = 30.0,
        max_network_retries: int = 2,
        clock: Clock = system_clock,
        breaker: CircuitBreaker | None = None,
        retry_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        mobilepay: bool = False,
        wallet_configurations: Mapping[str, str | None] | None = None,
    ) -> None:
        self.secret_key = secret_key or None
        self.webhook_secret = webhook_secret or None
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self.webhook_clock_skew_seconds = webhook_clock_skew_seconds
        self.clock = clock
        self.breaker = breaker
        self.mobilepay = mobilepay
        self.wallet_configurations = {
            wallet: configuration for wallet, configuration in (wallet_configurations or {}).items() if configuration
        }
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(timeout=timeout_seconds)
        # An empty key builds a client that is never called: `_call` refuses first (`is_configured`).
        self.client = build_stripe_client(
            self.http,
            secret_key=self.secret_key or "",
            api_base=api_base,
            timeout_seconds=timeout_seconds,
            max_network_retries=max_network_retries,
            sleep=retry_sleep,
        )

    @classmethod
    def from_settings(
        cls,
        settings: StripeSettings,
        *,
        http: httpx.AsyncClient | None = None,
        api_base: str | None = None,
        **options: Any,
    ) -> StripeGateway:
        """`api_base` overrides the setting (the sandbox passes its own mount)."""
        return cls(
            secret_key=settings.secret_key.get_secret_value(),
            webhook_secret=settings.webhook_secret.get_secret_value(),
            api_base=api_base or settings.api_base,
            webhook_tolerance_seconds=settings.webhook_tolerance_seconds,
            webhook_clock_skew_seconds=settings.webhook_clock_skew_seconds,
            http=http,
            mobilepay=settings.mobilepay,
            wallet_configurations={
                "apple_pay": settings.apple_pay_configuration,
                "google_pay": settings.google_pay_configuration,
            },
            **options,
        )

    def is_configured(self) -> bool:
        return self.secret_key is not None

    def can_handle_payment_id(self, payment_id: str) -> bool:
        return payment_id.startswith(PAYMENT_ID_PREFIXES)

    def payment_methods(self) -> frozenset[str]:
        wallets = {wallet for wallet in CARD_WALLETS if wallet in self.wallet_configurations}
        return frozenset({*wallets, *(("mobilepay",) if self.mobilepay else ())})

    def restriction(self, method: str | None) -> SessionCreateParams:
        """The Checkout Session parameters that offer only `method` (nothing: the account's methods)."""
        if method is None:
            return {}
        if method not in self.payment_methods():
            raise StripeNotConfigured(f"This server does not offer {method} through Stripe.")
        if method in CARD_WALLETS:
            return {
                "allowed_payment_method_types": ["card"],
                "payment_method_configuration": self.wallet_configurations[method],
            }
        return {"allowed_payment_method_types": [method]}

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        if not self.is_configured():
            raise StripeNotConfigured("Stripe payments are not configured on this server.")
        if self.breaker is not None and self.breaker.refuses():
            wait = max(1, round(self.breaker.retry_after()))
            raise StripeUnavailable(
                "Stripe has been failing; we pause calls for a moment.", headers={"Retry-After": str(wait)}
            )
        try:
            result = await call()
        except stripe.StripeError as exc:
            error = stripe_error(exc)
            if self.breaker is not None:
                (self.breaker.record_failure if error.status >= 503 else self.breaker.record_success)()
            log.warning(
                "stripe.call_failed",
                operation=operation,
                status=exc.http_status,
                code=exc.code,
                stripe_request_id=exc.request_id,
                error=type(error).__name__,
            )
            raise error from exc
        if self.breaker is not None:
            self.breaker.record_success()
        return result

    async def create_payment(self, request: CheckoutRequest) -> CheckoutStarted:
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_cents,
                        "tax_behavior": "inclusive",  # consumer prices include VAT; we compute it ourselves
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.order_id,
            "metadata": {"order_id": request.order_id},
            # Session metadata stays on the session; PI and charge events need the order id too.
            "payment_intent_data": {"metadata": {"order_id": request.order_id}, "description": request.description},
            "locale": stripe_locale(request.locale),
            **self.restriction(request.payment_method),
        }
        expires_at = checkout_expiry(request.expires_at, self.clock.now())
        if expires_at is not None:
            params["expires_at"] = expires_at
        session = await self._call(
            "checkout.create",
            lambda: self.client.v1.checkout.sessions.create_async(params, {"idempotency_key": request.idempotency_key}),
        )
        if not session.url:
            raise StripeGatewayError("Stripe created a Checkout Session without a payment page.")
        log.info("stripe.checkout_created", order_id=request.order_id, session_id=session.id)
        return CheckoutStarted(provider=self.name, provider_payment_id=session.id, redirect_url=session.url)

    async def verify(self, provider_payment_id: str) -> PaymentOutcome:
        if not self.can_handle_payment_id(provider_payment_id):
            raise StripePaymentNotFound("This is not a Stripe payment id.")
        if provider_payment_id.startswith("pi_"):
            intent = await self._call(
                "payment_intent.retrieve",
                lambda: self.client.v1.payment_intents.retrieve_async(
                    provider_payment_id, {"expand": ["latest_charge"]}
                ),
            )
            return intent_outcome(intent.to_dict())
        session = await self._call(
            "checkout.retrieve",
            lambda: self.client.v1.checkout.sessions.retrieve_async(
                provider_payment_id, {"expand": ["payment_intent", "payment_intent.latest_charge"]}
            ),
        )
        return session_outcome(session.to_dict())

    async def capture(self, provider_payment_id: str, idempotency_key: str) -> PaymentOutcome:
        """Checkout captures on its own (automatic capture); this only reads the state."""
        return await self.verify(provider_payment_id)

    async def close(self, provider_payment_id: str, idempotency_key: str) -> PaymentOutcome:
        """Expire the Checkout Session: after a declined try it stays open and could still be paid."""
        # Refused when no longer open (paid or expired before we got to it): the state below says which.
        if provider_payment_id.startswith("cs_"):
            with contextlib.suppress(StripeRequestRejected):
                await self._call(
                    "checkout.expire",
                    lambda: self.client.v1.checkout.sessions.expire_async(
                        provider_payment_id, options={"idempotency_key": idempotency_key}
                    ),
                )
                log.info("stripe.checkout_expired", session_id=provider_payment_id)
        return await self.verify(provider_payment_id)

    async def refund(
        self, provider_payment_id: str, amount_cents: int, currency: str, idempotency_key: str, reason: str
    ) -> Refund:
        """A Refund of the payment's PaymentIntent (reference §2.10); the idempotency key makes a retry
        return the first refund instead of refunding again."""
        intent_id = provider_payment_id
        if provider_payment_id.startswith("cs_"):
            outcome = await self.verify(provider_payment_id)
            if outcome.reference is None:
                raise StripePaymentNotFound("This Checkout Session has no payment to refund.")
            intent_id = outcome.reference
        refund = await self._call(
            "refund.create",
            lambda: self.client.v1.refunds.create_async(
                {
                    "payment_intent": intent_id,
                    "amount": amount_cents,
                    # Stripe's reasons are a fixed list; ours goes into the metadata.
                    "reason": "requested_by_customer",
                    "metadata": {"carpulse_reason": reason[:500]},
                },
                {"idempotency_key": idempotency_key},
            ),
        )
        log.info("stripe.refunded", payment_intent=intent_id, refund_id=refund.id, status=refund.status)
        return Refund(
            provider=self.name,
            provider_refund_id=refund.id,
            status=PaymentStatus.refunded if refund.status == "succeeded" else PaymentStatus.pending,
            amount_cents=refund.amount,
            currency=refund.currency.upper(),
        )

    async def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        signature = _header(headers, "stripe-signature")
        try:
            self.client.construct_event(body, signature, self.webhook_secret, tolerance=self.webhook_tolerance_seconds)
        except stripe.SignatureVerificationError as exc:
            raise WebhookSignatureInvalid(exc.user_message or "bad Stripe signature") from exc
        except (ValueError, TypeError, AttributeError) as exc:  # not UTF-8, not JSON, not an object
            raise WebhookSignatureInvalid("The Stripe webhook body is not a JSON event.") from exc
        # The SDK checks only the past: a signature dated ahead would stay fresh for that long after it.
        signed_at = signature_timestamp(signature or "")
        if signed_at is None or signed_at > self.clock.now().timestamp() + self.webhook_clock_skew_seconds:
            raise WebhookSignatureInvalid("The Stripe signature is dated in the future, beyond the clock skew allowed.")
        return self.read_event(body)

    def read_event(self, payload: bytes) -> WebhookEvent:
        """A delivery verified when it arrived (the inbox keeps the raw body) as our event."""
        try:
            event = json.loads(payload)
        except ValueError as exc:
            raise WebhookSignatureInvalid("The Stripe webhook body is not a JSON event.") from exc
        event_id = _text(event.get("id")) if isinstance(event, dict) else None
        event_type = _text(event.get("type")) if isinstance(event, dict) else None
        if not isinstance(event, dict) or event_id is None or event_type is None:
            raise WebhookSignatureInvalid("The Stripe webhook body is not a JSON event.")
        obj = _object(_object(event.get("data")).get("object"))
        return WebhookEvent(
            provider=self.name,
            event_id=event_id,
            event_type=event_type,
            outcome=event_outcome(event_type, obj),
            payload=event,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()
