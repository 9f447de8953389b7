from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carpulse.provider.tesla.errors import (
    TeslaRateLimited,
    TeslaReauthorizationRequired,
    TeslaTimeout,
    TeslaUnavailable,
    TeslaVehicleNotFound,
)
from tests.provider.tesla.conftest import TeslaRig


class TestRegions:
    async def test_a_user_in_another_region_is_found_through_421(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("us", region="eu")
        vehicles = await fleet.vehicles()
        assert len(vehicles) == 2
        assert fleet.region == "na"
        assert fleet.billable_calls["data"] == 2  # the 421 is billed too
        assert [call.status for call in tesla.fake.calls if call.path.endswith("/vehicles")] == [421, 200]

    async def test_region_endpoint(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("us")
        region = await fleet.user_region()
        assert region.region == "na"


class TestTokens:
    async def test_expired_access_token_is_refreshed_once(self, tesla: TeslaRig) -> None:
        fleet, tokens = await tesla.connect("solo")
        tesla.fake.set_fault("solo", expire_tokens=True)
        assert len(await fleet.vehicles()) == 1
        assert tokens.refreshes == 1

    async def test_superseded_refresh_token_is_rejected(self, tesla: TeslaRig) -> None:
        _fleet, tokens = await tesla.connect("solo")
        first_refresh = tokens.refresh
        await tokens.refreshed_access_token(tokens.access)
        await tokens.refreshed_access_token(tokens.access)  # the successor is used too
        with pytest.raises(TeslaReauthorizationRequired):
            await tesla.api.auth.refresh(first_refresh or "")

    async def test_garbage_access_token_ends_in_reauthorization(self, tesla: TeslaRig) -> None:
        fleet, tokens = await tesla.connect("solo")
        tokens.access = "not-a-token"
        tokens.refresh = None
        with pytest.raises(TeslaReauthorizationRequired):
            await fleet.vehicles()


class TestRateLimits:
    async def test_short_retry_after_is_slept_then_retried(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("solo")
        tesla.fake.set_fault("solo", rate_limit_retry_after=2)
        with pytest.raises(TeslaRateLimited) as raised:
            await fleet.vehicles()
        assert tesla.sleeps == [2.0, 2.0, 2.0]
        assert raised.value.headers["Retry-After"] == "2"

    async def test_long_retry_after_is_not_slept(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("solo")
        tesla.fake.set_fault("solo", rate_limit_retry_after=40000)
        with pytest.raises(TeslaRateLimited) as raised:
            await fleet.vehicles()
        assert tesla.sleeps == []
        assert raised.value.headers["Retry-After"] == "40000"


class TestServerErrors:
    async def test_retries_with_backoff_then_gives_up(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("solo")
        tesla.fake.set_fault("solo", error_rate=1.0)
        with pytest.raises((TeslaUnavailable, TeslaTimeout)):
            await fleet.vehicles()
        assert len(tesla.sleeps) == 3
        assert all(0 <= s <= 4 for s in tesla.sleeps)
        assert fleet.billable_calls["data"] == 0

    async def test_circuit_opens_and_stops_calling(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("solo")
        tesla.fake.set_fault("solo", error_rate=1.0)
        for _ in range(5):
            with pytest.raises((TeslaUnavailable, TeslaTimeout)):
                await fleet.vehicles()
        calls_before = len(tesla.fake.calls)
        with pytest.raises(TeslaUnavailable) as raised:
            await fleet.vehicles()
        assert len(tesla.fake.calls) == calls_before
        assert int(raised.value.headers["Retry-After"]) >= 1


class TestReads:
    async def test_unknown_vin_is_not_found(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("solo")
        with pytest.raises(TeslaVehicleNotFound):
            await fleet.vehicle("5YJ3E1EA7KF000000")

    @pytest.mark.parametrize("wrapped", [False, True])
    async def test_dx_endpoints_read_both_envelopes(self, tesla: TeslaRig, wrapped: bool) -> None:
        fleet, _ = await tesla.connect("charger")
        tesla.fake.set_fault("charger", wrap_dx=wrapped)
        vin = tesla.fake.accounts["charger"].vehicles[0].vin
        warranty = await fleet.warranty(vin)
        assert "activeWarranty" in warranty or "expiredWarranty" in warranty
        now = datetime.now(UTC)
        history = await fleet.charging_history(vin, now - timedelta(days=30), now)
        assert all("sessionId" in item for item in history)

    async def test_full_charging_history_pages_to_the_end(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("charger")
        vin = tesla.fake.accounts["charger"].vehicles[0].vin
        now = datetime.now(UTC)
        history = await fleet.charging_history(vin, now - timedelta(days=24 * 31), now)
        assert len(history) >= 500
        assert len({item["sessionId"] for item in history}) == len(history)

    async def test_invoice_is_pdf(self, tesla: TeslaRig) -> None:
        fleet, _ = await tesla.connect("charger")
        vin = tesla.fake.accounts["charger"].vehicles[0].vin
        now = datetime.now(UTC)
        history = await fleet.charging_history(vin, now - timedelta(days=60), now)
        content_id = next(inv["contentId"] for item in history for inv in item.get("invoices") or [])
        pdf = await fleet.invoice(content_id)
        assert pdf.startswith(b"%PDF-")
