from __future__ import annotations

from decimal import Decimal

import httpx

from fakes.tesla_fleet import ENDPOINTS, Call, TeslaFleetFake
from tests.fakes.tesla_fleet.flows import bearer, login, refresh


class TestBillingCategories:
    async def test_each_category_is_counted(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        headers = bearer(await login(http, "solo"))

        await http.get(f"/eu/api/1/vehicles/{vin}/vehicle_data", headers=headers)
        await http.get(f"/eu/api/1/vehicles/{vin}/service_data", headers=headers)
        await http.post(f"/eu/api/1/vehicles/{vin}/wake_up", headers=headers)
        await http.post(f"/eu/api/1/vehicles/{vin}/command/flash_lights", headers=headers)

        assert fake.billing.snapshot() == {"solo": {"data": 2, "wakes": 1, "commands": 1}}
        assert fake.billing.count("solo") == 4
        assert fake.billing.count(category="wakes") == 1
        assert fake.billing.cost_usd("solo") == Decimal("0.025")

    def test_the_table_names_a_category_for_every_user_endpoint(self) -> None:
        table = {(endpoint.method, endpoint.path): endpoint.category for endpoint in ENDPOINTS}

        assert table[("GET", "vehicles/{tag}/vehicle_data")] == "data"
        assert table[("POST", "vehicles/{tag}/wake_up")] == "wakes"
        assert table[("POST", "vehicles/{tag}/command/{command}")] == "commands"
        assert all(endpoint.category for endpoint in ENDPOINTS if endpoint.caller == "user")


class TestBillableStatuses:
    async def test_client_errors_are_billed(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        headers = bearer(await login(http, "solo"))
        fake.set_fault("solo", asleep=True)

        statuses = [
            (await http.get(f"/eu/api/1/vehicles/{vin}/vehicle_data", headers=headers)).status_code,
            (await http.get("/eu/api/1/vehicles/5YJ3E1EA0KF000000", headers=headers)).status_code,
            (await http.get("/na/api/1/vehicles", headers=headers)).status_code,
        ]
        fake.set_fault("solo", rate_limit_retry_after=10)
        statuses.append((await http.get("/eu/api/1/vehicles", headers=headers)).status_code)
        fake.set_fault("solo", rate_limit_retry_after=0, expire_tokens=True)
        statuses.append((await http.get("/eu/api/1/vehicles", headers=headers)).status_code)

        assert statuses == [408, 404, 421, 429, 401]
        assert fake.billing.count("solo", "data") == 5

    async def test_server_errors_are_not_billed(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "solo"))
        fake.set_fault("solo", error_rate=1.0)

        responses = [await http.get("/eu/api/1/vehicles", headers=headers) for _ in range(5)]

        assert all(response.status_code >= 500 for response in responses)
        assert fake.billing.count() == 0

    async def test_oauth_and_unattributable_calls_are_not_billed(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        tokens = await login(http, "solo")
        await refresh(http, tokens["refresh_token"])
        await http.get("/eu/api/1/vehicles", headers=bearer("forged"))
        await http.get("/eu/status")

        assert fake.billing.count() == 0
        assert fake.billing.snapshot() == {}


class TestCallLog:
    async def test_records_every_call_in_order(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        headers = bearer(await login(http, "solo"))

        await http.get("/na/api/1/users/region", headers=headers)
        await http.get(f"/eu/api/1/vehicles/{vin}/vehicle_data", params={"endpoints": "charge_state"}, headers=headers)
        await http.get("/eu/api/1/vehicles", headers=bearer("forged"))

        assert fake.calls == [
            Call("solo", "GET", "/oauth2/v3/authorize", 302),
            Call("solo", "POST", "/oauth2/v3/token", 200),
            Call("solo", "GET", "/na/api/1/users/region", 200),
            Call("solo", "GET", f"/eu/api/1/vehicles/{vin}/vehicle_data", 200),
            Call(None, "GET", "/eu/api/1/vehicles", 401),
        ]

    async def test_reset_clears_the_log_and_the_counters(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        await http.get("/eu/api/1/vehicles", headers=bearer(await login(http, "solo")))

        fake.reset()

        assert (fake.calls, fake.billing.count()) == ([], 0)
