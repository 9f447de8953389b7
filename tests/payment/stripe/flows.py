"""Shared steps for the Stripe gateway's tests: the gateway wired to the fake by transport."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from carpulse.payment.gateway import CheckoutRequest, CheckoutStarted
from carpulse.payment.stripe import StripeGateway
from fakes.stripe import StripeFake

API_BASE = "http://stripe.test"
SECRET_KEY = "sk_test_sandbox"
WEBHOOK_SECRET = "whsec_sandbox"


class Inbox:
    """A `send_webhook` that keeps each delivery (url, body, headers) for the test to parse."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    async def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((url, body, headers))
        return 200


async def no_sleep(seconds: float) -> None:
    return None


def gateway_for(http: httpx.AsyncClient, **options: Any) -> StripeGateway:
    settings: dict[str, Any] = {
        "secret_key": SECRET_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "api_base": API_BASE,
        "http": http,
        "retry_sleep": no_sleep,
        **options,
    }
    return StripeGateway(**settings)


def checkout_request(
    order_id: str = "ord_7Hk2",
    amount_cents: int = 1900,
    currency: str = "EUR",
    locale: str = "fi",
    idempotency_key: str | None = None,
    expires_at: datetime | None = None,
) -> CheckoutRequest:
    return CheckoutRequest(
        order_id=order_id,
        amount_cents=amount_cents,
        currency=currency,
        description="Basic vehicle report",
        locale=locale,
        success_url="https://carpulse.example/paid?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://carpulse.example/checkout",
        idempotency_key=idempotency_key or f"order:{order_id}:checkout:v1",
        expires_at=expires_at,
    )


async def press(http: httpx.AsyncClient, started: CheckoutStarted, outcome: str, method: str = "card") -> None:
    """The customer's button on the fake's hosted page (its query flag)."""
    assert started.redirect_url is not None
    response = await http.get(started.redirect_url, params={"sandbox_outcome": outcome, "sandbox_method": method})
    assert response.status_code == 303


def last_checkout_params(fake: StripeFake) -> dict[str, Any]:
    posts = [r for r in fake.requests if r.method == "POST" and r.path == "/v1/checkout/sessions"]
    return posts[-1].params
