from __future__ import annotations

import re
import time

import httpx
import pytest
import stripe
from fastapi import FastAPI

from fakes.stripe import StripeFake
from tests.fakes.stripe.flows import (
    API_BASE,
    CANCEL_URL,
    SUCCESS_URL,
    Inbox,
    act,
    create_session,
    sdk_with,
    session_params,
)

FORM = {"Authorization": "Bearer sk_test_sandbox", "Content-Type": "application/x-www-form-urlencoded"}
RAW_SESSION = (
    "mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=eur"
    "&line_items[0][price_data][unit_amount]=1900&line_items[0][price_data][product_data][name]=Basic"
    "&success_url=https%3A%2F%2Fshop.example%2Fpaid"
)


class TestCreateCheckoutSession:
    async def test_the_sdk_gets_a_typed_open_session_with_a_hosted_page(
        self, sdk: stripe.StripeClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk, locale="nb")

        assert isinstance(session, stripe.checkout.Session)
        assert re.fullmatch(r"cs_test_[A-Za-z0-9]{58}", session.id)
        assert session.url == f"{API_BASE}/checkout/{session.id}"
        assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
        assert (session.amount_total, session.currency) == (1900, "eur")
        assert session.payment_intent is None  # Checkout creates it at the first attempt
        assert session.payment_method_types == ["card", "mobilepay"]
        assert session.client_reference_id == "ord_7Hk2"
        assert session.metadata is not None
        assert session.metadata["order_id"] == "ord_7Hk2"
        assert session.locale == "nb"
        assert session.success_url == SUCCESS_URL
        assert session.cancel_url == CANCEL_URL
        assert fake.sessions[session.id]["status"] == "open"

    async def test_expires_in_24_hours_unless_told(self, sdk: stripe.StripeClient) -> None:
        default = await create_session(sdk)
        told = await create_session(sdk, expires_at=int(time.time()) + 3600)

        assert default.expires_at - default.created == 24 * 3600
        assert told.expires_at - told.created == pytest.approx(3600, abs=2)

    async def test_line_items_expand(self, sdk: stripe.StripeClient) -> None:
        session = await create_session(sdk)

        expanded = await sdk.v1.checkout.sessions.retrieve_async(session.id, {"expand": ["line_items"]})

        assert expanded.line_items is not None
        item = expanded.line_items.data[0]
        assert (item.amount_total, item.quantity, item.description) == (1900, 1, "Basic vehicle report")
        assert item.price is not None
        assert item.price.tax_behavior == "inclusive"

    async def test_mobilepay_is_offered_only_in_its_currencies(self, sdk: stripe.StripeClient) -> None:
        session = await create_session(sdk, currency="usd")

        assert session.payment_method_types == ["card"]

    async def test_allowed_payment_method_types_filter_the_dynamic_set(self, sdk: stripe.StripeClient) -> None:
        session = await create_session(sdk, allowed_payment_method_types=["mobilepay"])

        assert session.payment_method_types == ["mobilepay"]


class TestCreateValidation:
    async def test_payment_method_types_is_refused_as_on_endive(self, sdk: stripe.StripeClient) -> None:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            await create_session(sdk, payment_method_types=["card"])

        assert caught.value.http_status == 400
        assert caught.value.code == "payment_method_types_no_longer_supported"
        assert caught.value.param == "payment_method_types"

    @pytest.mark.parametrize(
        ("overrides", "param"),
        [
            ({"line_items": []}, "line_items"),
            ({"success_url": None}, "success_url"),
            ({"mode": "subscription"}, "mode"),
            ({"locale": "tlh"}, "locale"),
            ({"expires_at": 1}, "expires_at"),
        ],
    )
    async def test_bad_parameters_name_the_param(
        self, sdk: stripe.StripeClient, overrides: dict[str, object], param: str
    ) -> None:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            await create_session(sdk, **overrides)

        assert caught.value.param == param

    async def test_expiry_outside_30_minutes_to_24_hours_is_refused(self, sdk: stripe.StripeClient) -> None:
        now = int(time.time())
        for expires_at in (now + 29 * 60, now + 25 * 3600):
            with pytest.raises(stripe.InvalidRequestError) as caught:
                await create_session(sdk, expires_at=expires_at)
            assert caught.value.param == "expires_at"

    async def test_an_amount_below_the_minimum_is_refused(self, sdk: stripe.StripeClient) -> None:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            await create_session(sdk, amount=10)

        assert caught.value.code == "amount_too_small"

    async def test_refused_requests_create_nothing(self, sdk: stripe.StripeClient, fake: StripeFake) -> None:
        with pytest.raises(stripe.InvalidRequestError):
            await create_session(sdk, payment_method_types=["card"])

        assert fake.sessions == {}


