from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carpulse.payment.gateway import PaymentStatus
from carpulse.payment.paypal.adapter import paypal_locale, to_cents, to_value
from carpulse.payment.paypal.errors import PayPalOrderNotApproved
from carpulse.payment.paypal.schemas import RefundCreate
from tests.payment.paypal.conftest import PayPalRig


class TestCreatePayment:
    @pytest.mark.parametrize(("cents", "value"), [(1900, "19.00"), (1, "0.01"), (14900, "149.00"), (2900, "29.00")])
    async def test_amount_is_the_exact_decimal_string(self, paypal: PayPalRig, cents: int, value: str) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout(amount_cents=cents))

        sent = json.loads(paypal.transport.requests[-1].content)
        amount = sent["purchase_units"][0]["amount"]
        assert amount["value"] == value
        assert amount["breakdown"]["item_total"]["value"] == value
        assert paypal.fake.orders[started.provider_payment_id].purchase_units[0].value == Decimal(value)

    async def test_our_order_id_and_urls_go_to_paypal(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())

        order = paypal.fake.orders[started.provider_payment_id]
        unit = order.purchase_units[0]
        assert (unit.custom_id, unit.reference_id) == ("ord_7Hk2", "ord_7Hk2")
        assert order.return_url == "https://app.example/paid?order=ord_7Hk2"
        assert order.cancel_url == "https://app.example/cancelled?order=ord_7Hk2"
        assert order.experience["locale"] == "fi-FI"
        assert order.experience["shipping_preference"] == "NO_SHIPPING"

    async def test_redirect_goes_to_the_approval_link(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())

        assert started.provider == "paypal"
        assert started.redirect_url == f"http://paypal.test/checkoutnow?token={started.provider_payment_id}"
        assert paypal.gateway.can_handle_payment_id(started.provider_payment_id)

    async def test_the_same_key_gives_the_same_paypal_order(self, paypal: PayPalRig) -> None:
        first = await paypal.gateway.create_payment(paypal.checkout())
        second = await paypal.gateway.create_payment(paypal.checkout())

        assert first.provider_payment_id == second.provider_payment_id
        assert len(paypal.fake.orders) == 1

    async def test_a_new_order_starts_pending(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())

        outcome = await paypal.gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.pending
        assert (outcome.amount_cents, outcome.currency, outcome.order_id) == (1900, "EUR", "ord_7Hk2")
        assert outcome.reference is None


class TestLocales:
    @pytest.mark.parametrize(
        ("ours", "theirs"),
        [
            ("fi", "fi-FI"),
            ("sv", "sv-SE"),
            ("nb", "nb-NO"),
            ("no", "nb-NO"),
            ("da", "da-DK"),
            ("de", "de-DE"),
            ("fr", "fr-FR"),
            ("es", "es-ES"),
            ("it", "it-IT"),
            ("en", "en-US"),
            ("en-GB", "en-GB"),
            ("fi_FI", "fi-FI"),
            ("sv-FI", "sv-FI"),
            ("de-XX", "de-DE"),
            ("xx", None),
        ],
    )
    def test_our_locale_maps_to_paypal(self, ours: str, theirs: str | None) -> None:
        assert paypal_locale(ours) == theirs

    async def test_an_unknown_language_lets_paypal_choose(self, paypal: PayPalRig) -> None:
        await paypal.gateway.create_payment(paypal.checkout(locale="xx"))

        sent = json.loads(paypal.transport.requests[-1].content)
        assert "locale" not in sent["payment_source"]["paypal"]["experience_context"]


