from __future__ import annotations

import pytest

from carpulse.kit.clock import system_clock
from carpulse.provider.tesla.adapter import TeslaProvider
from tests.provider.tesla.conftest import TeslaRig

BUDGET = 8  # billable Fleet calls for one vehicle, including at most one wake


async def provider_for(tesla: TeslaRig, account: str, **options: float) -> TeslaProvider:
    fleet, tokens = await tesla.connect(account)
    from carpulse.provider.tesla.client import unverified_claims

    scopes = unverified_claims(tokens.access).get("scp", [])
    return TeslaProvider(fleet, clock=system_clock, scopes=scopes, sleep=tesla._sleep, wake_poll_seconds=1, **options)


class TestOnlineVehicle:
    async def test_snapshot_is_complete_fresh_and_cheap(self, tesla: TeslaRig) -> None:
        provider = await provider_for(tesla, "solo")
        vehicle = tesla.fake.accounts["solo"].vehicles[0]
        tesla.fake.billing.clear()
        snapshot = await provider.acquire(vehicle.vin, wake=True)

        assert snapshot.gaps == {}
        assert snapshot.online_state == "online"
        assert snapshot.identity.vin == vehicle.vin
        assert snapshot.identity.model is not None
        for reading in (snapshot.odometer, snapshot.battery_level, snapshot.range, snapshot.software_version):
            assert reading is not None
            assert reading.source == "tesla_fleet"
            assert reading.captured_at is not None
        assert snapshot.odometer is not None
        assert snapshot.odometer.unit == "km"
        assert snapshot.odometer.value > 0
        assert snapshot.warranties is not None
        assert snapshot.warranties.value
        assert snapshot.alerts is not None
        assert snapshot.service is not None
        assert snapshot.charging_history is not None
        assert snapshot.location is None  # not asked for
        assert snapshot.billable_calls <= BUDGET
        assert snapshot.billable_calls == tesla.fake.billing.count("solo")
        assert tesla.fake.billing.count("solo", "wakes") == 0

    async def test_location_only_when_asked(self, tesla: TeslaRig) -> None:
        provider = await provider_for(tesla, "solo")
        vin = tesla.fake.accounts["solo"].vehicles[0].vin
        snapshot = await provider.acquire(vin, include_location=True)
        assert snapshot.location is not None
        assert -90 <= snapshot.location.value.latitude <= 90


class TestAsleepVehicle:
    async def test_one_wake_then_data_within_budget(self, tesla: TeslaRig) -> None:
        provider = await provider_for(tesla, "solo")
        vin = tesla.fake.accounts["solo"].vehicles[0].vin
        tesla.fake.set_fault("solo", asleep=True)
        tesla.fake.billing.clear()
        snapshot = await provider.acquire(vin, wake=True)
        assert snapshot.online_state == "online"
        assert snapshot.gaps == {}
        assert tesla.fake.billing.count("solo", "wakes") == 1
        assert snapshot.billable_calls <= BUDGET
        assert snapshot.billable_calls == tesla.fake.billing.count("solo")

    async def test_without_waking_the_cloud_data_still_comes(self, tesla: TeslaRig) -> None:
        provider = await provider_for(tesla, "solo")
        vin = tesla.fake.accounts["solo"].vehicles[0].vin
        tesla.fake.set_fault("solo", asleep=True)
        snapshot = await provider.acquire(vin, wake=False)
        assert "vehicle_data" in snapshot.gaps
        assert snapshot.odometer is None
        assert snapshot.warranties is not None
        assert tesla.fake.billing.count("solo", "wakes") == 0

    async def test_a_car_that_never_wakes_is_reported_not_raised(self, tesla: TeslaRig) -> None:
        tesla.fake.wake_delay_seconds = 3600
        provider = await provider_for(tesla, "solo", wake_budget_seconds=3)
        vin = tesla.fake.accounts["solo"].vehicles[0].vin
        tesla.fake.set_fault("solo", asleep=True)
        snapshot = await provider.acquire(vin, wake=True)
        assert "vehicle_data" in snapshot.gaps
        assert "did not wake" in snapshot.gaps["vehicle_data"]
        assert tesla.fake.billing.count("solo", "wakes") == 1


class TestFlakyTesla:
    @pytest.mark.parametrize("account", ["solo", "family"])
    async def test_partial_failures_become_gaps(self, tesla: TeslaRig, account: str) -> None:
        provider = await provider_for(tesla, account)
        vin = tesla.fake.accounts[account].vehicles[0].vin
        tesla.fake.set_fault(account, error_rate=1.0)
        snapshot = await provider.acquire(vin)
        assert set(snapshot.gaps) == {"vehicle_data", "service_data", "recent_alerts", "warranty", "charging_history"}
        assert snapshot.billable_calls == 0
