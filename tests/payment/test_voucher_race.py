"""Two customers racing for a voucher's last use: one wins, the other is told clearly."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.payment.flow import act_on_hosted_page, order, quote_for, settle
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


async def voucher_quote(client: httpx.AsyncClient, account: str = "solo") -> tuple[str, str]:
    session_id = await selected_session(client, account, "pro", count=1)
    quote = await client.post("/api/v1/pricing/quote", json={"session_id": session_id, "voucher_code": "SPRING25"})
    assert quote.status_code == 200, quote.text
    return session_id, quote.json()["quote_id"]


async def create_intent(client: httpx.AsyncClient, session_id: str, quote_id: str) -> httpx.Response:
    return await client.post(
        "/api/v1/payment/create-intent", json={"session_id": session_id, "quote_id": quote_id, "provider": "stripe"}
    )


async def voucher_read(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/pricing/vouchers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()[0]
    return body


class TestOncePerCustomer:
    async def test_two_quotes_taken_first_lead_to_one_discounted_order(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await create_voucher(client, admin_token_committed, max_per_customer=1)
        quotes = [await voucher_quote(client) for _ in range(2)]

        first = await create_intent(client, *quotes[0])
        assert first.status_code == 200, first.text
        second = await create_intent(client, *quotes[1])
        assert second.status_code == 409, second.text
        assert second.headers["content-type"] == "application/problem+json"
        assert second.json()["type"] == "/problems/voucher-no-longer-valid"

        await act_on_hosted_page(client, first.json()["redirect_url"], "pay")
        await settle(committed_app)
        assert (await voucher_read(client, admin_token_committed))["uses"] == 1

    async def test_concurrent_orders_of_one_customer_get_one_use(
        self, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await create_voucher(client, admin_token_committed, max_per_customer=1)
        quotes = [await voucher_quote(client) for _ in range(3)]

        responses = await asyncio.gather(*(create_intent(client, *quote) for quote in quotes))

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409, 409], [r.text for r in responses]
        assert {r.json()["type"] for r in responses if r.status_code == 409} == {"/problems/voucher-no-longer-valid"}
        assert (await voucher_read(client, admin_token_committed))["uses"] == 1

    async def test_another_customer_is_not_affected(
        self, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await create_voucher(client, admin_token_committed, max_per_customer=1)
        quotes = [await voucher_quote(client, "solo"), await voucher_quote(client, "family")]
        responses = await asyncio.gather(*(create_intent(client, *quote) for quote in quotes))
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]


class TestWithdrawnAfterTheQuote:
    @pytest.mark.parametrize(
        "change",
        [{"active": False}, {"valid_until": "2001-01-01T00:00:00+00:00"}],
        ids=["deactivated", "expired"],
    )
    async def test_create_intent_asks_for_a_new_quote(
        self, committed_client: httpx.AsyncClient, admin_token_committed: str, change: dict[str, Any]
    ) -> None:
        client = committed_client
        voucher = await create_voucher(client, admin_token_committed)
        session_id, quote_id = await voucher_quote(client)
        patched = await client.patch(
            f"/api/v1/pricing/vouchers/{voucher['id']}",
            json=change,
            headers={"Authorization": f"Bearer {admin_token_committed}"},
        )
        assert patched.status_code == 200, patched.text

        response = await create_intent(client, session_id, quote_id)

        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/voucher-no-longer-valid"
        assert "new quote" in response.json()["detail"]
        assert (await voucher_read(client, admin_token_committed))["uses"] == 0
        again = await client.post("/api/v1/pricing/quote", json={"session_id": session_id})
        assert again.status_code == 200
        assert (await create_intent(client, session_id, again.json()["quote_id"])).status_code == 200


class TestLatePayment:
    async def test_a_declined_checkout_cannot_be_paid_once_its_use_went_elsewhere(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await create_voucher(client, admin_token_committed, max_redemptions=1)
        first = (await create_intent(client, *await voucher_quote(client, "solo"))).json()
        await act_on_hosted_page(client, first["redirect_url"], "decline")
        await settle(committed_app)
        assert (await voucher_read(client, admin_token_committed))["uses"] == 0

        second = await create_intent(client, *await voucher_quote(client, "family"))
        assert second.status_code == 200, second.text

        late = await act_on_hosted_page(client, first["redirect_url"], "pay")
        assert late.status_code == 409, late.text
        await settle(committed_app)
        assert (await order(client, first["order_id"]))["status"] == "expired"
        await act_on_hosted_page(client, second.json()["redirect_url"], "pay")
        await settle(committed_app)
        assert (await order(client, second.json()["order_id"]))["status"] == "paid"
        voucher = await voucher_read(client, admin_token_committed)
        assert (voucher["uses"], voucher["over_cap_uses"]) == (1, 0)

    async def test_a_failed_order_is_not_offered_again(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        session_id, quote = await quote_for(client)
        first = await create_intent(client, session_id, quote["quote_id"])
        await act_on_hosted_page(client, first.json()["redirect_url"], "decline")
        await settle(committed_app)
        again = await create_intent(client, session_id, quote["quote_id"])
        assert again.status_code == 409, again.text
        assert again.json()["type"] == "/problems/order-not-payable"

    async def test_a_payment_that_still_arrives_is_honoured_and_shown_over_the_cap(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        stripe = committed_app.state.carpulse.sandbox.stripe
        await create_voucher(client, admin_token_committed, max_redemptions=1)
        first = (await create_intent(client, *await voucher_quote(client, "solo"))).json()
        # Stripe is down when we close the declined checkout: the session stays open.
        stripe.inject_error(500, should_retry=False)
        await act_on_hosted_page(client, first["redirect_url"], "decline")
        await settle(committed_app)
        second = await create_intent(client, *await voucher_quote(client, "family"))
        assert second.status_code == 200, second.text
        await act_on_hosted_page(client, second.json()["redirect_url"], "pay")

        late = await act_on_hosted_page(client, first["redirect_url"], "pay")
        assert late.status_code == 303, late.text
        await settle(committed_app)

        body = await order(client, first["order_id"])
        assert body["status"] == "paid"
        assert any("over its cap" in (t["reason"] or "") for t in body["transitions"]), body["transitions"]
        assert (await order(client, second.json()["order_id"]))["status"] == "paid"
        voucher = await voucher_read(client, admin_token_committed)
        assert (voucher["uses"], voucher["max_redemptions"], voucher["over_cap_uses"]) == (1, 1, 1)
