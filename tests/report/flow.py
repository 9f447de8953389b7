"""A paid order through HTTP, and waiting for its reports, as a customer's browser would."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from tests.payment.flow import act_on_hosted_page, checkout

REPORTS_ON = {"report": {"start_on_payment": True}}


async def settle_reports(app: FastAPI, rounds: int = 50) -> None:
    """Drain jobs until no job is left (a job may start others: order paid → one render per vehicle)."""
    jobs = app.state.carpulse.jobs
    for _ in range(rounds):
        await jobs.drain()
        await asyncio.sleep(0)
        if not getattr(jobs.broker, "_running_tasks", None):
            return


async def paid_order(
    client: httpx.AsyncClient,
    app: FastAPI,
    *,
    package: str = "pro",
    account: str = "solo",
    provider: str = "stripe",
    settle: bool = True,
) -> dict[str, Any]:
    """Buy and pay; with `settle`, also wait for the jobs the payment started (renders included)."""
    intent = await checkout(client, provider, account=account, package=package)
    paid = await act_on_hosted_page(client, intent["redirect_url"], "pay")
    assert paid.status_code < 400, paid.text
    verified = await client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})
    assert verified.status_code == 200, verified.text
    if settle:
        await settle_reports(app)
    return intent


async def reports_of(client: httpx.AsyncClient, target: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tesla/report/{target}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def local(url: str) -> str:
    return url.removeprefix("http://testserver")
