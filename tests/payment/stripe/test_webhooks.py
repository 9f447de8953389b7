from __future__ import annotations

import json
import time

import httpx
import pytest

from carpulse.payment.gateway import PaymentStatus, WebhookEvent, WebhookSignatureInvalid
from carpulse.payment.stripe import StripeGateway
from fakes.stripe import StripeFake
from tests.payment.stripe.flows import Inbox, checkout_request, gateway_for, press


async def delivered(gateway: StripeGateway, inbox: Inbox, event_type: str) -> WebhookEvent:
    """Parse the delivery of `event_type` exactly as the fake sent it."""
    for _, body, headers in inbox.received:
        if json.loads(body)["type"] == event_type:
            return await gateway.parse_webhook(body, headers)
    raise AssertionError(f"no {event_type} delivered")


class TestSessionCompleted:
    async def test_is_a_success_for_the_order(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        started = await gateway.create_payment(checkout_request(order_id="ord_9"))
        await press(http, started, "pay")

        event = await delivered(gateway, inbox, "checkout.session.completed")

        assert event.provider == "stripe"
        assert event.event_id == fake.events[0]["id"]
        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.succeeded
        assert event.outcome.provider_payment_id == started.provider_payment_id
        assert (event.outcome.amount_cents, event.outcome.currency, event.outcome.order_id) == (1900, "EUR", "ord_9")
        assert event.outcome.reference == fake.sessions[started.provider_payment_id]["payment_intent"]
        assert event.payload["type"] == "checkout.session.completed"


class TestAsyncPaymentSessionEvents:
    @pytest.mark.parametrize(
        ("event_type", "payment_status", "status"),
        [
            ("checkout.session.async_payment_succeeded", "paid", PaymentStatus.succeeded),
            ("checkout.session.async_payment_failed", "unpaid", PaymentStatus.failed),
            ("checkout.session.completed", "unpaid", PaymentStatus.pending),
        ],
    )
    async def test_delayed_methods_map_by_event_and_payment_status(
        self, gateway: StripeGateway, fake: StripeFake, event_type: str, payment_status: str, status: PaymentStatus
    ) -> None:
        session = {
            "id": "cs_test_delayed",
            "object": "checkout.session",
            "status": "complete",
            "payment_status": payment_status,
            "amount_total": 1900,
            "currency": "eur",
            "metadata": {"order_id": "ord_5"},
            "payment_intent": "pi_3delayed",
        }
        body = json.dumps({"id": "evt_1x", "object": "event", "type": event_type, "data": {"object": session}}).encode()

        event = await gateway.parse_webhook(body, {"Stripe-Signature": fake.sign(body)})

        assert event.outcome is not None
        assert event.outcome.status is status
        assert event.outcome.order_id == "ord_5"


class TestPaymentFailed:
    async def test_is_a_failure_for_the_order_by_payment_intent(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        started = await gateway.create_payment(checkout_request(order_id="ord_8"))
        await press(http, started, "decline")

        event = await delivered(gateway, inbox, "payment_intent.payment_failed")

        intent_id = fake.sessions[started.provider_payment_id]["payment_intent"]
        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.failed
        assert (event.outcome.provider_payment_id, event.outcome.order_id) == (intent_id, "ord_8")
        assert event.outcome.payment_method == "card"


class TestSessionExpired:
    async def test_is_an_expiry_for_the_order(
        self, gateway: StripeGateway, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        started = await gateway.create_payment(checkout_request(order_id="ord_7"))
        await press(http, started, "abandon")

        event = await delivered(gateway, inbox, "checkout.session.expired")

        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.expired
        assert (event.outcome.provider_payment_id, event.outcome.order_id) == (started.provider_payment_id, "ord_7")


class TestChargeRefunded:
    async def test_a_full_refund_is_refunded(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        started = await gateway.create_payment(checkout_request(order_id="ord_6"))
        await press(http, started, "pay", "apple_pay")
        intent_id = fake.sessions[started.provider_payment_id]["payment_intent"]
        await http.post(
            "/v1/refunds", data={"payment_intent": intent_id}, headers={"Authorization": "Bearer sk_test_sandbox"}
        )

        event = await delivered(gateway, inbox, "charge.refunded")

        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.refunded
        assert (event.outcome.provider_payment_id, event.outcome.order_id) == (intent_id, "ord_6")
        assert (event.outcome.amount_cents, event.outcome.payment_method) == (1900, "apple_pay")

    async def test_a_partial_refund_is_accepted_but_not_acted_on(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "pay")
        intent_id = fake.sessions[started.provider_payment_id]["payment_intent"]
        await http.post(
            "/v1/refunds",
            data={"payment_intent": intent_id, "amount": "500"},
            headers={"Authorization": "Bearer sk_test_sandbox"},
        )

        event = await delivered(gateway, inbox, "charge.refunded")

        assert event.event_type == "charge.refunded"
        assert event.outcome is None


class TestOtherEvents:
    @pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "refund.created"])
    async def test_are_accepted_without_an_outcome(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox, event_type: str
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "pay")
        intent_id = fake.sessions[started.provider_payment_id]["payment_intent"]
        await http.post(
            "/v1/refunds", data={"payment_intent": intent_id}, headers={"Authorization": "Bearer sk_test_sandbox"}
        )

        event = await delivered(gateway, inbox, event_type)

        assert event.event_type == event_type
        assert event.outcome is None


class TestSignatureRejected:
    @pytest.fixture
    async def delivery(
        self, gateway: StripeGateway, http: httpx.AsyncClient, inbox: Inbox
    ) -> tuple[bytes, dict[str, str]]:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "pay")
        _, body, headers = inbox.received[0]
        return body, headers

    async def test_a_genuine_delivery_passes(
        self, gateway: StripeGateway, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        event = await gateway.parse_webhook(*delivery)

        assert event.event_type == "checkout.session.completed"

    async def test_a_signature_made_with_another_secret_is_refused(
        self, gateway: StripeGateway, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        body, _ = delivery
        forger = StripeFake(webhook_secret="whsec_forger")

        with pytest.raises(WebhookSignatureInvalid):
            await gateway.parse_webhook(body, {"Stripe-Signature": forger.sign(body)})

    async def test_a_timestamp_older_than_the_tolerance_is_refused(
        self, gateway: StripeGateway, fake: StripeFake, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        body, _ = delivery
        stale = fake.sign(body, timestamp=int(time.time()) - gateway.webhook_tolerance_seconds - 60)

        with pytest.raises(WebhookSignatureInvalid, match="tolerance"):
            await gateway.parse_webhook(body, {"Stripe-Signature": stale})

    async def test_a_timestamp_within_a_longer_tolerance_passes(
        self, http: httpx.AsyncClient, fake: StripeFake, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        body, _ = delivery
        patient = gateway_for(http, webhook_tolerance_seconds=3600)

        event = await patient.parse_webhook(body, {"Stripe-Signature": fake.sign(body, int(time.time()) - 600)})

        assert event.event_type == "checkout.session.completed"

    async def test_a_timestamp_ahead_beyond_the_clock_skew_is_refused(
        self, gateway: StripeGateway, fake: StripeFake, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        body, _ = delivery
        ahead = fake.sign(body, timestamp=int(time.time()) + gateway.webhook_clock_skew_seconds + 60)

        with pytest.raises(WebhookSignatureInvalid, match="future"):
            await gateway.parse_webhook(body, {"Stripe-Signature": ahead})

    async def test_a_wider_clock_skew_accepts_it(
        self, http: httpx.AsyncClient, fake: StripeFake, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        body, _ = delivery
        lenient = gateway_for(http, webhook_clock_skew_seconds=600)

        event = await lenient.parse_webhook(body, {"Stripe-Signature": fake.sign(body, int(time.time()) + 300)})

        assert event.event_type == "checkout.session.completed"

    async def test_a_tampered_body_is_refused(
        self, gateway: StripeGateway, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        body, headers = delivery
        tampered = body.replace(b'"amount_total": 1900', b'"amount_total": 19')
        assert tampered != body

        with pytest.raises(WebhookSignatureInvalid):
            await gateway.parse_webhook(tampered, headers)

    @pytest.mark.parametrize("header", [None, "", "garbage", "t=abc,v1=00", "t=1700000000"])
    async def test_a_missing_or_malformed_header_is_refused(
        self, gateway: StripeGateway, delivery: tuple[bytes, dict[str, str]], header: str | None
    ) -> None:
        body, _ = delivery
        headers = {} if header is None else {"Stripe-Signature": header}

        with pytest.raises(WebhookSignatureInvalid):
            await gateway.parse_webhook(body, headers)

    @pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe", b'{"object": "event"}'])
    async def test_a_signed_body_that_is_not_an_event_is_refused(
        self, gateway: StripeGateway, fake: StripeFake, body: bytes
    ) -> None:
        with pytest.raises(WebhookSignatureInvalid):
            await gateway.parse_webhook(body, {"Stripe-Signature": fake.sign(body)})

    async def test_header_names_match_in_any_case(
        self, gateway: StripeGateway, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        body, headers = delivery

        event = await gateway.parse_webhook(body, {"stripe-signature": headers["Stripe-Signature"]})

        assert event.event_type == "checkout.session.completed"

    async def test_without_a_webhook_secret_everything_is_refused(
        self, http: httpx.AsyncClient, delivery: tuple[bytes, dict[str, str]]
    ) -> None:
        blind = gateway_for(http, webhook_secret=None)

        with pytest.raises(WebhookSignatureInvalid):
            await blind.parse_webhook(*delivery)


class TestReadEvent:
    async def test_a_stored_body_reads_as_it_parsed_on_arrival(
        self, gateway: StripeGateway, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "pay", "mobilepay")
        _, body, headers = inbox.received[0]

        assert gateway.read_event(body) == await gateway.parse_webhook(body, headers)

    async def test_reading_needs_no_signature_and_no_fresh_timestamp(
        self, gateway: StripeGateway, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "abandon")
        _, body, _ = inbox.received[0]

        event = gateway.read_event(body)

        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.expired

    @pytest.mark.parametrize("body", [b"", b"null", b'{"id": "evt_1"}'])
    def test_an_unreadable_body_is_refused(self, gateway: StripeGateway, body: bytes) -> None:
        with pytest.raises(WebhookSignatureInvalid):
            gateway.read_event(body)
