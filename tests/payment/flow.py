"""Checkout driven through HTTP the way a customer's browser would, against the sandbox fakes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from tests.pricing.test_pricing_http import selected_session


async def quote_for(
    client: httpx.AsyncClient,
    account: str = "solo",
    package: str = "basic",
    voucher: str | None = None,
    count: int | None = None,
) -> tuple[str, dict[str, Any]]:
    session_id = await selected_session(client, account, package, count)
    body: dict[str, Any] = {"session_id": session_id}
    if voucher:
        body["voucher_code"] = voucher
    response = await client.post("/api/v1/pricing/quote", json=body)
    assert response.status_code == 200, response.text
    return session_id, response.json()


async def checkout(client: httpx.AsyncClient, provider: str, **quote_options: Any) -> dict[str, Any]:
    session_id, quote = await quote_for(client, **quote_options)
    response = await client.post(
        "/api/v1/payment/create-intent",
        json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": provider, "locale": "fi"},
    )
    assert response.status_code == 200, response.text
    intent: dict[str, Any] = response.json()
    intent["session_id"] = session_id
    intent["quote"] = quote
    return intent


async def act_on_hosted_page(client: httpx.AsyncClient, redirect_url: str, outcome: str) -> httpx.Response:
    """Press the button on the provider's hosted page (sandbox flag), as the customer would."""
    url = urlsplit(redirect_url)
    query = {key: values[0] for key, values in parse_qs(url.query).items()} | {"sandbox_outcome": outcome}
    return await client.get(url.path, params=query)


async def settle(app: FastAPI) -> None:
    """Wait for the jobs the webhooks started."""
    await app.state.carpulse.jobs.drain()


async def order(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
