"""The PayPal fake over `httpx.ASGITransport`, with webhooks captured in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fakes.paypal import PayPalFake

BASE = "http://paypal.test"
CLIENT_ID = "paypal-sandbox-client"
CLIENT_SECRET = "paypal-sandbox-secret"
RETURN_URL = "https://shop.example/paypal/return?order=ord_1"
CANCEL_URL = "https://shop.example/paypal/cancel"


@dataclass
class Inbox:
    """A webhook listener: records every delivery and answers `status`."""

    status: int = 200
    received: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((url, body, headers))
        return self.status


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(inbox: Inbox, clock: Clock) -> PayPalFake:
    return PayPalFake(webhook_url="https://app.example/api/v1/payment/webhook/paypal", send_webhook=inbox, clock=clock)


@pytest.fixture
async def http(fake: PayPalFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as client:
        yield client


async def bearer(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.post(
        "/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def order_body(value: str = "19.00", *, legacy: bool = False, **unit: Any) -> dict[str, Any]:
    purchase_unit = {
        "reference_id": "ord_1",
        "custom_id": "ord_1",
        "invoice_id": "R-2026-000123",
        "description": "Basic vehicle report",
        "amount": {
            "currency_code": "EUR",
            "value": value,
            "breakdown": {"item_total": {"currency_code": "EUR", "value": value}},
        },
        **unit,
    }
    context = {"locale": "fi-FI", "return_url": RETURN_URL, "cancel_url": CANCEL_URL}
    body: dict[str, Any] = {"intent": "CAPTURE", "purchase_units": [purchase_unit]}
    if legacy:
        body["application_context"] = context
    else:
        body["payment_source"] = {"paypal": {"experience_context": {**context, "user_action": "PAY_NOW"}}}
    return body


async def create_order(
    http: httpx.AsyncClient, body: dict[str, Any] | None = None, request_id: str | None = None
) -> dict[str, Any]:
    headers = await bearer(http) | {"Prefer": "return=representation"}
    if request_id:
        headers["PayPal-Request-Id"] = request_id
    response = await http.post("/v2/checkout/orders", json=body or order_body(), headers=headers)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def approve(http: httpx.AsyncClient, order_id: str, outcome: str = "approve") -> httpx.Response:
    return await http.get("/checkoutnow", params={"token": order_id, "sandbox_outcome": outcome})


async def capture(http: httpx.AsyncClient, order_id: str, request_id: str | None = None) -> httpx.Response:
    headers = await bearer(http)
    if request_id:
        headers["PayPal-Request-Id"] = request_id
    return await http.post(f"/v2/checkout/orders/{order_id}/capture", json={}, headers=headers)


async def paid_order(http: httpx.AsyncClient, value: str = "19.00") -> dict[str, Any]:
    order = await create_order(http, order_body(value))
    await approve(http, order["id"])
    response = await capture(http, order["id"], f"capture-{order['id']}")
    assert response.status_code == 201, response.text
    captured: dict[str, Any] = response.json()
    return captured
