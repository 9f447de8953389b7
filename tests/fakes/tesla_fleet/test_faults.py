from __future__ import annotations

import time

import httpx
import pytest

from fakes.tesla_fleet import TeslaFleetFake, Vehicle
from tests.fakes.tesla_fleet.flows import bearer, login, refresh


class TestAsleepFault:
    async def test_puts_only_that_accounts_vehicles_to_sleep(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        fake.set_fault("family", asleep=True)

        states = [vehicle.state for vehicle in fake.accounts["family"].vehicles]
        listed = (await http.get("/eu/api/1/vehicles", headers=bearer(await login(http, "family")))).json()

        assert states == ["asleep", "offline", "asleep"]
        assert [vehicle["state"] for vehicle in listed["response"]] == states
        assert fake.accounts["solo"].vehicles[0].state == "online"

    def test_clear_faults_restores_the_earlier_states(self, fake: TeslaFleetFake) -> None:
        before = {vin: vehicle.state for vin, vehicle in _vehicles(fake).items()}
        fake.set_fault(asleep=True)
        assert {vehicle.state for vehicle in _vehicles(fake).values()} == {"asleep", "offline"}

        fake.clear_faults()

        assert {vin: vehicle.state for vin, vehicle in _vehicles(fake).items()} == before


def _vehicles(fake: TeslaFleetFake) -> dict[str, Vehicle]:
    return {vehicle.vin: vehicle for account in fake.accounts.values() for vehicle in account.vehicles}


class TestRateLimitFault:
    async def test_answers_429_with_retry_after_and_plain_text(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        headers = bearer(await login(http, "solo"))
        fake.set_fault("solo", rate_limit_retry_after=37)

        response = await http.get("/eu/api/1/vehicles", headers=headers)

        assert response.status_code == 429
        assert response.text == "Retry in 37 seconds\n"
        assert response.headers["content-type"].startswith("text/plain")
        assert response.headers["retry-after"] == "37"
        assert response.headers["ratelimit-remaining"] == "0"
        assert response.headers["ratelimit-reset"] == "37"
        assert response.headers["ratelimit-limit"]
        assert response.headers["x-txid"]

    async def test_only_the_switched_account_is_limited(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        solo, family = bearer(await login(http, "solo")), bearer(await login(http, "family"))
        fake.set_fault("solo", rate_limit_retry_after=5)

        assert (await http.get("/eu/api/1/vehicles", headers=solo)).status_code == 429
        assert (await http.get("/eu/api/1/vehicles", headers=family)).status_code == 200

    async def test_zero_turns_an_account_off_under_a_global_limit(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        solo, family = bearer(await login(http, "solo")), bearer(await login(http, "family"))
        fake.set_fault(rate_limit_retry_after=60)
        fake.set_fault("family", rate_limit_retry_after=0)

        assert (await http.get("/eu/api/1/vehicles", headers=solo)).status_code == 429
        assert (await http.get("/eu/api/1/vehicles", headers=family)).status_code == 200


class TestErrorRateFault:
    async def test_every_call_fails_at_rate_one(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "solo"))
        fake.set_fault("solo", error_rate=1.0)

        statuses = {(await http.get("/eu/api/1/vehicles", headers=headers)).status_code for _ in range(30)}

        assert statuses == {500, 503, 504}

    async def test_fraction_is_reproducible_from_the_seed(self) -> None:
        async def statuses() -> list[int]:
            fake = TeslaFleetFake(seed=11)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://fake") as http:
                headers = bearer(await login(http, "solo"))
                fake.set_fault(error_rate=0.3)
                return [(await http.get("/eu/api/1/vehicles", headers=headers)).status_code for _ in range(200)]

        first, second = await statuses(), await statuses()

        failures = sum(status >= 500 for status in first)
        assert first == second
        assert 35 <= failures <= 85

    def test_rejects_a_rate_outside_zero_to_one(self, fake: TeslaFleetFake) -> None:
        with pytest.raises(ValueError, match="error_rate"):
            fake.set_fault(error_rate=1.5)


class TestLatencyFault:
    async def test_delays_fleet_calls(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "solo"))
        fake.set_fault("solo", latency_seconds=0.05)

        started = time.perf_counter()
        response = await http.get("/eu/api/1/vehicles", headers=headers)
        elapsed = time.perf_counter() - started

        assert response.status_code == 200
        assert elapsed >= 0.05


class TestExpireTokensFault:
    async def test_existing_tokens_expire_and_a_refreshed_one_works(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        tokens = await login(http, "solo")
        other = await login(http, "family")
        fake.set_fault("solo", expire_tokens=True)

        expired = await http.get("/eu/api/1/vehicles", headers=bearer(tokens))
        renewed = (await refresh(http, tokens["refresh_token"])).json()
        after_refresh = await http.get("/eu/api/1/vehicles", headers=bearer(renewed))
        untouched = await http.get("/eu/api/1/vehicles", headers=bearer(other))

        assert expired.status_code == 401
        assert expired.json()["error"] == "token expired (401)"
        assert after_refresh.status_code == 200
        assert untouched.status_code == 200

    async def test_global_switch_expires_every_account(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        tokens = [await login(http, name) for name in ("solo", "us")]
        fake.set_fault(expire_tokens=True)

        statuses = [
            (await http.get(f"/{region}/api/1/vehicles", headers=bearer(token))).status_code
            for region, token in zip(("eu", "na"), tokens, strict=True)
        ]

        assert statuses == [401, 401]


class TestSetFault:
    def test_unknown_account_is_refused(self, fake: TeslaFleetFake) -> None:
        with pytest.raises(KeyError):
            fake.set_fault("nobody", asleep=True)

    def test_none_leaves_a_switch_as_it_is(self, fake: TeslaFleetFake) -> None:
        fake.set_fault("solo", rate_limit_retry_after=9, latency_seconds=0.5)
        fake.set_fault("solo", latency_seconds=None, error_rate=0.1)

        assert fake.faults.as_json()["accounts"]["solo"] == {
            "rate_limit_retry_after": 9,
            "latency_seconds": 0.5,
            "error_rate": 0.1,
        }