class TestRetrieve:
    async def test_an_unknown_session_is_resource_missing(self, sdk: stripe.StripeClient) -> None:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            await sdk.v1.checkout.sessions.retrieve_async("cs_test_nope")

        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"

    async def test_payment_intent_and_its_charge_expand(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "pay", "apple_pay")

        paid = await sdk.v1.checkout.sessions.retrieve_async(
            session.id, {"expand": ["payment_intent", "payment_intent.latest_charge"]}
        )

        intent = paid.payment_intent
        assert isinstance(intent, stripe.PaymentIntent)
        assert intent.status == "succeeded"
        charge = intent.latest_charge
        assert isinstance(charge, stripe.Charge)
        assert charge.payment_method_details is not None
        assert charge.payment_method_details.type == "card"

    async def test_an_unknown_expansion_is_refused(self, sdk: stripe.StripeClient) -> None:
        session = await create_session(sdk)

        with pytest.raises(stripe.InvalidRequestError) as caught:
            await sdk.v1.checkout.sessions.retrieve_async(session.id, {"expand": ["no_such_field"]})

        assert caught.value.param == "expand"

    async def test_payment_intents_are_retrievable(self, sdk: stripe.StripeClient, http: httpx.AsyncClient) -> None:
        session = await create_session(sdk)
        await act(http, session, "pay")
        intent_id = (await sdk.v1.checkout.sessions.retrieve_async(session.id)).payment_intent
        assert isinstance(intent_id, str)

        intent = await sdk.v1.payment_intents.retrieve_async(intent_id)

        assert (intent.id, intent.status, intent.amount_received) == (intent_id, "succeeded", 1900)
        assert intent.metadata["order_id"] == "ord_7Hk2"


