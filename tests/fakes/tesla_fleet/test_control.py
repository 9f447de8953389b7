from __future__ import annotations

import httpx

from fakes.tesla_fleet import TeslaFleetFake
from tests.fakes.tesla_fleet.flows import bearer, login


class TestFaultControl:
    async def test_set_and_clear_over_http(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "solo"))

        switched = await http.post("/_control/faults", json={"account": "solo", "rate_limit_retry_after": 30})
        limited = await http.get("/eu/api/1/vehicles", headers=headers)
        cleared = await http.delete("/_control/faults")
        normal = await http.get("/eu/api/1/vehicles", headers=headers)

        assert switched.json() == {"global": {}, "accounts": {"solo": {"rate_limit_retry_after": 30}}}
        assert limited.status_code == 429
        assert cleared.json() == {"global": {}, "accounts": {}}
        assert normal.status_code == 200

    async def test_asleep_and_expiry_over_http(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "us"))

        await http.post("/_control/faults", json={"account": "us", "asleep": True, "expire_tokens": True})

        assert {vehicle.state for vehicle in fake.accounts["us"].vehicles} == {"asleep", "offline"}
        assert (await http.get("/na/api/1/vehicles", headers=headers)).json()["error"] == "token expired (401)"

    async def test_bad_requests_are_refused(self, http: httpx.AsyncClient) -> None:
        unknown = await http.post("/_control/faults", json={"account": "nobody", "asleep": True})
        out_of_range = await http.post("/_control/faults", json={"error_rate": 2})
        misspelt = await http.post("/_control/faults", json={"eror_rate": 0.5})

        assert unknown.status_code == 404
        assert out_of_range.status_code == 422
        assert misspelt.status_code == 422


class TestBillingControl:
    async def test_reports_counts_per_account_and_category(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        headers = bearer(await login(http, "solo"))
        await http.get(f"/eu/api/1/vehicles/{vin}/vehicle_data", headers=headers)
        await http.post(f"/eu/api/1/vehicles/{vin}/wake_up", headers=headers)

        body = (await http.get("/_control/billing")).json()

        assert body == {
            "accounts": {"solo": {"data": 1, "wakes": 1, "commands": 0}},
            "totals": {"data": 1, "wakes": 1, "commands": 0},
            "total": 2,
            "cost_usd": "0.022",
        }

    async def test_control_calls_are_neither_logged_nor_billed(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        await http.get("/_control/billing")
        await http.get("/_control/accounts")

        assert fake.calls == []
        assert fake.billing.count() == 0


class TestResetControl:
    async def test_reset_over_http(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        await http.get("/eu/api/1/vehicles", headers=bearer(await login(http, "solo")))
        fake.set_fault("solo", asleep=True, error_rate=0.5)

        response = await http.post("/_control/reset")

        assert response.status_code == 200
        assert fake.calls == []
        assert fake.billing.count() == 0
        assert fake.faults.as_json() == {"global": {}, "accounts": {}}
        assert fake.accounts["solo"].vehicles[0].state == "online"


class TestAccountsControl:
    async def test_lists_accounts_and_vins(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        body = (await http.get("/_control/accounts")).json()

        assert [account["name"] for account in body] == list(fake.accounts)
        assert body[0]["vehicles"][0]["vin"] == fake.accounts["solo"].vehicles[0].vin
