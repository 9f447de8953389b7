from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import stripe

from fakes.stripe import StripeFake
from tests.fakes.stripe.flows import API_BASE, CANCEL_URL, Inbox, act, create_session, sdk_with


class TestPage:
    async def test_shows_the_amount_the_lines_and_three_buttons(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient
    ) -> None:
        session = await create_session(sdk)

        page = await http.get(session.url or "")

        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "19.00 EUR" in page.text
        assert "Basic vehicle report" in page.text
        for outcome in ("pay", "decline", "abandon"):
            assert f'name="sandbox_outcome" value="{outcome}"' in page.text

    async def test_offers_card_wallets_and_mobilepay(self, sdk: stripe.StripeClient, http: httpx.AsyncClient) -> None:
        session = await create_session(sdk)

        page = await http.get(session.url or "")

        for method in ("card", "google_pay", "apple_pay", "mobilepay"):
            assert f'name="sandbox_method" value="{method}"' in page.text

    async def test_offers_no_mobilepay_outside_its_currencies(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient
    ) -> None:
        session = await create_session(sdk, currency="usd")

        page = await http.get(session.url or "")

        assert 'value="mobilepay"' not in page.text
        assert 'value="google_pay"' in page.text

    async def test_an_unknown_session_is_404(self, http: httpx.AsyncClient) -> None:
        page = await http.get("/checkout/cs_test_unknown")

        assert page.status_code == 404


class TestPay:
    async def test_redirects_to_success_url_with_the_session_id(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient
    ) -> None:
        session = await create_session(sdk)

        response = await act(http, session, "pay")

        assert response.status_code == 303
        assert response.headers["location"] == f"https://shop.example/paid?session_id={session.id}"

    async def test_completes_the_session_and_succeeds_the_payment_intent(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)

        await act(http, session, "pay")

        stored = fake.sessions[session.id]
        assert (stored["status"], stored["payment_status"], stored["url"]) == ("complete", "paid", None)
        assert stored["customer_details"]["address"]["country"] == "FI"
        intent = fake.payment_intents[stored["payment_intent"]]
        assert (intent["status"], intent["amount_received"]) == ("succeeded", 1900)
        assert intent["payment_method_types"] == ["card", "mobilepay"]
        assert intent["metadata"] == {"order_id": "ord_7Hk2"}

    async def test_emits_session_completed_then_payment_intent_succeeded(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)

        await act(http, session, "pay")

        assert inbox.types == ["checkout.session.completed", "payment_intent.succeeded"]

    @pytest.mark.parametrize(
        ("method", "kind", "wallet"),
        [("card", "card", None), ("google_pay", "card", "google_pay"), ("apple_pay", "card", "apple_pay")],
    )
    async def test_card_payments_record_the_wallet(
        self,
        sdk: stripe.StripeClient,
        http: httpx.AsyncClient,
        fake: StripeFake,
        method: str,
        kind: str,
        wallet: str | None,
    ) -> None:
        session = await create_session(sdk)

        await act(http, session, "pay", method)

        intent = fake.payment_intents[fake.sessions[session.id]["payment_intent"]]
        details = fake.charges[intent["latest_charge"]]["payment_method_details"]
        assert details["type"] == kind
        assert (details["card"]["wallet"] or {}).get("type") == wallet

    async def test_mobilepay_is_its_own_payment_method_type(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)

        await act(http, session, "pay", "mobilepay")

        intent = fake.payment_intents[fake.sessions[session.id]["payment_intent"]]
        details = fake.charges[intent["latest_charge"]]["payment_method_details"]
        assert details["type"] == "mobilepay"
        assert details["mobilepay"]["card"]["last4"]

    async def test_a_paid_session_cannot_be_paid_again(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "pay")

        again = await act(http, session, "pay")

        assert again.status_code == 409
        assert len(inbox.received) == 2


class TestDecline:
    async def test_fails_the_attempt_and_keeps_the_session_open(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)

        response = await act(http, session, "decline")

        assert response.status_code == 303
        assert response.headers["location"] == CANCEL_URL
        stored = fake.sessions[session.id]
        assert (stored["status"], stored["payment_status"]) == ("open", "unpaid")
        intent = fake.payment_intents[stored["payment_intent"]]
        assert intent["status"] == "requires_payment_method"
        assert intent["last_payment_error"]["code"] == "card_declined"
        assert inbox.types == ["payment_intent.payment_failed"]

    async def test_a_second_attempt_can_succeed_on_the_same_payment_intent(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "decline")
        intent_id = fake.sessions[session.id]["payment_intent"]

        await act(http, session, "pay")

        assert fake.sessions[session.id]["payment_intent"] == intent_id
        assert fake.payment_intents[intent_id]["status"] == "succeeded"
        assert fake.payment_intents[intent_id]["last_payment_error"] is None

    async def test_without_a_cancel_url_the_customer_returns_to_the_page(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient
    ) -> None:
        session = await create_session(sdk, cancel_url=None)

        response = await act(http, session, "decline")

        assert response.headers["location"] == f"/checkout/{session.id}"


