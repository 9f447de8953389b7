"""Shared steps for the Stripe fake's tests: a webhook inbox and a standard Checkout Session."""

from __future__ import annotations

import json
from typing import Any

import httpx
import stripe

from carpulse.payment.stripe.client import build_stripe_client

API_BASE = "http://stripe.test"
SUCCESS_URL = "https://shop.example/paid?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://shop.example/cancelled"


class Inbox:
    """A `send_webhook` that records deliveries and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    async def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((url, body, headers))
        return self.status

    @property
    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, body, _ in self.received]


def session_params(amount: int = 1900, currency: str = "eur", **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount,
                    "tax_behavior": "inclusive",
                    "product_data": {"name": "Basic vehicle report"},
                },
            }
        ],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": "ord_7Hk2",
        "metadata": {"order_id": "ord_7Hk2"},
        "payment_intent_data": {"metadata": {"order_id": "ord_7Hk2"}},
    }
    params.update(overrides)
    return params


async def create_session(sdk: stripe.StripeClient, **overrides: Any) -> stripe.checkout.Session:
    return await sdk.v1.checkout.sessions.create_async(session_params(**overrides))


async def act(
    http: httpx.AsyncClient, session: stripe.checkout.Session, outcome: str, method: str = "card"
) -> httpx.Response:
    """Press a hosted-page button through its query flag."""
    assert session.url is not None
    return await http.get(session.url, params={"sandbox_outcome": outcome, "sandbox_method": method})


async def no_sleep(seconds: float) -> None:
    return None


def sdk_with(http: httpx.AsyncClient, **options: Any) -> stripe.StripeClient:
    """The official SDK over `http` (our injected transport), without real sleeps between retries."""
    settings: dict[str, Any] = {"secret_key": "sk_test_sandbox", "api_base": API_BASE, "sleep": no_sleep, **options}
    return build_stripe_client(http, **settings)
