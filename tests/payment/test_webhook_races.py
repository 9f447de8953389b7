"""Exactly once: replays, duplicates, reordering and verify calls racing webhooks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from carpulse.models import InboundEvent, OrderTransition, Receipt
from tests.payment.flow import act_on_hosted_page, checkout, order, settle
from tests.pricing.test_pricing_http import selected_session

PROBLEM = "application/problem+json"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit": {"enabled": False}}


async def _count(app: FastAPI, statement: Any) -> int:
    async with app.state.carpulse.sessionmaker() as db:
        return int((await db.execute(statement)).scalar_one())


class TestFiftyOrdersTwoHundredDeliveries:
    async def test_exactly_fifty_paid_transitions_and_gap_free_receipts(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        fake = committed_app.state.carpulse.sandbox.stripe
        fake.auto_deliver = False
        session_id = await selected_session(client, "solo", "basic")
        order_ids = []
        for _ in range(50):
            quote = (await client.post("/api/v1/pricing/quote", json={"session_id": session_id})).json()
            intent = await client.post(
                "/api/v1/payment/create-intent",
                json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": "stripe"},
            )
            assert intent.status_code == 200, intent.text
            order_ids.append(intent.json()["order_id"])
            await act_on_hosted_page(client, intent.json()["redirect_url"], "pay")

        async def verify_all() -> None:
            for order_id in order_ids:
                response = await client.post("/api/v1/payment/verify", json={"order_id": order_id})
                assert response.status_code == 200, response.text

        # Each order has 2 events (session completed, payment intent succeeded): 100 events, each
        # delivered twice more = 300 deliveries in random order, racing the customers' verify calls.
        await asyncio.gather(fake.deliver_pending(duplicates=2, shuffle=True, seed=11), verify_all())
        await settle(committed_app)
        assert len(fake.deliveries) >= 200

        paid = await _count(
            committed_app, select(func.count()).select_from(OrderTransition).where(OrderTransition.to_status == "paid")
        )
        assert paid == 50
        receipts = await _count(committed_app, select(func.count()).select_from(Receipt))
        assert receipts == 50
        async with committed_app.state.carpulse.sessionmaker() as db:
            numbers = sorted((await db.execute(select(Receipt.sequence))).scalars())
        assert numbers == list(range(1, 51))
        events = await _count(committed_app, select(func.count()).select_from(InboundEvent))
        assert events == len({event["id"] for event in fake.events})
        for order_id in order_ids[:5]:
            assert (await order(client, order_id))["status"] == "paid"


class TestForgedAndStaleWebhooks:
    async def _paid_event(self, committed_app: FastAPI, client: httpx.AsyncClient) -> tuple[dict[str, Any], bytes]:
        fake = committed_app.state.carpulse.sandbox.stripe
        fake.auto_deliver = False
        intent = await checkout(client, "stripe")
        await act_on_hosted_page(client, intent["redirect_url"], "pay")
        event = next(e for e in fake.events if e["type"] == "checkout.session.completed")
        return intent, json.dumps(event).encode()

    async def test_forged_signature_is_rejected_and_nothing_changes(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        intent, body = await self._paid_event(committed_app, committed_client)
        response = await committed_client.post(
            "/api/v1/payment/webhook/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=" + "0" * 64}
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/webhook-rejected"
        await settle(committed_app)
        assert (await order(committed_client, intent["order_id"]))["status"] == "pending_payment"
        assert await _count(committed_app, select(func.count()).select_from(InboundEvent)) == 0

    async def test_stale_timestamp_is_rejected(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        import time

        fake = committed_app.state.carpulse.sandbox.stripe
        intent, body = await self._paid_event(committed_app, committed_client)
        stale = fake.sign(body, timestamp=int(time.time()) - 3600)
        response = await committed_client.post(
            "/api/v1/payment/webhook/stripe", content=body, headers={"Stripe-Signature": stale}
        )
        assert response.status_code == 400
        assert (await order(committed_client, intent["order_id"]))["status"] == "pending_payment"

    async def test_a_timestamp_in_the_future_beyond_the_clock_skew_is_rejected(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        import time

        fake = committed_app.state.carpulse.sandbox.stripe
        intent, body = await self._paid_event(committed_app, committed_client)
        skew = committed_app.state.carpulse.settings.stripe.webhook_clock_skew_seconds
        # A signature made ahead of time stays "fresh" for as long as the tolerance after its date.
        ahead = fake.sign(body, timestamp=int(time.time()) + skew + 3600)
        response = await committed_client.post(
            "/api/v1/payment/webhook/stripe", content=body, headers={"Stripe-Signature": ahead}
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/webhook-rejected"
        assert "future" in response.json()["detail"]
        await settle(committed_app)
        assert (await order(committed_client, intent["order_id"]))["status"] == "pending_payment"
        assert await _count(committed_app, select(func.count()).select_from(InboundEvent)) == 0

    async def test_a_timestamp_within_the_clock_skew_is_accepted(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        import time

        fake = committed_app.state.carpulse.sandbox.stripe
        intent, body = await self._paid_event(committed_app, committed_client)
        skew = committed_app.state.carpulse.settings.stripe.webhook_clock_skew_seconds
        slightly_ahead = fake.sign(body, timestamp=int(time.time()) + skew // 2)
        response = await committed_client.post(
            "/api/v1/payment/webhook/stripe", content=body, headers={"Stripe-Signature": slightly_ahead}
        )
        assert response.status_code == 202, response.text
        await settle(committed_app)
        assert (await order(committed_client, intent["order_id"]))["status"] == "paid"

    async def test_tampered_body_is_rejected(self, committed_app: FastAPI, committed_client: httpx.AsyncClient) -> None:
        fake = committed_app.state.carpulse.sandbox.stripe
        _intent, body = await self._paid_event(committed_app, committed_client)
        header = fake.sign(body)
        tampered = body.replace(b'"amount_total": 1900', b'"amount_total": 1')
        response = await committed_client.post(
            "/api/v1/payment/webhook/stripe", content=tampered + b" ", headers={"Stripe-Signature": header}
        )
        assert response.status_code == 400

    async def test_a_replayed_delivery_is_accepted_once(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        fake = committed_app.state.carpulse.sandbox.stripe
        intent, body = await self._paid_event(committed_app, committed_client)
        header = fake.sign(body)
        first = await committed_client.post(
            "/api/v1/payment/webhook/stripe", content=body, headers={"Stripe-Signature": header}
        )
        again = await committed_client.post(
            "/api/v1/payment/webhook/stripe", content=body, headers={"Stripe-Signature": header}
        )
        assert first.status_code == again.status_code == 202
        assert first.json() == {"received": True, "duplicate": False}
        assert again.json() == {"received": True, "duplicate": True}
        await settle(committed_app)
        assert (await order(committed_client, intent["order_id"]))["status"] == "paid"


class TestAmountMismatch:
    async def test_a_payment_for_another_amount_flags_the_order(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        fake = committed_app.state.carpulse.sandbox.stripe
        fake.auto_deliver = False
        intent = await checkout(committed_client, "stripe")
        await act_on_hosted_page(committed_client, intent["redirect_url"], "pay")
        event = next(e for e in fake.events if e["type"] == "checkout.session.completed")
        forged = json.loads(json.dumps(event))
        forged["id"] = "evt_mismatch"
        forged["data"]["object"]["amount_total"] = 100
        body = json.dumps(forged).encode()
        response = await committed_client.post(
            "/api/v1/payment/webhook/stripe", content=body, headers={"Stripe-Signature": fake.sign(body)}
        )
        assert response.status_code == 202
        await settle(committed_app)
        flagged = await order(committed_client, intent["order_id"])
        assert flagged["status"] == "pending_payment"
        assert flagged["flagged"] is True
        assert flagged["receipt_id"] is None


def _is_a_path(transitions: list[dict[str, Any]]) -> bool:
    """Each recorded transition leaves the state the one before it entered (a flag or partial refund stays put)."""
    current = None
    for transition in transitions:
        if transition["from_status"] != current:
            return False
        current = transition["to_status"]
    return True


class TestDeclineAndSuccessAtTheSameMoment:
    async def test_every_history_is_a_path_of_the_state_machine(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        fake = committed_app.state.carpulse.sandbox.stripe
        fake.auto_deliver = False
        session_id = await selected_session(client, "solo", "basic")
        order_ids: list[str] = []
        event_ids: list[str] = []
        for _ in range(25):
            quote = (await client.post("/api/v1/pricing/quote", json={"session_id": session_id})).json()
            intent = await client.post(
                "/api/v1/payment/create-intent",
                json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": "stripe"},
            )
            assert intent.status_code == 200, intent.text
            order_ids.append(intent.json()["order_id"])
            known = len(fake.events)
            # The card is declined, then the customer pays with another on the same hosted page.
            await act_on_hosted_page(client, intent.json()["redirect_url"], "decline")
            await act_on_hosted_page(client, intent.json()["redirect_url"], "pay")
            event_ids += [event["id"] for event in fake.events[known:]]

        deliveries = await asyncio.gather(*(fake.redeliver(event_id) for event_id in event_ids))
        await settle(committed_app)

        assert all(delivery.status_code == 202 for delivery in deliveries)
        histories = {order_id: (await order(client, order_id))["transitions"] for order_id in order_ids}
        contradictory = [
            [(step["from_status"], step["to_status"], step["created_at"]) for step in history]
            for history in histories.values()
            if not _is_a_path(history)
        ]
        assert contradictory == []
        for history in histories.values():
            assert history[-1]["to_status"] in ("paid", "fulfilled")