class TestAuthentication:
    async def test_a_wrong_key_is_an_authentication_error(self, http: httpx.AsyncClient) -> None:
        sdk = sdk_with(http, secret_key="sk_test_wrong_key_1234")

        with pytest.raises(stripe.AuthenticationError) as caught:
            await create_session(sdk)

        assert caught.value.http_status == 401

    async def test_a_missing_key_is_401_invalid_request_error(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v1/checkout/sessions/cs_test_x")

        assert response.status_code == 401
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert "API key" in response.json()["error"]["message"]

    async def test_the_wrong_key_is_never_echoed_whole(self, http: httpx.AsyncClient) -> None:
        response = await http.get(
            "/v1/checkout/sessions/cs_test_x", headers={"Authorization": "Bearer sk_test_secretvalue9876"}
        )

        assert response.status_code == 401
        assert "sk_test_secretvalue9876" not in response.text


class TestIdempotency:
    async def test_the_same_key_and_params_replay_the_first_answer(
        self, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        headers = {**FORM, "Idempotency-Key": "order:1:checkout"}

        first = await http.post("/v1/checkout/sessions", content=RAW_SESSION, headers=headers)
        second = await http.post("/v1/checkout/sessions", content=RAW_SESSION, headers=headers)

        assert first.status_code == second.status_code == 200
        assert second.json() == first.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert len(fake.sessions) == 1

    async def test_the_sdk_replays_with_its_idempotency_key(self, sdk: stripe.StripeClient, fake: StripeFake) -> None:
        options: stripe.RequestOptions = {"idempotency_key": "order:2:checkout"}
        first = await sdk.v1.checkout.sessions.create_async(session_params(), options)
        second = await sdk.v1.checkout.sessions.create_async(session_params(), options)

        assert first.id == second.id
        assert len(fake.sessions) == 1

    async def test_the_same_key_with_other_params_is_an_idempotency_error(self, sdk: stripe.StripeClient) -> None:
        options: stripe.RequestOptions = {"idempotency_key": "order:3:checkout"}
        await sdk.v1.checkout.sessions.create_async(session_params(), options)

        with pytest.raises(stripe.IdempotencyError) as caught:
            await sdk.v1.checkout.sessions.create_async(session_params(amount=2900), options)

        assert caught.value.http_status == 400

    async def test_without_a_key_each_post_creates(self, http: httpx.AsyncClient, fake: StripeFake) -> None:
        await http.post("/v1/checkout/sessions", content=RAW_SESSION, headers=FORM)
        await http.post("/v1/checkout/sessions", content=RAW_SESSION, headers=FORM)

        assert len(fake.sessions) == 2

    async def test_a_refused_request_is_not_stored(self, http: httpx.AsyncClient, fake: StripeFake) -> None:
        headers = {**FORM, "Idempotency-Key": "order:4:checkout"}
        refused = await http.post("/v1/checkout/sessions", content="mode=payment", headers=headers)

        accepted = await http.post("/v1/checkout/sessions", content="mode=payment", headers=headers)

        assert refused.status_code == accepted.status_code == 400
        assert "Idempotent-Replayed" not in accepted.headers
        assert fake.idempotency == {}


class TestResponses:
    async def test_every_answer_carries_a_request_id(self, http: httpx.AsyncClient) -> None:
        ok = await http.post("/v1/checkout/sessions", content=RAW_SESSION, headers=FORM)
        refused = await http.get("/v1/checkout/sessions/cs_test_missing", headers=FORM)

        for response in (ok, refused):
            assert re.fullmatch(r"req_[0-9a-f]{14}", response.headers["Request-Id"])

    async def test_errors_have_stripes_body(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v1/checkout/sessions/cs_test_missing", headers=FORM)

        error = response.json()["error"]
        assert response.headers["content-type"] == "application/json"
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "resource_missing"
        assert error["param"] == "id"
        assert "cs_test_missing" in error["message"]

    async def test_an_unknown_url_is_a_404_error(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v1/customers/cus_1", headers=FORM)

        assert response.status_code == 404
        assert "Unrecognized request URL" in response.json()["error"]["message"]

    async def test_the_sdk_reads_the_request_id_of_errors(self, sdk: stripe.StripeClient) -> None:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            await sdk.v1.checkout.sessions.retrieve_async("cs_test_missing")

        assert caught.value.request_id is not None
        assert caught.value.request_id.startswith("req_")


class TestExpire:
    async def test_expire_closes_the_session_and_emits_an_event(self, sdk: stripe.StripeClient, inbox: Inbox) -> None:
        session = await create_session(sdk)

        expired = await sdk.v1.checkout.sessions.expire_async(session.id)

        assert (expired.status, expired.url) == ("expired", None)
        assert inbox.types == ["checkout.session.expired"]

    async def test_expiring_twice_is_refused(self, sdk: stripe.StripeClient) -> None:
        session = await create_session(sdk)
        await sdk.v1.checkout.sessions.expire_async(session.id)

        with pytest.raises(stripe.InvalidRequestError) as caught:
            await sdk.v1.checkout.sessions.expire_async(session.id)

        assert 'status of "expired"' in str(caught.value.user_message)

    async def test_events_name_the_request_and_key_that_caused_them(
        self, sdk: stripe.StripeClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)

        await sdk.v1.checkout.sessions.expire_async(session.id, options={"idempotency_key": "expire-1"})

        request = fake.events[-1]["request"]
        assert request["idempotency_key"] == "expire-1"
        assert request["id"].startswith("req_")


class TestRefunds:
    async def test_a_full_refund_refunds_the_charge(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake, inbox: Inbox
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "pay")
        intent_id = fake.sessions[session.id]["payment_intent"]

        refund = await sdk.v1.refunds.create_async({"payment_intent": intent_id})

        assert isinstance(refund, stripe.Refund)
        assert (refund.amount, refund.status, refund.payment_intent) == (1900, "succeeded", intent_id)
        charge = fake.charges[fake.payment_intents[intent_id]["latest_charge"]]
        assert (charge["amount_refunded"], charge["refunded"]) == (1900, True)
        assert inbox.types[-2:] == ["charge.refunded", "refund.created"]

    async def test_partial_refunds_add_up(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "pay")
        intent_id = fake.sessions[session.id]["payment_intent"]

        await sdk.v1.refunds.create_async({"payment_intent": intent_id, "amount": 900})
        charge = fake.charges[fake.payment_intents[intent_id]["latest_charge"]]
        assert (charge["amount_refunded"], charge["refunded"]) == (900, False)
        with pytest.raises(stripe.InvalidRequestError) as caught:
            await sdk.v1.refunds.create_async({"payment_intent": intent_id, "amount": 1001})
        assert caught.value.code == "amount_too_large"
        await sdk.v1.refunds.create_async({"payment_intent": intent_id})

        assert (charge["amount_refunded"], charge["refunded"]) == (1900, True)

    async def test_an_unpaid_payment_cannot_be_refunded(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "decline")
        intent_id = fake.sessions[session.id]["payment_intent"]

        with pytest.raises(stripe.InvalidRequestError) as caught:
            await sdk.v1.refunds.create_async({"payment_intent": intent_id})

        assert caught.value.param == "payment_intent"
        assert fake.refunds == {}


class TestEvents:
    async def test_events_are_retrievable_as_typed_events(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk)
        await act(http, session, "pay")

        event = await sdk.v1.events.retrieve_async(fake.events[0]["id"])

        assert isinstance(event, stripe.Event)
        assert event.type == "checkout.session.completed"
        assert event.data.object["id"] == session.id


class TestInjectedErrors:
    async def test_an_injected_503_reaches_the_sdk_as_an_api_error(
        self, sdk: stripe.StripeClient, fake: StripeFake
    ) -> None:
        fake.inject_error(503, should_retry=False)

        with pytest.raises(stripe.APIError) as caught:
            await create_session(sdk)

        assert caught.value.http_status == 503
        assert fake.sessions == {}

    async def test_the_sdk_retries_with_the_same_key_and_succeeds(
        self, sdk: stripe.StripeClient, fake: StripeFake
    ) -> None:
        fake.inject_error(500, times=2)

        session = await create_session(sdk)

        assert session.status == "open"
        attempts = [request for request in fake.requests if request.path == "/v1/checkout/sessions"]
        assert [request.status for request in attempts] == [500, 500, 200]
        assert len({request.idempotency_key for request in attempts}) == 1

    async def test_faults_are_answered_only_after_authentication(
        self, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        fake.inject_error(500)

        unauthenticated = await http.get("/v1/events/evt_1")
        authenticated = await http.get("/v1/events/evt_1", headers=FORM)

        assert (unauthenticated.status_code, authenticated.status_code) == (401, 500)


class TestMounted:
    async def test_urls_and_the_hosted_page_work_under_a_mount_prefix(self, inbox: Inbox) -> None:
        fake = StripeFake(send_webhook=inbox)
        host = FastAPI()
        host.mount("/_sandbox/stripe", fake.app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://localhost:8100") as http:
            sdk = sdk_with(http, api_base="http://localhost:8100/_sandbox/stripe")
            session = await create_session(sdk)

            page = await http.get(session.url or "")
            paid = await act(http, session, "pay")

        assert session.url == f"http://localhost:8100/_sandbox/stripe/checkout/{session.id}"
        assert 'action="/_sandbox/stripe/checkout/' in page.text
        assert paid.status_code == 303
        assert fake.sessions[session.id]["status"] == "complete"
