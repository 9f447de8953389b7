"""Two customers racing for a voucher's last use: one wins, the other is told clearly."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.payment.flow import act_on_hosted_page, order, settle
from tests.pricing.test_pricing_http import create_voucher, selected_session


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit": {"enabled": False}}


class TestLastUse:
    async def test_only_one_of_two_racing_checkouts_gets_the_last_use(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await create_voucher(client, admin_token_committed, max_redemptions=1)
        quotes = []
        for account in ("solo", "family"):
            session_id = await selected_session(client, account, "pro", count=1)
            quote = await client.post(
                "/api/v1/pricing/quote", json={"session_id": session_id, "voucher_code": "SPRING25"}
            )
            assert quote.status_code == 200, quote.text
            quotes.append((session_id, quote.json()["quote_id"]))

        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/payment/create-intent",
                    json={"session_id": session_id, "quote_id": quote_id, "provider": "stripe"},
                )
                for session_id, quote_id in quotes
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["type"] == "/problems/voucher-used-up"
        winner = next(r for r in responses if r.status_code == 200).json()

        await act_on_hosted_page(client, winner["redirect_url"], "pay")
        await settle(committed_app)
        assert (await order(client, winner["order_id"]))["status"] == "paid"
        vouchers = await client.get(
            "/api/v1/pricing/vouchers", headers={"Authorization": f"Bearer {admin_token_committed}"}
        )
        assert vouchers.json()[0]["uses"] == 1

    async def test_an_abandoned_checkout_gives_the_use_back(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await create_voucher(client, admin_token_committed, max_redemptions=1)
        first_session = await selected_session(client, "solo", "pro", count=1)
        quote = (
            await client.post("/api/v1/pricing/quote", json={"session_id": first_session, "voucher_code": "SPRING25"})
        ).json()
        intent = (
            await client.post(
                "/api/v1/payment/create-intent",
                json={"session_id": first_session, "quote_id": quote["quote_id"], "provider": "stripe"},
            )
        ).json()
        await act_on_hosted_page(client, intent["redirect_url"], "abandon")
        await settle(committed_app)
        assert (await order(client, intent["order_id"]))["status"] == "expired"

        second_session = await selected_session(client, "family", "pro", count=1)
        again = await client.post(
            "/api/v1/pricing/quote", json={"session_id": second_session, "voucher_code": "SPRING25"}
        )
        assert again.status_code == 200
        assert again.json()["voucher_code"] == "SPRING25"
