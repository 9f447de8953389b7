from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from carpulse.payment.paypal.client import MAX_REQUEST_ID, PayPalClient, request_id_for
from carpulse.payment.paypal.errors import (
    PayPalAuthenticationFailed,
    PayPalError,
    PayPalPaymentNotFound,
    PayPalRateLimited,
    PayPalUnavailable,
)
from carpulse.payment.paypal.schemas import Money, RefundCreate
from tests.payment.paypal.conftest import PayPalRig

TOKEN_PATH = "/v1/oauth2/token"


class TestTokenCache:
    async def test_one_token_serves_many_calls(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        for _ in range(3):
            await paypal.gateway.verify(started.provider_payment_id)

        assert paypal.transport.paths().count(TOKEN_PATH) == 1
        assert paypal.gateway.client.tokens_fetched == 1

    async def test_concurrent_callers_share_one_token_fetch(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        paypal.gateway.client.forget_token()

        await asyncio.gather(*(paypal.gateway.verify(started.provider_payment_id) for _ in range(5)))

        assert paypal.gateway.client.tokens_fetched == 2

    async def test_a_rejected_token_is_refreshed_once_and_the_call_repeated(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        paypal.fake.expire_tokens()

        outcome = await paypal.gateway.verify(started.provider_payment_id)

        assert outcome.provider_payment_id == started.provider_payment_id
        assert paypal.gateway.client.tokens_fetched == 2
        statuses = [call.status for call in paypal.fake.calls if call.path.startswith("/v2/checkout/orders/")]
        assert statuses == [401, 200]

    async def test_a_token_is_renewed_shortly_before_it_expires(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        paypal.clock.advance(32400 - 60)

        await paypal.gateway.verify(started.provider_payment_id)

        assert paypal.gateway.client.tokens_fetched == 2
        assert 401 not in [call.status for call in paypal.fake.calls]

    async def test_a_second_401_is_an_authentication_failure(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        paypal.fake.inject_fault(401, operation="get_order", count=2)

        with pytest.raises(PayPalAuthenticationFailed) as raised:
            await paypal.gateway.verify(started.provider_payment_id)

        assert raised.value.status == 502
        assert paypal.gateway.client.tokens_fetched == 2

    async def test_wrong_credentials_are_an_authentication_failure(self, paypal: PayPalRig) -> None:
        gateway = paypal.gateway_with(client_secret="wrong")

        with pytest.raises(PayPalAuthenticationFailed) as raised:
            await gateway.create_payment(paypal.checkout())

        assert raised.value.status == 502
        assert paypal.fake.orders == {}


class TestRetries:
    async def test_a_5xx_is_retried_after_a_backoff(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        paypal.fake.inject_fault(503, operation="get_order")

        outcome = await paypal.gateway.verify(started.provider_payment_id)

        assert outcome.provider_payment_id == started.provider_payment_id
        assert len(paypal.sleeps) == 1

    async def test_persistent_5xx_becomes_unavailable_503(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        paypal.fake.inject_fault(500, operation="get_order", count=10)

        with pytest.raises(PayPalUnavailable) as raised:
            await paypal.gateway.verify(started.provider_payment_id)

        assert raised.value.status == 503
        assert [c.status for c in paypal.fake.calls if c.method == "GET"] == [500, 500, 500]

    async def test_connection_errors_are_retried_then_unavailable(self, paypal: PayPalRig) -> None:
        paypal.transport.refuse_connections = 2
        started = await paypal.gateway.create_payment(paypal.checkout())

        paypal.transport.refuse_connections = 3
        with pytest.raises(PayPalUnavailable):
            await paypal.gateway.verify(started.provider_payment_id)

        assert started.provider_payment_id in paypal.fake.orders
        assert len(paypal.sleeps) == 4

    async def test_a_short_retry_after_is_slept_then_retried(self, paypal: PayPalRig) -> None:
        paypal.fake.inject_fault(429, operation="create_order", retry_after=2)

        started = await paypal.gateway.create_payment(paypal.checkout())

        assert started.provider_payment_id in paypal.fake.orders
        assert paypal.sleeps == [2.0]

    async def test_a_long_retry_after_is_surfaced_not_slept(self, paypal: PayPalRig) -> None:
        paypal.fake.inject_fault(429, operation="create_order", retry_after=120)

        with pytest.raises(PayPalRateLimited) as raised:
            await paypal.gateway.create_payment(paypal.checkout())

        assert raised.value.headers == {"Retry-After": "120"}
        assert paypal.sleeps == []

    async def test_a_capture_whose_answer_was_lost_is_retried_safely(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()
        paypal.fake.inject_fault(500, operation="capture_order", applied=True)

        outcome = await paypal.gateway.capture(started.provider_payment_id, "order:ord_7Hk2:capture")

        assert outcome.status == "succeeded"
        assert len(paypal.fake.captures) == 1
        captures = [c for c in paypal.fake.calls if c.path.endswith("/capture")]
        assert [c.status for c in captures] == [500, 200]
        assert {c.request_id for c in captures} == {"order:ord_7Hk2:capture"}


class TestRequestIds:
    async def test_every_post_carries_one_and_no_get_does(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()
        outcome = await paypal.gateway.capture(started.provider_payment_id, "order:ord_7Hk2:capture")
        await paypal.gateway.verify(started.provider_payment_id)
        assert outcome.reference is not None
        await paypal.gateway.client.refund_capture(outcome.reference, request_id="order:ord_7Hk2:refund")

        api = [r for r in paypal.transport.requests if r.url.path.startswith("/v2/")]
        posts = [r.headers.get("paypal-request-id") for r in api if r.method == "POST"]
        gets = [r.headers.get("paypal-request-id") for r in api if r.method == "GET"]
        assert posts == ["order:ord_7Hk2:pp-create", "order:ord_7Hk2:capture", "order:ord_7Hk2:refund"]
        assert gets == [None]

    async def test_an_overlong_key_becomes_a_stable_digest(self) -> None:
        key = "order:" + "x" * 200

        assert len(request_id_for(key)) <= MAX_REQUEST_ID
        assert request_id_for(key) == request_id_for(key)
        assert request_id_for("order:1:capture") == "order:1:capture"

    async def test_the_api_answers_with_representation(self, paypal: PayPalRig) -> None:
        await paypal.gateway.create_payment(paypal.checkout())

        create = next(r for r in paypal.transport.requests if r.url.path == "/v2/checkout/orders")
        assert create.headers["prefer"] == "return=representation"
        assert create.headers["authorization"].startswith("Bearer A21AA")


class TestErrorMapping:
    async def test_unknown_order_is_not_found_with_paypal_details(self, paypal: PayPalRig) -> None:
        with pytest.raises(PayPalPaymentNotFound) as raised:
            await paypal.gateway.verify("5O190127TN364715T")

        assert raised.value.status == 404
        assert raised.value.extensions["paypal_issue"] == "INVALID_RESOURCE_ID"
        assert raised.value.extensions["paypal_debug_id"]

    async def test_an_unreadable_answer_is_a_502(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path == TOKEN_PATH:
                return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
            return httpx.Response(200, text="<html>maintenance</html>")

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = PayPalClient(http, api_base="https://api-m.paypal.test", client_id="a", client_secret="b")
            with pytest.raises(PayPalError) as raised:
                await client.get_order("5O190127TN364715T")

        assert raised.value.status == 502

    async def test_a_refused_refund_is_a_conflict(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()
        outcome = await paypal.gateway.capture(started.provider_payment_id, "k")
        assert outcome.reference is not None
        too_much = RefundCreate(amount=Money(currency_code="EUR", value="19.01"))

        with pytest.raises(PayPalError) as raised:
            await paypal.gateway.client.refund_capture(outcome.reference, request_id="r", refund=too_much)

        assert raised.value.status == 409
        assert raised.value.extensions["paypal_issue"] == "REFUND_AMOUNT_EXCEEDED"

    async def test_refund_sends_our_order_id_as_custom_id(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()
        outcome = await paypal.gateway.capture(started.provider_payment_id, "k")
        assert outcome.reference is not None

        refund = await paypal.gateway.client.refund_capture(
            outcome.reference, request_id="r", refund=RefundCreate(custom_id="ord_7Hk2")
        )

        sent = json.loads(paypal.transport.requests[-1].content)
        assert sent == {"custom_id": "ord_7Hk2"}
        assert refund.custom_id == "ord_7Hk2"
        assert refund.status == "COMPLETED"