class TestAbandon:
    async def test_expires_the_session_and_returns_to_cancel_url(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)

        response = await act(http, session, "abandon")

        assert response.headers["location"] == CANCEL_URL
        assert fake.sessions[session.id]["status"] == "expired"
        assert inbox.types == ["checkout.session.expired"]

    async def test_abandoning_after_a_decline_cancels_the_payment_intent(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "decline")

        await act(http, session, "abandon")

        assert fake.payment_intents[fake.sessions[session.id]["payment_intent"]]["status"] == "canceled"
        assert inbox.types[1:] == ["checkout.session.expired", "payment_intent.canceled"]

    async def test_an_expired_session_cannot_be_paid(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "abandon")

        response = await act(http, session, "pay")
        page = await http.get(session.url or "")

        assert response.status_code == 409
        assert "expired" in page.text
        assert fake.sessions[session.id]["payment_status"] == "unpaid"


class TestBadFlags:
    @pytest.mark.parametrize(("outcome", "method"), [("refund", "card"), ("pay", "paypal")])
    async def test_an_unknown_outcome_or_method_is_400(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake, outcome: str, method: str
    ) -> None:
        session = await create_session(sdk)

        response = await act(http, session, outcome, method)

        assert response.status_code == 400
        assert fake.sessions[session.id]["status"] == "open"

    async def test_a_method_the_session_does_not_offer_is_400(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient
    ) -> None:
        session = await create_session(sdk, currency="usd")

        response = await act(http, session, "pay", "mobilepay")

        assert response.status_code == 400


class TestExpiryByClock:
    async def test_the_hosted_page_expires_an_overdue_session_and_delivers_the_event(self, inbox: Inbox) -> None:
        now = [datetime.now(UTC)]
        fake = StripeFake(send_webhook=inbox, clock=lambda: now[0])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=API_BASE) as http:
            session = await create_session(sdk_with(http), expires_at=int(now[0].timestamp()) + 1800)
            now[0] += timedelta(minutes=31)

            paid = await act(http, session, "pay")

        assert paid.status_code == 409
        assert fake.sessions[session.id]["status"] == "expired"
        assert inbox.types == ["checkout.session.expired"]

    async def test_an_api_read_sees_it_expired_but_only_queues_the_event(self, inbox: Inbox) -> None:
        now = [datetime.now(UTC)]
        fake = StripeFake(send_webhook=inbox, clock=lambda: now[0])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=API_BASE) as http:
            sdk = sdk_with(http)
            session = await create_session(sdk, expires_at=int(now[0].timestamp()) + 1800)
            now[0] += timedelta(minutes=31)

            seen = await sdk.v1.checkout.sessions.retrieve_async(session.id)

        assert seen.status == "expired"
        assert inbox.received == []  # the reader is not called back while it awaits its answer
        assert [event["type"] for event in fake.pending_events] == ["checkout.session.expired"]
        assert await fake.expire_due() == []
        assert inbox.types == ["checkout.session.expired"]
        assert fake.pending_events == []

    async def test_expire_due_sweeps_every_overdue_session(self, inbox: Inbox) -> None:
        now = [datetime.now(UTC)]
        fake = StripeFake(send_webhook=inbox, clock=lambda: now[0])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=API_BASE) as http:
            sdk = sdk_with(http)
            short = await create_session(sdk, expires_at=int(now[0].timestamp()) + 1800)
            long = await create_session(sdk)
        now[0] += timedelta(hours=1)

        expired = await fake.expire_due()

        assert expired == [short.id]
        assert fake.sessions[long.id]["status"] == "open"


class TestCompleteCheckout:
    async def test_tests_can_press_the_buttons_without_http(
        self, sdk: stripe.StripeClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)

        deliveries = await fake.complete_checkout(session.id, "pay", "mobilepay")

        assert [delivery.status_code for delivery in deliveries] == [200, 200]
        assert fake.sessions[session.id]["status"] == "complete"
        assert inbox.types == ["checkout.session.completed", "payment_intent.succeeded"]
