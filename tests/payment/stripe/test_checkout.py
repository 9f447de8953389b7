from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from carpulse.config import StripeSettings
from carpulse.kit.clock import FrozenClock
from carpulse.payment.gateway import PaymentGateway
from carpulse.payment.stripe import StripeGateway, stripe_locale
from carpulse.payment.stripe.errors import StripeNotConfigured
from fakes.stripe import StripeFake
from tests.payment.stripe.flows import API_BASE, checkout_request, gateway_for, last_checkout_params


class TestProtocol:
    def test_is_a_payment_gateway_named_stripe(self, gateway: StripeGateway) -> None:
        strategy: PaymentGateway = gateway

        assert strategy.name == "stripe"
        assert strategy.is_configured()

    @pytest.mark.parametrize(
        ("payment_id", "handled"),
        [("cs_test_a1B2", True), ("cs_live_a1B2", True), ("pi_3Qx", True), ("5O190127TN364715T", False), ("", False)],
    )
    def test_handles_checkout_session_and_payment_intent_ids(
        self, gateway: StripeGateway, payment_id: str, handled: bool
    ) -> None:
        assert gateway.can_handle_payment_id(payment_id) is handled

    def test_is_built_from_settings(self, http: httpx.AsyncClient) -> None:
        gateway = StripeGateway.from_settings(
            StripeSettings(webhook_tolerance_seconds=120), http=http, api_base=API_BASE
        )

        assert gateway.is_configured()
        assert gateway.webhook_tolerance_seconds == 120
        assert gateway.webhook_secret == "whsec_sandbox"


class TestNotConfigured:
    async def test_without_a_secret_key_nothing_is_sent(self, http: httpx.AsyncClient, fake: StripeFake) -> None:
        gateway = gateway_for(http, secret_key="")

        with pytest.raises(StripeNotConfigured) as caught:
            await gateway.create_payment(checkout_request())

        assert not gateway.is_configured()
        assert caught.value.status == 503
        assert fake.requests == []


class TestCreatePayment:
    async def test_returns_the_session_and_its_hosted_page(self, gateway: StripeGateway, fake: StripeFake) -> None:
        started = await gateway.create_payment(checkout_request())

        assert started.provider == "stripe"
        assert started.provider_payment_id.startswith("cs_test_")
        assert started.redirect_url == f"{API_BASE}/checkout/{started.provider_payment_id}"
        assert started.client_secret is None
        assert fake.sessions[started.provider_payment_id]["status"] == "open"

    async def test_charges_the_servers_gross_amount_vat_inclusive(
        self, gateway: StripeGateway, fake: StripeFake
    ) -> None:
        await gateway.create_payment(checkout_request(amount_cents=14900, currency="EUR"))

        item = last_checkout_params(fake)["line_items"][0]
        assert item == {
            "quantity": "1",
            "price_data": {
                "currency": "eur",
                "unit_amount": "14900",
                "tax_behavior": "inclusive",
                "product_data": {"name": "Basic vehicle report"},
            },
        }

    async def test_carries_the_order_id_to_the_session_and_the_payment_intent(
        self, gateway: StripeGateway, fake: StripeFake
    ) -> None:
        await gateway.create_payment(checkout_request(order_id="ord_42"))

        params = last_checkout_params(fake)
        assert params["client_reference_id"] == "ord_42"
        assert params["metadata"] == {"order_id": "ord_42"}
        assert params["payment_intent_data"]["metadata"] == {"order_id": "ord_42"}
        assert params["mode"] == "payment"

    async def test_passes_our_idempotency_key_through(self, gateway: StripeGateway, fake: StripeFake) -> None:
        await gateway.create_payment(checkout_request(idempotency_key="order:ord_7Hk2:checkout:v1"))

        assert fake.requests[-1].idempotency_key == "order:ord_7Hk2:checkout:v1"

    async def test_never_sends_endives_refused_payment_method_types(
        self, gateway: StripeGateway, fake: StripeFake
    ) -> None:
        await gateway.create_payment(checkout_request())

        params = last_checkout_params(fake)
        assert "payment_method_types" not in params
        assert "allowed_payment_method_types" not in params
        assert fake.requests[-1].status == 200


