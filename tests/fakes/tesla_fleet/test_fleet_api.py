from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from fakes.tesla_fleet import TeslaFleetFake
from tests.fakes.tesla_fleet.flows import Clock, bearer, login

VIN_NOT_FOUND = re.compile(r"^[A-Z0-9]+ not_found$")


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake")


class TestConnectFlow:
    @pytest.mark.parametrize(("account", "region", "other"), [("solo", "eu", "na"), ("us", "na", "eu")])
    async def test_authorize_token_region_vehicles_vehicle_data(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake, account: str, region: str, other: str
    ) -> None:
        tokens = await login(http, account)
        headers = bearer(tokens)

        found = (await http.get(f"/{other}/api/1/users/region", headers=headers)).json()["response"]
        base = found["fleet_api_base_url"].removeprefix("http://fake")
        listed = (await http.get(f"{base}/api/1/vehicles", headers=headers)).json()
        vin = listed["response"][0]["vin"]
        data = (await http.get(f"{base}/api/1/vehicles/{vin}/vehicle_data", headers=headers)).json()["response"]

        assert found == {"region": region, "fleet_api_base_url": f"http://fake/{region}"}
        assert [vehicle["vin"] for vehicle in listed["response"]] == [v.vin for v in fake.accounts[account].vehicles]
        assert listed["count"] == len(fake.accounts[account].vehicles)
        assert data["vin"] == vin
        assert data["vehicle_state"]["odometer"] == fake.accounts[account].vehicles[0].odometer_miles
        assert {"charge_state", "climate_state", "drive_state", "gui_settings", "vehicle_config"} <= set(data)


class TestRegions:
    async def test_wrong_region_is_421_naming_the_right_base_url(self, http: httpx.AsyncClient) -> None:
        tokens = await login(http, "us")

        response = await http.get("/eu/api/1/vehicles", headers=bearer(tokens))

        assert response.status_code == 421
        body = response.json()
        assert body["response"] is None
        assert body["error"] == (
            "user out of region, use base URL: http://fake/na, see https://developer.tesla.com/docs/fleet-api"
        )
        assert re.fullmatch(r"[0-9a-f]{32}", body["txid"])
        assert response.headers["x-txid"] == body["txid"]

    async def test_china_has_its_own_host(self, http: httpx.AsyncClient) -> None:
        tokens = await login(http, "china")

        region = (await http.get("/eu/api/1/users/region", headers=bearer(tokens))).json()["response"]
        vehicles = await http.get("/cn/api/1/vehicles", headers=bearer(tokens))

        assert region["fleet_api_base_url"] == "http://fake/cn"
        assert vehicles.status_code == 200

    async def test_status_needs_no_token(self, http: httpx.AsyncClient) -> None:
        responses = [await http.get(f"/{region}/status") for region in ("na", "eu", "cn")]

        assert [(response.status_code, response.text) for response in responses] == [(200, "ok")] * 3
        assert (await http.get("/xx/status")).status_code == 404

    async def test_urls_include_the_mount_prefix(self, fake: TeslaFleetFake) -> None:
        parent = FastAPI()
        parent.mount("/_sandbox/tesla", fake.app)
        async with client_for(parent) as http:
            authorize = await http.get(
                "/_sandbox/tesla/oauth2/v3/authorize",
                params={
                    "response_type": "code",
                    "client_id": "carpulse-sandbox",
                    "redirect_uri": "http://fake/api/v1/tesla/oauth/callback",
                    "scope": "openid offline_access vehicle_device_data",
                    "state": "s",
                },
            )
            region_of = {}
            for account in ("solo", "us"):
                tokens = await _login_mounted(http, account)
                wrong = "na" if account == "solo" else "eu"
                response = await http.get(f"/_sandbox/tesla/{wrong}/api/1/vehicles", headers=bearer(tokens))
                region_of[account] = response.json()["error"]

        assert 'action="/_sandbox/tesla/oauth2/v3/authorize"' in authorize.text
        assert "use base URL: http://fake/_sandbox/tesla/eu," in region_of["solo"]
        assert "use base URL: http://fake/_sandbox/tesla/na," in region_of["us"]
        assert fake.calls[-1].path == "/eu/api/1/vehicles"


async def _login_mounted(http: httpx.AsyncClient, account: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "carpulse-sandbox",
        "redirect_uri": "http://fake/api/v1/tesla/oauth/callback",
        "scope": "openid offline_access vehicle_device_data",
        "state": "s",
        "sandbox_account": account,
    }
    location = (await http.get("/_sandbox/tesla/oauth2/v3/authorize", params=params)).headers["location"]
    code = httpx.URL(location).params["code"]
    assert httpx.URL(location).params["issuer"] == "http://fake/_sandbox/tesla/oauth2/v3"
    form = {
        "grant_type": "authorization_code",
        "client_id": "carpulse-sandbox",
        "client_secret": "sandbox-secret",
        "code": code,
        "redirect_uri": params["redirect_uri"],
        "audience": "http://fake/_sandbox/tesla/eu",
    }
    tokens: dict[str, str] = (await http.post("/_sandbox/tesla/oauth2/v3/token", data=form)).json()
    return tokens


