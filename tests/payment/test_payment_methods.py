"""MobilePay, Apple Pay and Google Pay through Stripe; switching provider before paying; the return's words.

Everything through HTTP against the sandbox fakes: create-intent, the provider's hosted page, the provider
sending the browser back to `/api/v1/payment/return`, webhooks, the order and its receipt.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader

from tests.payment.flow import act_on_hosted_page, checkout, order, quote_for, settle

PROBLEM = "application/problem+json"
WALLETS = {"mobilepay": "MobilePay", "apple_pay": "Apple Pay", "google_pay": "Google Pay"}


async def create_intent(client: httpx.AsyncClient, intent: dict[str, Any], provider: str) -> httpx.Response:
    """create-intent again for the quote `intent` was made for, with another choice."""
    body = {"session_id": intent["session_id"], "quote_id": intent["quote"]["quote_id"], "provider": provider}
    return await client.post("/api/v1/payment/create-intent", json=body)


async def come_back(client: httpx.AsyncClient, provider_redirect: httpx.Response) -> dict[str, str]:
    """Follow the provider's redirect to our return endpoint; the query it sends the frontend."""
    assert provider_redirect.status_code == 303, provider_redirect.text
    back = urlsplit(provider_redirect.headers["location"])
    assert back.path == "/api/v1/payment/return"
    answer = await client.get(back.path, params={k: v[0] for k, v in parse_qs(back.query).items()})
    assert answer.status_code == 303, answer.text
    frontend = urlsplit(answer.headers["location"])
    return {key: values[0] for key, values in parse_qs(frontend.query).items()}


def stripe_fake(app: FastAPI) -> Any:
    return app.state.carpulse.sandbox.stripe


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


