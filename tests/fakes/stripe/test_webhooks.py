from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import stripe

from fakes.stripe import API_VERSION, DEFAULT_WEBHOOK_PATH, StripeFake
from tests.fakes.stripe.flows import API_BASE, Inbox, act, create_session, sdk_with

SECRET = "whsec_sandbox"


@pytest.fixture
def queued_inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def queued(queued_inbox: Inbox) -> StripeFake:
    """A fake that keeps events in the outbox until told to deliver."""
    return StripeFake(send_webhook=queued_inbox, auto_deliver=False)


@pytest.fixture
async def queued_sdk(queued: StripeFake) -> AsyncIterator[tuple[stripe.StripeClient, httpx.AsyncClient]]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=queued.app), base_url=API_BASE) as http:
        yield sdk_with(http), http


async def three_sessions_paid(sdk: stripe.StripeClient, http: httpx.AsyncClient) -> None:
    for _ in range(3):
        await act(http, await create_session(sdk), "pay")


class TestEventJson:
    async def test_events_are_stripe_event_objects(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "pay")

        event = json.loads(inbox.received[0][1])

        assert event["id"].startswith("evt_")
        assert event["object"] == "event"
        assert event["type"] == "checkout.session.completed"
        assert event["api_version"] == API_VERSION
        assert event["livemode"] is False
        assert abs(event["created"] - time.time()) < 60
        assert event["data"]["object"]["id"] == session.id
        assert event["data"]["object"]["payment_status"] == "paid"

    async def test_data_object_is_a_snapshot_of_that_moment(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "decline")
        await act(http, session, "pay")

        failed, *_ = (event for event in fake.events if event["type"] == "payment_intent.payment_failed")

        assert failed["data"]["object"]["status"] == "requires_payment_method"
        assert fake.payment_intents[failed["data"]["object"]["id"]]["status"] == "succeeded"


class TestSignatures:
    async def test_every_delivery_verifies_with_the_sdk(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "pay")

        for _, body, headers in inbox.received:
            event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
            assert event.id == json.loads(body)["id"]

    async def test_the_signature_header_has_stripes_shape(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        await act(http, await create_session(sdk), "abandon")

        _, _, headers = inbox.received[0]

        timestamp, signature = headers["Stripe-Signature"].split(",")
        assert abs(int(timestamp.removeprefix("t=")) - time.time()) < 60
        assert len(signature.removeprefix("v1=")) == 64
        assert headers["Content-Type"].startswith("application/json")

    async def test_a_tampered_body_fails_verification(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, inbox: Inbox
    ) -> None:
        await act(http, await create_session(sdk), "pay")
        _, body, headers = inbox.received[0]

        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body.replace(b"1900", b"1"), headers["Stripe-Signature"], SECRET)

    async def test_sign_forges_old_timestamps_for_replay_tests(self, fake: StripeFake) -> None:
        body = b'{"id": "evt_1", "object": "event"}'

        stale = fake.sign(body, timestamp=int(time.time()) - 600)
        fresh = fake.sign(body)

        with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
            stripe.WebhookSignature.verify_header(body, stale, SECRET, tolerance=300)
        assert stripe.WebhookSignature.verify_header(body, fresh, SECRET, tolerance=300)

    async def test_sign_matches_the_sdks_own_header_builder(self, fake: StripeFake) -> None:
        body = '{"id": "evt_2"}'

        assert fake.sign(body.encode(), timestamp=1_700_000_000) == (
            stripe.WebhookSignature.generate_signature_header(body, SECRET, timestamp=1_700_000_000)
        )


