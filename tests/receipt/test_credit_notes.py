"""Credit notes: one per refunded receipt, numbered gap-free in their own series, even when refunds race."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from carpulse.models import CreditNote, Receipt
from carpulse.receipt.repository import ReceiptRepository
from tests.payment.flow import act_on_hosted_page, order, settle
from tests.pricing.test_pricing_http import selected_session

ORDERS = 12


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit": {"enabled": False}}


async def _paid_orders(client: httpx.AsyncClient, count: int) -> list[str]:
    session_id = await selected_session(client, "solo", "basic")
    order_ids = []
    for _ in range(count):
        quote = (await client.post("/api/v1/pricing/quote", json={"session_id": session_id})).json()
        intent = (
            await client.post(
                "/api/v1/payment/create-intent",
                json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": "stripe"},
            )
        ).json()
        await act_on_hosted_page(client, intent["redirect_url"], "pay")
        verified = await client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})
        assert verified.status_code == 200, verified.text
        order_ids.append(intent["order_id"])
    return order_ids


@pytest.mark.server
class TestCreditNoteNumbers:
    async def test_refunds_racing_each_other_get_gap_free_credit_note_numbers(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        state = committed_app.state.carpulse
        stripe = state.sandbox.stripe
        order_ids = await _paid_orders(client, ORDERS)
        await settle(committed_app)
        stripe.auto_deliver = False
        # Refunded at Stripe (as from its dashboard); the webhooks then arrive at once, twice each, shuffled.
        for order_id in order_ids:
            body = await order(client, order_id)
            intent = stripe.sessions[body["provider_payment_id"]]["payment_intent"]
            refunded = await client.post(
                "/_sandbox/stripe/v1/refunds",
                data={"payment_intent": intent},
                headers={"Authorization": f"Bearer {stripe.api_key}"},
            )
            assert refunded.status_code == 200, refunded.text

        async def taken_and_given_back() -> None:
            # A transaction that takes a number and rolls back leaves no hole.
            async with state.sessionmaker() as db:
                await ReceiptRepository(db).next_credit_note_number(state.clock.now().year)
                await asyncio.sleep(0.05)
                await db.rollback()

        await asyncio.gather(stripe.deliver_pending(duplicates=1, shuffle=True, seed=7), taken_and_given_back())
        await settle(committed_app)

        async with state.sessionmaker() as db:
            notes = list((await db.execute(select(CreditNote))).scalars())
            receipts = {r.id: r for r in (await db.execute(select(Receipt))).scalars()}
        assert len(notes) == ORDERS
        by_year: dict[int, list[int]] = {}
        for note in notes:
            by_year.setdefault(note.year, []).append(note.sequence)
            assert note.number == f"HYV-{note.year}-{note.sequence:06d}"
            assert note.gross_cents == -receipts[note.receipt_id].gross_cents
        for sequences in by_year.values():
            assert sorted(sequences) == list(range(1, len(sequences) + 1))
        for order_id in order_ids:
            body = await order(client, order_id)
            assert body["status"] == "refunded"
            assert body["credit_note_id"] is not None
            assert [t["to_status"] for t in body["transitions"]].count("refunded") == 1