class TestWalletPurchase:
    @pytest.mark.parametrize("method", list(WALLETS))
    async def test_each_method_completes_a_purchase_and_the_receipt_names_it(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, method: str
    ) -> None:
        client = committed_client
        intent = await checkout(client, method)
        assert intent["provider"] == method
        assert intent["provider_payment_id"].startswith("cs_")
        page = await client.get(urlsplit(intent["redirect_url"]).path)
        assert page.status_code == 200
        offered = [label for label in ("Card", *WALLETS.values()) if f"> {label}</label>" in page.text]
        assert offered == [WALLETS[method]]

        paid = await act_on_hosted_page(client, intent["redirect_url"], "pay")  # the page's only choice
        assert (await come_back(client, paid))["payment"] == "paid"
        await settle(committed_app)

        body = await order(client, intent["order_id"])
        assert body["status"] == "paid"
        assert body["provider"] == "stripe"
        assert body["checkout_method"] == method
        assert body["payment_method"] == method
        receipt = (await client.get(f"/api/v1/payment/receipt/{body['receipt_id']}")).json()
        assert receipt["payment_method"] == method
        assert receipt["payment_provider"] == "stripe"
        pdf = await client.get(f"/api/v1/payment/receipt/{receipt['id']}/pdf")
        assert WALLETS[method] in pdf_text(pdf.content)

    async def test_the_session_asks_stripe_for_that_method_only(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        fake = stripe_fake(committed_app)
        mobilepay = fake.sessions[(await checkout(committed_client, "mobilepay"))["provider_payment_id"]]
        assert mobilepay["payment_method_types"] == ["mobilepay"]
        assert mobilepay["payment_method_configuration_details"] is None
        apple = fake.sessions[(await checkout(committed_client, "apple_pay", account="family"))["provider_payment_id"]]
        assert apple["payment_method_types"] == ["card"]
        assert apple["payment_method_configuration_details"]["id"] == "pmc_sandboxApplePayOnly"
        sent = [r.params for r in fake.requests if r.path == "/v1/checkout/sessions" and r.method == "POST"]
        assert sent[0]["allowed_payment_method_types"] == ["mobilepay"]
        assert "payment_method_types" not in sent[1]  # Endive refuses it (reference §0)

    @pytest.mark.parametrize(
        ("method", "other"), [("apple_pay", "google_pay"), ("apple_pay", "card"), ("mobilepay", "card")]
    )
    async def test_paying_a_restricted_checkout_another_way_is_refused(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, method: str, other: str
    ) -> None:
        intent = await checkout(committed_client, method)
        url = urlsplit(intent["redirect_url"])
        refused = await committed_client.get(url.path, params={"sandbox_outcome": "pay", "sandbox_method": other})
        assert refused.status_code == 400
        assert "not available" in refused.text
        await settle(committed_app)
        assert (await order(committed_client, intent["order_id"]))["status"] == "pending_payment"
        assert not stripe_fake(committed_app).charges

    async def test_the_receipt_names_the_method_used_not_the_one_asked_for(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        intent = await checkout(client, "stripe")  # every method offered; the customer taps Google Pay
        url = urlsplit(intent["redirect_url"])
        paid = await client.get(url.path, params={"sandbox_outcome": "pay", "sandbox_method": "google_pay"})
        assert (await come_back(client, paid))["payment"] == "paid"
        await settle(committed_app)
        body = await order(client, intent["order_id"])
        assert body["checkout_method"] is None
        assert body["payment_method"] == "google_pay"
        charge = next(iter(stripe_fake(committed_app).charges.values()))
        assert charge["payment_method_details"]["card"]["wallet"]["type"] == "google_pay"
        receipt = (await client.get(f"/api/v1/payment/receipt/{body['receipt_id']}")).json()
        assert receipt["payment_method"] == "google_pay"


class TestWalletsNotConfigured:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        # A real Stripe account named, without wallet configurations: Apple Pay and Google Pay are not offered.
        return {"stripe": {"api_base": "http://testserver/_sandbox/stripe", "mobilepay": False}}

    @pytest.mark.parametrize("method", list(WALLETS))
    async def test_a_method_without_its_setting_is_unavailable(
        self, committed_client: httpx.AsyncClient, method: str
    ) -> None:
        session_id, quote = await quote_for(committed_client)
        response = await committed_client.post(
            "/api/v1/payment/create-intent",
            json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": method},
        )
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/payment-provider-unavailable"


class TestSwitching:
    async def test_stripe_then_paypal_closes_the_stripe_checkout(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        first = await checkout(client, "stripe")
        switched = await create_intent(client, first, "paypal")
        assert switched.status_code == 200, switched.text
        second = switched.json()
        assert second["order_id"] == first["order_id"]
        assert second["provider"] == "paypal"
        assert stripe_fake(committed_app).sessions[first["provider_payment_id"]]["status"] == "expired"
        late = await act_on_hosted_page(client, first["redirect_url"], "pay")
        assert late.status_code == 409  # the first checkout can no longer be paid

        approved = await act_on_hosted_page(client, second["redirect_url"], "approve")
        assert (await come_back(client, approved))["payment"] == "paid"
        await settle(committed_app)
        body = await order(client, first["order_id"])
        assert body["status"] == "paid"
        assert body["provider"] == "paypal"
        assert [t["to_status"] for t in body["transitions"]].count("paid") == 1
        assert any(t["reason"] == "switched from stripe to paypal" for t in body["transitions"])
        assert not stripe_fake(committed_app).charges

    async def test_paypal_then_apple_pay_and_the_paypal_order_is_never_captured(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        first = await checkout(client, "paypal")
        await act_on_hosted_page(client, first["redirect_url"], "approve")
        second = (await create_intent(client, first, "apple_pay")).json()
        assert second["provider_payment_id"].startswith("cs_")
        captured = await client.post(f"/api/v1/payment/capture/paypal/{first['order_id']}")
        assert captured.status_code == 409
        paid = await act_on_hosted_page(client, second["redirect_url"], "pay")
        assert (await come_back(client, paid))["payment"] == "paid"
        await settle(committed_app)
        body = await order(client, first["order_id"])
        assert (body["status"], body["payment_method"]) == ("paid", "apple_pay")
        paypal = committed_app.state.carpulse.sandbox.paypal
        assert paypal.orders[first["provider_payment_id"]].status == "APPROVED"

    async def test_a_replaced_checkouts_expiry_does_not_end_the_order(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        # Both on Stripe: the first session's `checkout.session.expired` names the same order.
        client = committed_client
        first = await checkout(client, "apple_pay")
        second = (await create_intent(client, first, "google_pay")).json()
        await settle(committed_app)
        assert any(e["type"] == "checkout.session.expired" for e in stripe_fake(committed_app).events)
        assert (await order(client, first["order_id"]))["status"] == "pending_payment"
        paid = await act_on_hosted_page(client, second["redirect_url"], "pay")
        assert (await come_back(client, paid))["payment"] == "paid"
        await settle(committed_app)
        assert (await order(client, first["order_id"]))["payment_method"] == "google_pay"

    async def test_the_returning_customer_of_a_replaced_checkout_is_told(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        first = await checkout(client, "paypal")
        await create_intent(client, first, "stripe")
        approved = await act_on_hosted_page(client, first["redirect_url"], "approve")
        assert (await come_back(client, approved))["payment"] == "replaced"
        assert (await order(client, first["order_id"]))["status"] == "pending_payment"

    async def test_after_paying_a_switch_is_refused(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        first = await checkout(client, "stripe")
        await act_on_hosted_page(client, first["redirect_url"], "pay")
        await settle(committed_app)
        refused = await create_intent(client, first, "paypal")
        assert refused.status_code == 409
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["type"] == "/problems/checkout-already-paid"
        assert "already paid" in refused.json()["detail"]
        assert not committed_app.state.carpulse.sandbox.paypal.orders

    async def test_paid_at_the_provider_before_the_webhook_the_switch_is_refused(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        fake = stripe_fake(committed_app)
        fake.auto_deliver = False  # Stripe took the money; we have not heard yet
        first = await checkout(client, "stripe")
        await act_on_hosted_page(client, first["redirect_url"], "pay")
        refused = await create_intent(client, first, "paypal")
        assert refused.status_code == 409
        assert refused.json()["type"] == "/problems/checkout-already-paid"
        assert not committed_app.state.carpulse.sandbox.paypal.orders
        await fake.deliver_pending()
        await settle(committed_app)
        body = await order(client, first["order_id"])
        assert (body["status"], body["provider"]) == ("paid", "stripe")

    async def test_racing_switches_leave_at_most_one_payable_payment(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        first = await checkout(client, "stripe")
        answers = await asyncio.gather(*(create_intent(client, first, choice) for choice in ("mobilepay", "apple_pay")))
        assert sorted(a.status_code for a in answers) in ([200, 200], [200, 409]), [a.text for a in answers]
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json()["type"] == "/problems/checkout-changing"
        await settle(committed_app)
        open_sessions = [s for s in stripe_fake(committed_app).sessions.values() if s["status"] == "open"]
        body = await order(client, first["order_id"])
        assert [s["id"] for s in open_sessions] == [body["provider_payment_id"]]
        assert body["status"] == "pending_payment"

    async def test_racing_first_checkouts_leave_one_order_and_one_payable_payment(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        session_id, quote = await quote_for(client)
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/payment/create-intent",
                    json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": provider},
                )
                for provider in ("stripe", "mobilepay")
            )
        )
        assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
        order_ids = {a.json()["order_id"] for a in answers if a.status_code == 200}
        assert len(order_ids) == 1
        await settle(committed_app)
        body = await order(client, order_ids.pop())
        open_sessions = [s for s in stripe_fake(committed_app).sessions.values() if s["status"] == "open"]
        assert [s["id"] for s in open_sessions] == [body["provider_payment_id"]]


class TestReturnWords:
    @pytest.mark.parametrize(
        ("button", "word", "status"), [("decline", "declined", "failed"), ("abandon", "abandoned", "expired")]
    )
    async def test_stripe_decline_and_abandon_have_their_own_words(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, button: str, word: str, status: str
    ) -> None:
        intent = await checkout(committed_client, "stripe")
        back = await act_on_hosted_page(committed_client, intent["redirect_url"], button)
        query = await come_back(committed_client, back)
        assert query["payment"] == word
        assert query["checkout"] == intent["reference"]
        await settle(committed_app)
        body = await order(committed_client, intent["order_id"])
        # The declined order's checkout is closed afterwards (`payment.close_checkout`), which may expire it.
        assert body["transitions"][1]["to_status"] == status

    async def test_stripe_paid_is_said_from_stripe_before_any_webhook(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        stripe_fake(committed_app).auto_deliver = False
        intent = await checkout(committed_client, "stripe")
        back = await act_on_hosted_page(committed_client, intent["redirect_url"], "pay")
        assert (await come_back(committed_client, back))["payment"] == "paid"
        assert (await order(committed_client, intent["order_id"]))["transitions"][-1]["actor"] == "return"

    async def test_back_without_paying_on_an_open_checkout_is_abandoned(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        # Stripe's back link leaves the session open; nothing was tried.
        intent = await checkout(committed_client, "stripe")
        cancel_url = urlsplit(stripe_fake(committed_app).sessions[intent["provider_payment_id"]]["cancel_url"])
        answer = await committed_client.get(cancel_url.path, params=parse_qs(cancel_url.query))
        assert parse_qs(urlsplit(answer.headers["location"]).query)["payment"] == ["abandoned"]
        assert (await order(committed_client, intent["order_id"]))["status"] == "pending_payment"

    async def test_stripe_unreachable_on_return_says_processing(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        fake = stripe_fake(committed_app)
        fake.auto_deliver = False
        intent = await checkout(committed_client, "stripe")
        back = await act_on_hosted_page(committed_client, intent["redirect_url"], "pay")
        fake.inject_error(503, times=10, should_retry=False)
        assert (await come_back(committed_client, back))["payment"] == "processing"
        fake.faults.queue.clear()

    async def test_paypal_return_captures_before_it_says_paid(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        intent = await checkout(committed_client, "paypal")
        approved = await act_on_hosted_page(committed_client, intent["redirect_url"], "approve")
        assert (await come_back(committed_client, approved))["payment"] == "paid"
        paypal = committed_app.state.carpulse.sandbox.paypal
        assert paypal.orders[intent["provider_payment_id"]].status == "COMPLETED"
        assert (await order(committed_client, intent["order_id"]))["status"] == "paid"
        again = await committed_client.post(f"/api/v1/payment/capture/paypal/{intent['order_id']}")
        assert again.json()["status"] == "paid"  # the frontend's own capture is a no-op now
        await settle(committed_app)
        assert [t["to_status"] for t in (await order(committed_client, intent["order_id"]))["transitions"]].count(
            "paid"
        ) == 1

    @pytest.mark.parametrize(("button", "word"), [("decline", "declined"), ("cancel", "abandoned")])
    async def test_paypal_decline_and_cancel_have_their_own_words(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, button: str, word: str
    ) -> None:
        intent = await checkout(committed_client, "paypal")
        back = await act_on_hosted_page(committed_client, intent["redirect_url"], button)
        assert (await come_back(committed_client, back))["payment"] == word

    async def test_a_forged_return_token_is_404(self, committed_client: httpx.AsyncClient) -> None:
        answer = await committed_client.get("/api/v1/payment/return", params={"order": "not-a-token-at-all-x"})
        assert answer.status_code == 404
        assert answer.headers["content-type"] == PROBLEM

    async def test_the_return_url_names_no_order_id(self, committed_client: httpx.AsyncClient) -> None:
        intent = await checkout(committed_client, "stripe")
        page = await act_on_hosted_page(committed_client, intent["redirect_url"], "abandon")
        assert intent["order_id"] not in page.headers["location"]


class TestApplePayDomainAssociation:
    async def test_unconfigured_is_a_404_problem(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/.well-known/apple-developer-merchantid-domain-association")
        assert answer.status_code == 404
        assert answer.json()["type"] == "/problems/apple-pay-domain-not-configured"


class TestApplePayDomainAssociationConfigured:
    @pytest.fixture
    def settings_overrides(self, tmp_path: Path) -> dict[str, Any]:
        path = tmp_path / "apple-developer-merchantid-domain-association"
        path.write_text("7B227073704964223A2239354241...\n", encoding="utf-8")
        return {"stripe": {"apple_pay_domain_association": str(path)}}

    async def test_the_configured_file_is_served_as_is(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/.well-known/apple-developer-merchantid-domain-association")
        assert answer.status_code == 200
        assert answer.text == "7B227073704964223A2239354241...\n"
        assert answer.headers["content-type"].startswith("text/plain")