class TestPaidFlow:
    async def test_create_approve_capture_verify_succeeds_with_the_exact_amount(self, paypal: PayPalRig) -> None:
        started = await paypal.approved(14900)

        captured = await paypal.gateway.capture(started.provider_payment_id, "order:ord_7Hk2:capture")
        verified = await paypal.gateway.verify(started.provider_payment_id)

        assert captured == verified
        assert verified.status is PaymentStatus.succeeded
        assert (verified.amount_cents, verified.currency) == (14900, "EUR")
        assert verified.order_id == "ord_7Hk2"
        assert verified.payment_method == "paypal"
        assert verified.reference in paypal.fake.captures

    async def test_the_smallest_amount_survives_the_round_trip(self, paypal: PayPalRig) -> None:
        started = await paypal.approved(1)

        outcome = await paypal.gateway.capture(started.provider_payment_id, "k")

        assert outcome.amount_cents == 1

    async def test_approved_but_not_captured_is_still_pending(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()

        outcome = await paypal.gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.pending


class TestAbandonedPayment:
    async def test_cancel_leaves_the_payment_pending(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        response = await paypal.buyer(started, "cancel")

        outcome = await paypal.gateway.verify(started.provider_payment_id)

        assert response.headers["location"].startswith("https://app.example/cancelled?order=ord_7Hk2&token=")
        assert outcome.status is PaymentStatus.pending

    async def test_a_voided_order_is_expired(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())
        await paypal.buyer(started, "cancel")
        paypal.fake.void_order(started.provider_payment_id)

        outcome = await paypal.gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.expired


class TestCaptureBeforeApproval:
    async def test_is_a_clear_409_and_captures_nothing(self, paypal: PayPalRig) -> None:
        started = await paypal.gateway.create_payment(paypal.checkout())

        with pytest.raises(PayPalOrderNotApproved) as raised:
            await paypal.gateway.capture(started.provider_payment_id, "order:ord_7Hk2:capture")

        assert raised.value.status == 409
        assert raised.value.extensions["paypal_issue"] == "ORDER_NOT_APPROVED"
        assert paypal.fake.captures == {}


class TestDoubleCapture:
    async def test_same_key_twice_is_one_capture(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()

        first = await paypal.gateway.capture(started.provider_payment_id, "order:ord_7Hk2:capture")
        second = await paypal.gateway.capture(started.provider_payment_id, "order:ord_7Hk2:capture")

        assert first == second
        assert len(paypal.fake.captures) == 1

    async def test_another_key_after_capture_reads_the_captured_order(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()
        first = await paypal.gateway.capture(started.provider_payment_id, "key-1")

        second = await paypal.gateway.capture(started.provider_payment_id, "key-2")

        assert second.status is PaymentStatus.succeeded
        assert second.reference == first.reference
        assert len(paypal.fake.captures) == 1


class TestDeclinedAndRefunded:
    async def test_a_declined_capture_is_failed(self, paypal: PayPalRig) -> None:
        started = await paypal.approved(outcome="decline")

        outcome = await paypal.gateway.capture(started.provider_payment_id, "k")

        assert outcome.status is PaymentStatus.failed

    async def test_a_fully_refunded_capture_is_refunded(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()
        captured = await paypal.gateway.capture(started.provider_payment_id, "k")
        assert captured.reference is not None
        await paypal.gateway.client.refund_capture(captured.reference, request_id="r", refund=RefundCreate())

        outcome = await paypal.gateway.verify(started.provider_payment_id)

        assert outcome.status is PaymentStatus.refunded


class TestIdentifiers:
    @pytest.mark.parametrize(
        ("payment_id", "ours"),
        [
            ("5O190127TN364715T", True),
            ("3L123456AB789012C", True),
            ("8AB12345CD6789012", True),
            ("5o190127tn364715t", False),
            ("5O190127TN364715", False),
            ("cs_test_a1b2c3", False),
            ("pi_3Nabc", False),
            ("", False),
        ],
    )
    def test_paypal_order_ids_are_recognised_by_shape(self, paypal: PayPalRig, payment_id: str, ours: bool) -> None:
        assert paypal.gateway.can_handle_payment_id(payment_id) is ours

    def test_configured_only_with_credentials_and_webhook_id(self, paypal: PayPalRig) -> None:
        assert paypal.gateway.is_configured()
        assert not paypal.gateway_with(client_secret="").is_configured()
        assert not paypal.gateway_with(webhook_id="").is_configured()


class TestAmounts:
    @given(st.integers(min_value=0, max_value=10**12))
    def test_cents_survive_the_decimal_string_exactly(self, cents: int) -> None:
        value = to_value(cents, "EUR")

        assert to_cents(value, "EUR") == cents
        assert Decimal(value) * 100 == cents
        assert len(value.split(".")[1]) == 2

    def test_zero_decimal_currencies_have_no_decimals(self) -> None:
        assert to_value(1900, "JPY") == "1900"
        assert to_cents("1900", "JPY") == 1900

    @pytest.mark.parametrize("value", ["19.001", "abc", "NaN", "Infinity"])
    def test_fractions_of_a_cent_and_garbage_are_refused(self, value: str) -> None:
        with pytest.raises(ValueError, match="not a"):
            to_cents(value, "EUR")

    def test_negative_amounts_are_refused(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            to_value(-1, "EUR")
