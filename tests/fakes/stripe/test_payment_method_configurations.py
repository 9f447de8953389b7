"""Payment method configurations (`pmc_…`) and `allowed_payment_method_types` narrowing a Checkout Session."""

from __future__ import annotations

import httpx
import pytest
import stripe

from fakes.stripe import StripeFake
from tests.fakes.stripe.flows import act, create_session


async def only(sdk: stripe.StripeClient, method: str) -> str:
    params: dict[str, object] = {
        "name": f"{method} only",
        "card": {"display_preference": {"preference": "off"}},
        method: {"display_preference": {"preference": "on"}},
    }
    configuration = await sdk.v1.payment_method_configurations.create_async(params)  # type: ignore[arg-type]
    return configuration.id


class TestConfigurations:
    async def test_created_and_retrieved_through_the_sdk(self, sdk: stripe.StripeClient) -> None:
        created = await only(sdk, "apple_pay")
        retrieved = await sdk.v1.payment_method_configurations.retrieve_async(created)
        assert retrieved.id.startswith("pmc_")
        assert retrieved.apple_pay is not None
        assert retrieved.apple_pay.display_preference.value == "on"
        assert retrieved.card is not None
        assert retrieved.card.display_preference.value == "off"

    async def test_an_unknown_configuration_is_refused_at_session_creation(self, sdk: stripe.StripeClient) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await create_session(sdk, payment_method_configuration="pmc_unknown")
        assert raised.value.code == "resource_missing"
        assert raised.value.param == "payment_method_configuration"

    async def test_seeded_configurations_survive_a_reset(self) -> None:
        fake = StripeFake(payment_method_configurations={"pmc_walletOnly": ["google_pay"]})
        fake.reset()
        assert fake.ledger.offered_methods(
            {"payment_method_types": ["card"], "payment_method_configuration_details": {"id": "pmc_walletOnly"}}
        ) == ["google_pay"]


class TestNarrowedSession:
    @pytest.mark.parametrize("wallet", ["apple_pay", "google_pay"])
    async def test_a_wallet_only_session_offers_and_charges_that_wallet(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake, wallet: str
    ) -> None:
        configuration = await only(sdk, wallet)
        session = await create_session(
            sdk, allowed_payment_method_types=["card"], payment_method_configuration=configuration
        )
        assert session.payment_method_types == ["card"]
        page = await http.get(session.url or "")
        assert [m for m in ("card", "google_pay", "apple_pay", "mobilepay") if f'value="{m}"' in page.text] == [wallet]

        refused = await act(http, session, "pay", method="card")
        assert refused.status_code == 400
        paid = await http.get(session.url or "", params={"sandbox_outcome": "pay"})  # no choice: the one offered
        assert paid.status_code == 303
        charge = next(iter(fake.charges.values()))
        assert charge["payment_method_details"]["type"] == "card"
        assert charge["payment_method_details"]["card"]["wallet"]["type"] == wallet

    async def test_a_mobilepay_only_session_charges_mobilepay(
        self, sdk: stripe.StripeClient, http: httpx.AsyncClient, fake: StripeFake
    ) -> None:
        session = await create_session(sdk, allowed_payment_method_types=["mobilepay"])
        assert session.payment_method_types == ["mobilepay"]
        assert (await act(http, session, "pay", method="apple_pay")).status_code == 400
        assert (await http.get(session.url or "", params={"sandbox_outcome": "pay"})).status_code == 303
        charge = next(iter(fake.charges.values()))
        assert charge["payment_method_details"]["type"] == "mobilepay"