class TestIdempotentCreate:
    async def test_a_retried_create_returns_the_same_session(self, gateway: StripeGateway, fake: StripeFake) -> None:
        first = await gateway.create_payment(checkout_request())
        second = await gateway.create_payment(checkout_request())

        assert first == second
        assert len(fake.sessions) == 1

    async def test_another_order_gets_another_session(self, gateway: StripeGateway, fake: StripeFake) -> None:
        first = await gateway.create_payment(checkout_request(order_id="ord_1"))
        second = await gateway.create_payment(checkout_request(order_id="ord_2"))

        assert first.provider_payment_id != second.provider_payment_id
        assert len(fake.sessions) == 2


class TestLocale:
    @pytest.mark.parametrize(
        ("ours", "stripes"),
        [
            ("no", "nb"),
            ("nb", "nb"),
            ("nb_NO", "nb"),
            ("fi", "fi"),
            ("fi-FI", "fi"),
            ("sv", "sv"),
            ("da", "da"),
            ("de", "de"),
            ("fr", "fr"),
            ("es", "es"),
            ("it", "it"),
            ("en", "en"),
            ("xx", "auto"),
            ("", "auto"),
        ],
    )
    def test_maps_to_checkouts_locales(self, ours: str, stripes: str) -> None:
        assert stripe_locale(ours) == stripes

    async def test_norwegian_checkout_is_sent_as_nb(self, gateway: StripeGateway, fake: StripeFake) -> None:
        started = await gateway.create_payment(checkout_request(locale="no"))

        assert last_checkout_params(fake)["locale"] == "nb"
        assert fake.sessions[started.provider_payment_id]["locale"] == "nb"


class TestExpiry:
    @pytest.mark.parametrize(
        ("requested", "sent"),
        [
            (timedelta(minutes=10), timedelta(minutes=31)),
            (timedelta(hours=2), timedelta(hours=2)),
            (timedelta(days=3), timedelta(hours=23, minutes=59)),
        ],
    )
    async def test_expires_at_is_clamped_into_stripes_window(
        self, http: httpx.AsyncClient, fake: StripeFake, requested: timedelta, sent: timedelta
    ) -> None:
        now = datetime.now(UTC).replace(microsecond=0)  # the fake checks the window on its own clock
        gateway = gateway_for(http, clock=FrozenClock(now))

        await gateway.create_payment(checkout_request(expires_at=now + requested))

        assert int(last_checkout_params(fake)["expires_at"]) == int((now + sent).timestamp())

    async def test_no_expiry_leaves_stripes_default(self, gateway: StripeGateway, fake: StripeFake) -> None:
        started = await gateway.create_payment(checkout_request(expires_at=None))

        session = fake.sessions[started.provider_payment_id]
        assert "expires_at" not in last_checkout_params(fake)
        assert session["expires_at"] - session["created"] == 24 * 3600

    async def test_a_clamped_expiry_is_accepted_by_stripe(self, gateway: StripeGateway, fake: StripeFake) -> None:
        soon = datetime.now(UTC) + timedelta(minutes=5)

        started = await gateway.create_payment(checkout_request(expires_at=soon))

        session = fake.sessions[started.provider_payment_id]
        assert session["expires_at"] - session["created"] >= 30 * 60


class TestOwnership:
    async def test_an_injected_client_stays_open_after_aclose(self, http: httpx.AsyncClient) -> None:
        gateway = gateway_for(http)

        await gateway.aclose()

        assert not http.is_closed

    async def test_its_own_client_is_closed_by_aclose(self) -> None:
        gateway = StripeGateway(secret_key="sk_test_x", webhook_secret="whsec_x")

        await gateway.aclose()

        assert gateway.http.is_closed
