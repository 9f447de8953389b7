"""Quote → create-intent → pay on the fake → webhook → paid → receipt, through HTTP only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.payment.flow import act_on_hosted_page, checkout, order, settle
from tests.pricing.test_pricing_http import create_voucher

PROBLEM = "application/problem+json"


class TestStripeCheckout:
    async def test_pay_then_webhook_then_paid_with_receipt(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        intent = await checkout(client, "stripe")
        assert intent["amount_cents"] == 1900
        assert intent["currency"] == "EUR"
        assert intent["provider_payment_id"].startswith("cs_")
        assert (await order(client, intent["order_id"]))["status"] == "pending_payment"

        paid = await act_on_hosted_page(client, intent["redirect_url"], "pay")
        assert paid.status_code in (302, 303)
        await settle(committed_app)

        body = await order(client, intent["order_id"])
        assert body["status"] == "paid"
        assert body["payment_method"]
        assert [t["to_status"] for t in body["transitions"]] == ["pending_payment", "paid"]
        assert body["transitions"][1]["actor"] == "webhook:stripe"

        receipt = (await client.get(f"/api/v1/payment/receipt/{body['receipt_id']}")).json()
        assert receipt["gross_cents"] == 1900
        assert receipt["net_cents"] + receipt["vat_cents"] == 1900
        assert receipt["vat_rate"] == "25.5"
        assert receipt["locale"] == "fi"
        assert receipt["seller"]["y_tunnus"]
        assert receipt["number"].endswith("-000001")
        by_order = await client.get(f"/api/v1/payment/receipt/{intent['order_id']}")
        assert by_order.json()["number"] == receipt["number"]

        pdf = await client.get(f"/api/v1/payment/receipt/{receipt['id']}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")

    async def test_verify_reaches_the_same_paid_state(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        fake = committed_app.state.carpulse.sandbox.stripe
        fake.auto_deliver = False  # the customer's verify arrives before any webhook
        intent = await checkout(client, "stripe")
        await act_on_hosted_page(client, intent["redirect_url"], "pay")
        verified = await client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})
        assert verified.status_code == 200
        assert verified.json()["status"] == "paid"
        assert verified.json()["transitions"][-1]["actor"] == "verify"
        await fake.deliver_pending(duplicates=2)
        await settle(committed_app)
        body = await order(client, intent["order_id"])
        assert [t["to_status"] for t in body["transitions"]].count("paid") == 1

    async def test_decline_leaves_the_order_unpaid_and_releases_the_voucher(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await create_voucher(client, admin_token_committed, max_redemptions=1)
        intent = await checkout(client, "stripe", voucher="SPRING25")
        assert intent["amount_cents"] == 1900 - 475
        await act_on_hosted_page(client, intent["redirect_url"], "decline")
        await settle(committed_app)
        body = await order(client, intent["order_id"])
        assert body["status"] == "failed"
        assert body["receipt_id"] is None
        vouchers = await client.get(
            "/api/v1/pricing/vouchers", headers={"Authorization": f"Bearer {admin_token_committed}"}
        )
        assert vouchers.json()[0]["uses"] == 0

    async def test_abandon_expires_the_order(self, committed_app: FastAPI, committed_client: httpx.AsyncClient) -> None:
        intent = await checkout(committed_client, "stripe")
        await act_on_hosted_page(committed_client, intent["redirect_url"], "abandon")
        await settle(committed_app)
        assert (await order(committed_client, intent["order_id"]))["status"] == "expired"


class TestPayPalCheckout:
    async def test_approve_capture_paid_with_receipt(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        intent = await checkout(client, "paypal", package="pro")
        assert intent["amount_cents"] == 2900
        approved = await act_on_hosted_page(client, intent["redirect_url"], "approve")
        assert approved.status_code in (302, 303)
        await settle(committed_app)
        captured = await client.post(f"/api/v1/payment/capture/paypal/{intent['order_id']}")
        assert captured.status_code == 200, captured.text
        assert captured.json()["status"] == "paid"
        await settle(committed_app)
        body = await order(client, intent["order_id"])
        assert [t["to_status"] for t in body["transitions"]].count("paid") == 1
        receipt = (await client.get(f"/api/v1/payment/receipt/{body['receipt_id']}")).json()
        assert receipt["gross_cents"] == 2900
        assert receipt["payment_provider"] == "paypal"

    async def test_cancel_leaves_the_order_unpaid(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        intent = await checkout(committed_client, "paypal")
        await act_on_hosted_page(committed_client, intent["redirect_url"], "cancel")
        await settle(committed_app)
        body = await order(committed_client, intent["order_id"])
        assert body["status"] == "pending_payment"
        capture = await committed_client.post(f"/api/v1/payment/capture/paypal/{intent['order_id']}")
        assert capture.status_code in (409, 422, 502)
        assert capture.headers["content-type"] == PROBLEM

    async def test_a_declined_capture_closes_the_order_for_payment(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        intent = await checkout(client, "paypal")
        await act_on_hosted_page(client, intent["redirect_url"], "decline")
        await settle(committed_app)
        declined = await client.post(f"/api/v1/payment/capture/paypal/{intent['order_id']}")
        assert declined.status_code == 200, declined.text
        assert declined.json()["status"] == "failed"
        await settle(committed_app)

        again = await client.post(f"/api/v1/payment/capture/paypal/{intent['order_id']}")

        assert again.status_code == 409, again.text
        assert again.json()["type"] == "/problems/order-not-payable"
        assert (await order(client, intent["order_id"]))["status"] == "failed"


class TestCreateIntentRefusals:
    async def test_another_sessions_quote_is_404(self, committed_client: httpx.AsyncClient) -> None:
        from tests.payment.flow import quote_for

        _, quote = await quote_for(committed_client)
        other_session, _ = await quote_for(committed_client, account="family", package="pro")
        response = await committed_client.post(
            "/api/v1/payment/create-intent",
            json={"session_id": other_session, "quote_id": quote["quote_id"], "provider": "stripe"},
        )
        assert response.status_code == 404
        assert response.json()["type"] == "/problems/quote-not-found"

    @pytest.mark.parametrize(
        "changes",
        [{"provider": "klarna"}, {"provider": None}, {"quote_id": "short"}, {"session_id": "../../etc"}],
    )
    async def test_bad_bodies_are_422(self, committed_client: httpx.AsyncClient, changes: dict[str, Any]) -> None:
        from tests.payment.flow import quote_for

        session_id, quote = await quote_for(committed_client)
        body = {"session_id": session_id, "quote_id": quote["quote_id"], "provider": "stripe"} | changes
        response = await committed_client.post("/api/v1/payment/create-intent", json=body)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM

    async def test_client_sent_amount_and_plan_are_ignored(self, committed_client: httpx.AsyncClient) -> None:
        from tests.payment.flow import quote_for

        session_id, quote = await quote_for(committed_client)
        response = await committed_client.post(
            "/api/v1/payment/create-intent",
            json={
                "session_id": session_id,
                "quote_id": quote["quote_id"],
                "provider": "stripe",
                "amount": 1,
                "plan": "bulk",
            },
        )
        assert response.json()["amount_cents"] == 1900

    async def test_second_create_intent_returns_the_same_order(self, committed_client: httpx.AsyncClient) -> None:
        from tests.payment.flow import quote_for

        session_id, quote = await quote_for(committed_client)
        body = {"session_id": session_id, "quote_id": quote["quote_id"], "provider": "stripe"}
        first = (await committed_client.post("/api/v1/payment/create-intent", json=body)).json()
        second = (await committed_client.post("/api/v1/payment/create-intent", json=body)).json()
        assert first["order_id"] == second["order_id"]
        assert first["provider_payment_id"] == second["provider_payment_id"]


class TestRefunds:
    async def _paid_stripe_order(self, app: FastAPI, client: httpx.AsyncClient) -> tuple[dict[str, Any], str]:
        intent = await checkout(client, "stripe")
        await act_on_hosted_page(client, intent["redirect_url"], "pay")
        await settle(app)
        session = app.state.carpulse.sandbox.stripe.sessions[intent["provider_payment_id"]]
        payment_intent = session["payment_intent"]
        return intent, payment_intent if isinstance(payment_intent, str) else payment_intent["id"]

    async def _refund(self, client: httpx.AsyncClient, payment_intent: str, amount: int | None = None) -> None:
        form = {"payment_intent": payment_intent} | ({"amount": str(amount)} if amount else {})
        response = await client.post(
            "/_sandbox/stripe/v1/refunds", data=form, headers={"Authorization": "Bearer sk_test_sandbox"}
        )
        assert response.status_code == 200, response.text

    async def test_a_full_refund_by_webhook_moves_the_order_to_refunded(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        intent, payment_intent = await self._paid_stripe_order(committed_app, committed_client)
        await self._refund(committed_client, payment_intent)
        await settle(committed_app)
        body = await order(committed_client, intent["order_id"])
        assert body["status"] == "refunded"
        assert body["transitions"][-1]["actor"] == "webhook:stripe"

    async def test_a_partial_refund_keeps_the_order_paid(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        intent, payment_intent = await self._paid_stripe_order(committed_app, committed_client)
        await self._refund(committed_client, payment_intent, amount=500)
        await settle(committed_app)
        assert (await order(committed_client, intent["order_id"]))["status"] == "paid"


class TestReceiptPdfLimit:
    async def test_the_pdf_carries_its_rate_limit_and_is_limited_per_receipt(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        intent = await checkout(client, "stripe")
        await act_on_hosted_page(client, intent["redirect_url"], "pay")
        await settle(committed_app)
        receipt_id = (await order(client, intent["order_id"]))["receipt_id"]
        path = f"/api/v1/payment/receipt/{receipt_id}/pdf"

        first = await client.get(path)
        statuses = []
        for number in range(10):
            transport = httpx.ASGITransport(app=committed_app, client=(f"198.51.100.{number + 1}", 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
                statuses.append((await elsewhere.get(path)).status_code)

        assert first.status_code == 200
        assert first.headers["content-type"] == "application/pdf"
        assert first.headers["ratelimit-policy"] == '10;w=60;comment="pdf"'
        assert first.headers["ratelimit-remaining"] == "9"
        assert statuses == [200] * 9 + [429]
