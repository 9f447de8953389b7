from __future__ import annotations

import httpx
import pytest

from carpulse.payment.gateway import PaymentStatus
from carpulse.payment.stripe import StripeGateway
from carpulse.payment.stripe.errors import StripePaymentNotFound
from fakes.stripe import StripeFake
from tests.payment.stripe.flows import checkout_request, press


class TestPaid:
    @pytest.mark.parametrize("method", ["card", "google_pay", "apple_pay", "mobilepay"])
    async def test_a_paid_session_verifies_as_succeeded_with_amount_currency_and_method(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake, method: str
    ) -> None:
        started = await gateway.create_payment(checkout_request(amount_cents=2900))
        await press(http, started, "pay", method)

        outcome = await gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.succeeded
        assert (outcome.amount_cents, outcome.currency) == (2900, "EUR")
        assert outcome.payment_method == method
        assert outcome.order_id == "ord_7Hk2"
        assert outcome.provider == "stripe"
        assert outcome.provider_payment_id == started.provider_payment_id
        assert outcome.reference == fake.sessions[started.provider_payment_id]["payment_intent"]

    async def test_capture_only_verifies(self, gateway: StripeGateway, http: httpx.AsyncClient) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "pay")

        outcome = await gateway.capture(started.provider_payment_id, "order:ord_7Hk2:capture")

        assert outcome == await gateway.verify(started.provider_payment_id)
        assert outcome.status is PaymentStatus.succeeded


class TestPending:
    async def test_an_untouched_session_is_pending(self, gateway: StripeGateway) -> None:
        started = await gateway.create_payment(checkout_request())

        outcome = await gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.pending
        assert outcome.reference is None
        assert outcome.payment_method is None


class TestDeclined:
    async def test_a_declined_attempt_verifies_as_failed(self, gateway: StripeGateway, http: httpx.AsyncClient) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "decline")

        outcome = await gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.failed
        assert outcome.amount_cents == 1900

    async def test_paying_after_a_decline_verifies_as_succeeded(
        self, gateway: StripeGateway, http: httpx.AsyncClient
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "decline")
        await press(http, started, "pay", "mobilepay")

        outcome = await gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.succeeded
        assert outcome.payment_method == "mobilepay"


class TestAbandoned:
    async def test_an_abandoned_session_verifies_as_expired(
        self, gateway: StripeGateway, http: httpx.AsyncClient
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "abandon")

        outcome = await gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.expired


class TestRefunded:
    async def test_a_fully_refunded_payment_verifies_as_refunded(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "pay")
        intent_id = fake.sessions[started.provider_payment_id]["payment_intent"]
        await http.post(
            "/v1/refunds", data={"payment_intent": intent_id}, headers={"Authorization": "Bearer sk_test_sandbox"}
        )

        outcome = await gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.refunded


class TestPaymentIntentId:
    async def test_a_payment_intent_id_verifies_too(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "pay", "google_pay")
        intent_id = fake.sessions[started.provider_payment_id]["payment_intent"]

        outcome = await gateway.verify(intent_id)

        assert outcome.status is PaymentStatus.succeeded
        assert (outcome.provider_payment_id, outcome.reference) == (intent_id, intent_id)
        assert (outcome.amount_cents, outcome.currency, outcome.order_id) == (1900, "EUR", "ord_7Hk2")
        assert outcome.payment_method == "google_pay"

    async def test_a_declined_payment_intent_is_failed(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "decline")

        outcome = await gateway.verify(fake.sessions[started.provider_payment_id]["payment_intent"])

        assert outcome.status is PaymentStatus.failed


class TestUnknownId:
    @pytest.mark.parametrize("payment_id", ["cs_test_unknown", "pi_unknown"])
    async def test_an_id_stripe_does_not_know_is_not_found(self, gateway: StripeGateway, payment_id: str) -> None:
        with pytest.raises(StripePaymentNotFound) as caught:
            await gateway.verify(payment_id)

        assert caught.value.status == 404

    async def test_another_providers_id_is_not_sent_to_stripe(self, gateway: StripeGateway, fake: StripeFake) -> None:
        with pytest.raises(StripePaymentNotFound):
            await gateway.verify("5O190127TN364715T")

        assert fake.requests == []


class TestClose:
    async def test_a_declined_session_is_expired_and_can_no_longer_be_paid(
        self, gateway: StripeGateway, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "decline")

        outcome = await gateway.close(started.provider_payment_id, "order:ord_7Hk2:close")

        assert outcome.status is PaymentStatus.expired
        assert fake.sessions[started.provider_payment_id]["status"] == "expired"
        assert started.redirect_url is not None
        page = await http.get(started.redirect_url, params={"sandbox_outcome": "pay", "sandbox_method": "card"})
        assert page.status_code == 409
        assert (await gateway.verify(started.provider_payment_id)).status is PaymentStatus.expired

    async def test_a_session_paid_first_stays_paid(self, gateway: StripeGateway, http: httpx.AsyncClient) -> None:
        started = await gateway.create_payment(checkout_request())
        await press(http, started, "pay")

        outcome = await gateway.close(started.provider_payment_id, "order:ord_7Hk2:close")

        assert outcome.status is PaymentStatus.succeeded

    async def test_closing_twice_is_harmless(self, gateway: StripeGateway) -> None:
        started = await gateway.create_payment(checkout_request())
        first = await gateway.close(started.provider_payment_id, "order:ord_7Hk2:close")
        second = await gateway.close(started.provider_payment_id, "order:ord_7Hk2:close-again")
        assert first.status is second.status is PaymentStatus.expired