class TestBearerTokens:
    async def test_missing_or_forged_token_is_invalid(self, http: httpx.AsyncClient) -> None:
        tokens = await login(http, "solo")
        forged = tokens["access_token"][:-4] + "AAAA"

        missing = await http.get("/eu/api/1/vehicles")
        bad = await http.get("/eu/api/1/vehicles", headers=bearer(forged))

        assert (missing.status_code, missing.json()["error"]) == (401, "invalid bearer token")
        assert (bad.status_code, bad.json()["error"]) == (401, "invalid bearer token")

    async def test_token_expires_with_its_lifetime(self) -> None:
        clock = Clock()
        fake = TeslaFleetFake(clock=clock, access_token_lifetime_seconds=600)
        async with client_for(fake.app) as http:
            tokens = await login(http, "solo")
            before = await http.get("/eu/api/1/vehicles", headers=bearer(tokens))
            clock.advance(seconds=600)
            after = await http.get("/eu/api/1/vehicles", headers=bearer(tokens))

        assert before.status_code == 200
        assert (after.status_code, after.json()["error"]) == (401, "token expired (401)")

    async def test_reset_forgets_every_token(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        tokens = await login(http, "solo")
        fake.reset()

        response = await http.get("/eu/api/1/vehicles", headers=bearer(tokens))

        assert (response.status_code, response.json()["error"]) == (401, "invalid bearer token")


class TestScopes:
    async def test_missing_scope_is_403(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        tokens = await login(http, "solo", scope="openid offline_access vehicle_device_data")

        history = await http.get("/eu/api/1/dx/charging/history", headers=bearer(tokens))
        me = await http.get("/eu/api/1/users/me", headers=bearer(tokens))

        assert history.status_code == 403
        assert history.json() == {
            "response": None,
            "error": "Unauthorized missing scopes",
            "error_description": "",
            "txid": history.headers["x-txid"],
        }
        assert (me.status_code, me.json()["error"]) == (403, "Unauthorized missing scopes")

    async def test_location_needs_location_data_and_the_scope(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        path = f"/eu/api/1/vehicles/{vin}/vehicle_data"
        with_scope = bearer(await login(http, "solo"))
        without_scope = bearer(await login(http, "solo", scope="openid vehicle_device_data"))

        default = (await http.get(path, headers=with_scope)).json()["response"]["drive_state"]
        located = (await http.get(path, headers=with_scope, params={"endpoints": "location_data"})).json()["response"]
        refused = await http.get(path, headers=without_scope, params={"endpoints": "drive_state;location_data"})

        assert "latitude" not in default
        assert abs(located["drive_state"]["latitude"] - 52.52) < 0.1
        assert {"longitude", "heading", "gps_as_of", "native_type"} <= set(located["drive_state"])
        assert "location_data" not in located
        assert refused.status_code == 200
        assert "latitude" not in refused.json()["response"]["drive_state"]

    async def test_hide_private_never_shows_location(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vehicle = fake.accounts["driver"].vehicles[0]
        tokens = await login(http, "driver")

        response = await http.get(
            f"/na/api/1/vehicles/{vehicle.vin}/vehicle_data",
            headers=bearer(tokens),
            params={"endpoints": "location_data"},
        )

        assert vehicle.access_type == "DRIVER"
        assert "latitude" not in response.json()["response"]["drive_state"]


class TestVehicleList:
    async def test_paginates_twelve_vehicles(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "fleet"))

        pages = [
            (await http.get("/eu/api/1/vehicles", headers=headers, params={"page": page, "per_page": 5})).json()
            for page in (1, 2, 3)
        ]

        vins = [vehicle["vin"] for page in pages for vehicle in page["response"]]
        assert vins == [vehicle.vin for vehicle in fake.accounts["fleet"].vehicles]
        assert [len(page["response"]) for page in pages] == [5, 5, 2]
        assert pages[0]["pagination"] == {
            "previous": None,
            "next": "2",
            "current": 1,
            "per_page": 5,
            "count": 12,
            "pages": 3,
        }
        assert pages[2]["pagination"]["next"] is None
        assert {page["count"] for page in pages} == {12}

    async def test_default_page_size_is_100(self, http: httpx.AsyncClient) -> None:
        body = (await http.get("/eu/api/1/vehicles", headers=bearer(await login(http, "fleet")))).json()

        assert body["pagination"]["per_page"] == 100
        assert len(body["response"]) == 12

    async def test_vehicle_by_vin_or_id(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vehicle = fake.accounts["family"].vehicles[1]
        headers = bearer(await login(http, "family"))

        by_vin = (await http.get(f"/eu/api/1/vehicles/{vehicle.vin}", headers=headers)).json()["response"]
        by_id = (await http.get(f"/eu/api/1/vehicles/{vehicle.id}", headers=headers)).json()["response"]

        assert by_vin == by_id
        assert by_vin["id_s"] == str(vehicle.id)
        assert by_vin["display_name"] == vehicle.display_name


class TestUnknownVehicle:
    async def test_another_accounts_vin_is_not_found(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        foreign = fake.accounts["family"].vehicles[0].vin
        headers = bearer(await login(http, "solo"))

        responses = [
            await http.get(f"/eu/api/1/vehicles/{foreign}{suffix}", headers=headers)
            for suffix in ("", "/vehicle_data", "/service_data", "/recent_alerts", "/release_notes")
        ]
        warranty = await http.get("/eu/api/1/dx/warranty/details", headers=headers, params={"vin": foreign})

        for response in [*responses, warranty]:
            assert response.status_code == 404
            assert response.json()["error"] == f"{foreign} not_found"

    async def test_made_up_vin_is_not_found(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/eu/api/1/vehicles/5YJ3E1EA0KF000000", headers=bearer(await login(http, "solo")))

        assert response.status_code == 404
        assert VIN_NOT_FOUND.match(response.json()["error"])

    async def test_unknown_endpoint_and_method(self, http: httpx.AsyncClient) -> None:
        headers = bearer(await login(http, "solo"))

        unknown = await http.get("/eu/api/1/teleport", headers=headers)
        wrong_method = await http.delete("/eu/api/1/vehicles", headers=headers)

        assert (unknown.status_code, wrong_method.status_code) == (404, 405)
