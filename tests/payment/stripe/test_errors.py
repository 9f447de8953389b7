from __future__ import annotations

import httpx
import pytest

from carpulse.errors import CarPulseError
from carpulse.kit.resilience import CircuitBreaker
from carpulse.payment.stripe.errors import (
    StripeAmountRejected,
    StripeGatewayError,
    StripeIdempotencyConflict,
    StripeMisconfigured,
    StripePaymentDeclined,
    StripeRateLimited,
    StripeRequestRejected,
    StripeTimeout,
    StripeUnavailable,
)
from fakes.stripe import StripeFake
from tests.payment.stripe.flows import API_BASE, checkout_request, gateway_for


def attempts(fake: StripeFake) -> list[int]:
    return [request.status for request in fake.requests if request.path == "/v1/checkout/sessions"]


class TestFakeAnswers:
    @pytest.mark.parametrize(
        ("status", "kind", "code", "error", "answer"),
        [
            (500, "api_error", None, StripeUnavailable, 503),
            (503, "api_error", None, StripeUnavailable, 503),
            (429, "invalid_request_error", "rate_limit", StripeRateLimited, 503),
            (402, "card_error", "card_declined", StripePaymentDeclined, 402),
            (403, "invalid_request_error", None, StripeMisconfigured, 502),
            (400, "invalid_request_error", "parameter_unknown", StripeRequestRejected, 502),
            (400, "invalid_request_error", "amount_too_small", StripeAmountRejected, 400),
            (400, "idempotency_error", None, StripeIdempotencyConflict, 409),
        ],
    )
    async def test_each_stripe_error_becomes_our_problem(
        self,
        http: httpx.AsyncClient,
        fake: StripeFake,
        status: int,
        kind: str,
        code: str | None,
        error: type[StripeGatewayError],
        answer: int,
    ) -> None:
        gateway = gateway_for(http, max_network_retries=0)
        fake.inject_error(status, "refused by the fake", type=kind, code=code)

        with pytest.raises(StripeGatewayError) as caught:
            await gateway.create_payment(checkout_request())

        assert type(caught.value) is error
        assert caught.value.status == answer
        assert caught.value.extensions["stripe_request_id"].startswith("req_")

    @pytest.mark.parametrize(("status", "seconds"), [(503, "5"), (429, "10")])
    async def test_busy_answers_carry_retry_after(
        self, http: httpx.AsyncClient, fake: StripeFake, status: int, seconds: str
    ) -> None:
        gateway = gateway_for(http, max_network_retries=0)
        fake.inject_error(status)

        with pytest.raises(StripeGatewayError) as caught:
            await gateway.create_payment(checkout_request())

        assert caught.value.headers["Retry-After"] == seconds

    async def test_stripes_own_retry_after_wins(self, http: httpx.AsyncClient, fake: StripeFake) -> None:
        gateway = gateway_for(http, max_network_retries=0)
        fake.inject_error(429, headers={"Retry-After": "42"})

        with pytest.raises(StripeRateLimited) as caught:
            await gateway.create_payment(checkout_request())

        assert caught.value.headers["Retry-After"] == "42"

    async def test_a_wrong_secret_key_is_a_misconfiguration_not_the_customers_fault(
        self, http: httpx.AsyncClient
    ) -> None:
        gateway = gateway_for(http, secret_key="sk_test_not_the_right_one")

        with pytest.raises(StripeMisconfigured) as caught:
            await gateway.create_payment(checkout_request())

        assert caught.value.status == 502
        assert "sk_test_not_the_right_one" not in str(caught.value.detail)


class TestIdempotencyConflict:
    async def test_reusing_a_key_with_another_amount_is_409(self, http: httpx.AsyncClient, fake: StripeFake) -> None:
        gateway = gateway_for(http)
        await gateway.create_payment(checkout_request(amount_cents=1900, idempotency_key="order:1:checkout"))

        with pytest.raises(StripeIdempotencyConflict) as caught:
            await gateway.create_payment(checkout_request(amount_cents=2900, idempotency_key="order:1:checkout"))

        assert caught.value.status == 409
        assert len(fake.sessions) == 1