class TestAutoDelivery:
    async def test_each_delivery_is_logged_with_url_event_and_status(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        await act(http, await create_session(sdk), "pay")

        assert [(d.url, d.event_id, d.status_code) for d in fake.deliveries] == [
            ("https://shop.example/api/v1/payment/webhook/stripe", event["id"], 200) for event in fake.events
        ]
        assert fake.pending_events == []

    async def test_events_are_delivered_before_the_causing_request_answers(
        self, sdk: stripe.StripeClient, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)

        await sdk.v1.checkout.sessions.expire_async(session.id)

        assert inbox.types == ["checkout.session.expired"]

    async def test_a_refused_delivery_stays_in_the_outbox(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        inbox.status = 500
        await act(http, await create_session(sdk), "pay")
        assert [event["type"] for event in fake.pending_events] == [
            "checkout.session.completed",
            "payment_intent.succeeded",
        ]
        inbox.status = 202

        retried = await fake.deliver_pending()

        assert [delivery.status_code for delivery in retried] == [202, 202]
        assert fake.pending_events == []

    async def test_without_a_url_send_webhook_gets_our_endpoint_path(self) -> None:
        inbox = Inbox()
        fake = StripeFake(send_webhook=inbox)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=API_BASE) as http:
            await act(http, await create_session(sdk_with(http)), "abandon")

        assert inbox.received[0][0] == DEFAULT_WEBHOOK_PATH

    async def test_an_unreachable_url_is_logged_as_status_0(self) -> None:
        fake = StripeFake(webhook_url="http://127.0.0.1:9/webhook")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=API_BASE) as http:
            await act(http, await create_session(sdk_with(http)), "abandon")
        await fake.aclose()

        assert [delivery.status_code for delivery in fake.deliveries] == [0]
        assert len(fake.pending_events) == 1

    async def test_with_no_target_events_only_queue(self) -> None:
        fake = StripeFake()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=API_BASE) as http:
            await act(http, await create_session(sdk_with(http)), "abandon")

        assert fake.deliveries == []
        assert [event["type"] for event in fake.pending_events] == ["checkout.session.expired"]


class TestDeliverPending:
    async def test_nothing_is_sent_until_asked(
        self,
        queued: StripeFake,
        queued_inbox: Inbox,
        queued_sdk: tuple[stripe.StripeClient, httpx.AsyncClient],
    ) -> None:
        await three_sessions_paid(*queued_sdk)
        assert queued_inbox.received == []

        deliveries = await queued.deliver_pending()

        assert [delivery.event_id for delivery in deliveries] == [event["id"] for event in queued.events]
        assert len(queued_inbox.received) == 6
        assert queued.pending_events == []

    async def test_duplicates_send_each_event_again(
        self,
        queued: StripeFake,
        queued_inbox: Inbox,
        queued_sdk: tuple[stripe.StripeClient, httpx.AsyncClient],
    ) -> None:
        await three_sessions_paid(*queued_sdk)

        deliveries = await queued.deliver_pending(duplicates=2)

        assert len(deliveries) == 18
        for event in queued.events:
            assert [delivery.event_id for delivery in deliveries].count(event["id"]) == 3

    async def test_shuffle_reorders_reproducibly_by_seed(
        self,
        queued: StripeFake,
        queued_inbox: Inbox,
        queued_sdk: tuple[stripe.StripeClient, httpx.AsyncClient],
    ) -> None:
        await three_sessions_paid(*queued_sdk)
        in_order = [event["id"] for event in queued.events]
        queued_inbox.status = 500  # keep everything queued so the same set can be sent twice

        first = [delivery.event_id for delivery in await queued.deliver_pending(duplicates=1, shuffle=True, seed=4)]
        second = [delivery.event_id for delivery in await queued.deliver_pending(duplicates=1, shuffle=True, seed=4)]

        assert first == second
        assert first != [event_id for event_id in in_order for _ in range(2)]
        assert sorted(first) == sorted(in_order * 2)

    async def test_every_copy_is_signed_validly(
        self,
        queued: StripeFake,
        queued_inbox: Inbox,
        queued_sdk: tuple[stripe.StripeClient, httpx.AsyncClient],
    ) -> None:
        await three_sessions_paid(*queued_sdk)

        await queued.deliver_pending(duplicates=1, shuffle=True, seed=1)

        for _, body, headers in queued_inbox.received:
            assert stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET).id


class TestRedeliver:
    async def test_redeliver_sends_a_delivered_event_again(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        await act(http, await create_session(sdk), "abandon")
        event_id = fake.events[0]["id"]

        delivery = await fake.redeliver(event_id)

        assert (delivery.event_id, delivery.status_code) == (event_id, 200)
        assert inbox.received[0][1] == inbox.received[1][1] == fake.event_body(event_id)

    async def test_an_unknown_event_is_a_key_error(self, fake: StripeFake) -> None:
        with pytest.raises(KeyError):
            await fake.redeliver("evt_unknown")


class TestReset:
    async def test_reset_forgets_everything(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        await act(http, await create_session(sdk), "pay")
        fake.inject_error(500)

        fake.reset()

        assert (fake.sessions, fake.payment_intents, fake.events, fake.deliveries) == ({}, {}, [], [])
        assert (await create_session(sdk)).status == "open"
