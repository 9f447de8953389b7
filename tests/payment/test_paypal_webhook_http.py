"""PayPal deliveries through `POST /api/v1/payment/webhook/paypal`: where the signing certificate may come from."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from carpulse.models import InboundEvent
from tests.payment.flow import act_on_hosted_page, checkout, settle

PROBLEM = "application/problem+json"
WEBHOOK = "/api/v1/payment/webhook/paypal"


async def approved_delivery(app: FastAPI, client: httpx.AsyncClient) -> tuple[bytes, dict[str, str], str]:
    """A genuine CHECKOUT.ORDER.APPROVED delivery, held back, and the path of its certificate."""
    fake = app.state.carpulse.sandbox.paypal
    fake.auto_deliver = False
    intent = await checkout(client, "paypal")
    await act_on_hosted_page(client, intent["redirect_url"], "approve")
    event = next(e for e in fake.events if e.event_type == "CHECKOUT.ORDER.APPROVED")
    headers = fake.sign(event.body)
    return event.body, headers, httpx.URL(headers["PAYPAL-CERT-URL"]).path


async def stored_events(app: FastAPI) -> int:
    async with app.state.carpulse.sessionmaker() as db:
        return int((await db.execute(select(func.count()).select_from(InboundEvent))).scalar_one())


class TestCertificateUrl:
    async def test_the_sandbox_own_certificate_is_accepted(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        body, headers, _ = await approved_delivery(committed_app, committed_client)

        response = await committed_client.post(WEBHOOK, content=body, headers=headers)

        assert response.status_code == 202, response.text
        await settle(committed_app)
        assert await stored_events(committed_app) == 1

    @pytest.mark.parametrize(
        "origin",
        [
            "https://api-m.paypal.com:8443",  # an allowed PayPal host, another port
            "https://api.paypal.com:80",
            "http://testserver:8100",  # the sandbox's own host, but not its port
        ],
    )
    async def test_an_allowed_host_on_another_port_is_rejected(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, origin: str
    ) -> None:
        # The vendor client reaches this app whatever the host, so the fetched certificate would be
        # the genuine one: only the URL check stands between the delivery and the inbox.
        body, headers, path = await approved_delivery(committed_app, committed_client)

        response = await committed_client.post(
            WEBHOOK, content=body, headers=headers | {"PAYPAL-CERT-URL": f"{origin}{path}"}
        )

        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/webhook-rejected"
        assert "allowed PayPal host" in response.json()["detail"]
        assert await stored_events(committed_app) == 0

    async def test_an_allowed_host_on_its_default_port_is_fetched(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        body, headers, path = await approved_delivery(committed_app, committed_client)

        response = await committed_client.post(
            WEBHOOK, content=body, headers=headers | {"PAYPAL-CERT-URL": f"https://api-m.paypal.com:443{path}"}
        )

        assert response.status_code == 202, response.text