class TestRetries:
    async def test_two_retries_then_an_answer_of_503(self, http: httpx.AsyncClient, fake: StripeFake) -> None:
        fake.inject_error(500, times=3)
        retrying = gateway_for(http)

        with pytest.raises(StripeUnavailable):
            await retrying.create_payment(checkout_request())

        assert attempts(fake) == [500, 500, 500]

    async def test_a_retry_with_the_same_idempotency_key_recovers(
        self, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        fake.inject_error(503, times=1)
        gateway = gateway_for(http)

        started = await gateway.create_payment(checkout_request(idempotency_key="order:1:checkout:v1"))

        assert attempts(fake) == [503, 200]
        assert {request.idempotency_key for request in fake.requests} == {"order:1:checkout:v1"}
        assert list(fake.sessions) == [started.provider_payment_id]

    async def test_stripe_should_retry_false_is_obeyed(self, http: httpx.AsyncClient, fake: StripeFake) -> None:
        fake.inject_error(500, times=3, should_retry=False)
        gateway = gateway_for(http)

        with pytest.raises(StripeUnavailable):
            await gateway.create_payment(checkout_request())

        assert attempts(fake) == [500]


def failing_transport(error: Exception) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=API_BASE)


class TestTransportFailures:
    async def test_an_unreachable_stripe_is_503_with_retry_after(self) -> None:
        async with failing_transport(httpx.ConnectError("refused")) as http:
            gateway = gateway_for(http)

            with pytest.raises(StripeUnavailable) as caught:
                await gateway.verify("cs_test_x")

        assert caught.value.status == 503
        assert caught.value.headers["Retry-After"] == "5"

    async def test_a_timeout_is_504(self) -> None:
        async with failing_transport(httpx.ReadTimeout("slow")) as http:
            gateway = gateway_for(http)

            with pytest.raises(StripeTimeout) as caught:
                await gateway.verify("cs_test_x")

        assert caught.value.status == 504

    async def test_a_body_that_is_not_stripe_json_is_a_vendor_error(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(502, text="<html>Bad gateway</html>", headers={"Content-Type": "text/html"})

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            gateway = gateway_for(http, max_network_retries=0)

            with pytest.raises(StripeUnavailable) as caught:
                await gateway.verify("cs_test_x")

        assert caught.value.status == 503

    async def test_a_success_status_with_garbage_is_a_502(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, text="surprise")

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            gateway = gateway_for(http)

            with pytest.raises(StripeGatewayError) as caught:
                await gateway.verify("cs_test_x")

        assert caught.value.status == 502


class TestNeverA500:
    @pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 429, 500, 502, 503, 504])
    async def test_no_stripe_status_becomes_a_bare_exception_or_a_500(
        self, http: httpx.AsyncClient, fake: StripeFake, status: int
    ) -> None:
        gateway = gateway_for(http, max_network_retries=0)
        fake.inject_error(status, type="api_error" if status >= 500 else "invalid_request_error")

        with pytest.raises(CarPulseError) as caught:
            await gateway.verify("cs_test_x")

        assert caught.value.status != 500
        assert isinstance(caught.value, StripeGatewayError)


class TestCircuitBreaker:
    async def test_an_open_breaker_answers_503_without_calling_stripe(
        self, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        breaker = CircuitBreaker(window=4, min_calls=2, failure_ratio=0.5, reset_seconds=30)
        gateway = gateway_for(http, max_network_retries=0, breaker=breaker)
        fake.inject_error(503, times=2)
        for _ in range(2):
            with pytest.raises(StripeUnavailable):
                await gateway.verify("cs_test_x")
        calls = len(fake.requests)

        with pytest.raises(StripeUnavailable) as caught:
            await gateway.verify("cs_test_x")

        assert len(fake.requests) == calls
        assert int(caught.value.headers["Retry-After"]) >= 1

    async def test_a_customer_error_does_not_trip_the_breaker(self, http: httpx.AsyncClient, fake: StripeFake) -> None:
        breaker = CircuitBreaker(window=4, min_calls=2, failure_ratio=0.5, reset_seconds=30)
        gateway = gateway_for(http, max_network_retries=0, breaker=breaker)

        for _ in range(3):
            with pytest.raises(StripeGatewayError):
                await gateway.verify("cs_test_missing")

        assert not breaker.is_open
