from __future__ import annotations

from datetime import date

import httpx
import pytest

from fakes.tesla_fleet import TeslaFleetFake, Vehicle
from tests.fakes.tesla_fleet.flows import Clock, bearer, login


def client_for(fake: TeslaFleetFake) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://fake")


class TestVehicleData:
    async def test_default_bundle(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin

        body = (
            await http.get(f"/eu/api/1/vehicles/{vin}/vehicle_data", headers=bearer(await login(http, "solo")))
        ).json()

        sections = {key for key, value in body["response"].items() if isinstance(value, dict) and "timestamp" in value}
        assert sections == {
            "charge_state",
            "climate_state",
            "drive_state",
            "gui_settings",
            "vehicle_config",
            "vehicle_state",
        }
        assert body["response"]["user_id"] == fake.accounts["solo"].user_id

    async def test_endpoints_select_sections_without_changing_values(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        headers = bearer(await login(http, "solo"))
        path = f"/eu/api/1/vehicles/{vin}/vehicle_data"

        full = (await http.get(path, headers=headers)).json()["response"]
        some = (await http.get(path, headers=headers, params={"endpoints": "charge_state;vehicle_state"})).json()

        assert {"charge_state", "vehicle_state"} <= set(some["response"])
        assert not {"climate_state", "drive_state", "gui_settings", "vehicle_config"} & set(some["response"])
        assert some["response"]["charge_state"]["battery_level"] == full["charge_state"]["battery_level"]
        assert some["response"]["vehicle_state"]["car_version"] == full["vehicle_state"]["car_version"]

    @pytest.mark.parametrize("account", ["solo", "family", "fleet", "us", "charger", "china", "service", "garage"])
    async def test_battery_figures_follow_the_degradation(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake, account: str
    ) -> None:
        region = fake.accounts[account].region
        headers = bearer(await login(http, account))
        for vehicle in fake.accounts[account].vehicles:
            vehicle.state = "online"
            response = await http.get(f"/{region}/api/1/vehicles/{vehicle.vin}/vehicle_data", headers=headers)
            charge = response.json()["response"]["charge_state"]

            expected = vehicle.range_at_full_miles * charge["battery_level"] / 100
            assert abs(charge["battery_range"] - expected) < 0.01
            assert vehicle.range_at_full_miles < vehicle.trim.rated_range_miles
            assert charge["usable_battery_level"] <= charge["battery_level"]
            assert charge["est_battery_range"] < charge["battery_range"]

    async def test_units_follow_the_market(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        us_vehicle = fake.accounts["us"].vehicles[0]
        response = await http.get(
            f"/na/api/1/vehicles/{us_vehicle.vin}/vehicle_data", headers=bearer(await login(http, "us"))
        )

        body = response.json()["response"]
        assert body["gui_settings"]["gui_distance_units"] == "mi/hr"
        assert body["gui_settings"]["gui_temperature_units"] == "F"
        assert body["vehicle_config"]["car_type"] == us_vehicle.car_type
        assert body["vehicle_config"]["eu_vehicle"] is False


class TestWake:
    async def test_asleep_vehicle_is_408_until_woken(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        headers = bearer(await login(http, "solo"))
        fake.set_fault("solo", asleep=True)

        asleep = await http.get(f"/eu/api/1/vehicles/{vin}/vehicle_data", headers=headers)
        listed = (await http.get(f"/eu/api/1/vehicles/{vin}", headers=headers)).json()["response"]
        woken = await http.post(f"/eu/api/1/vehicles/{vin}/wake_up", headers=headers)
        awake = await http.get(f"/eu/api/1/vehicles/{vin}/vehicle_data", headers=headers)

        assert asleep.status_code == 408
        assert asleep.json()["error"] == "vehicle unavailable: vehicle is offline or asleep"
        assert listed["state"] == "asleep"
        assert woken.json()["response"]["state"] == "online"
        assert awake.status_code == 200

    async def test_wake_takes_the_configured_delay(self) -> None:
        clock = Clock()
        fake = TeslaFleetFake(clock=clock, wake_delay_seconds=15)
        vin = fake.accounts["solo"].vehicles[0].vin
        fake.set_fault("solo", asleep=True)
        async with client_for(fake) as http:
            headers = bearer(await login(http, "solo"))
            woken = await http.post(f"/eu/api/1/vehicles/{vin}/wake_up", headers=headers)
            clock.advance(seconds=10)
            still = (await http.get(f"/eu/api/1/vehicles/{vin}", headers=headers)).json()["response"]["state"]
            clock.advance(seconds=5)
            online = (await http.get(f"/eu/api/1/vehicles/{vin}", headers=headers)).json()["response"]["state"]

        assert woken.json()["response"]["state"] == "asleep"
        assert (still, online) == ("asleep", "online")

    async def test_vehicle_without_connectivity_never_wakes(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        vehicle = fake.accounts["sleepy"].vehicles[1]
        headers = bearer(await login(http, "sleepy"))

        woken = await http.post(f"/eu/api/1/vehicles/{vehicle.vin}/wake_up", headers=headers)
        data = await http.get(f"/eu/api/1/vehicles/{vehicle.vin}/vehicle_data", headers=headers)

        assert vehicle.no_connectivity
        assert woken.status_code == 200
        assert woken.json()["response"]["state"] == "offline"
        assert data.status_code == 408


class TestServiceData:
    async def test_in_and_out_of_service(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        in_service, out_of_service = fake.accounts["service"].vehicles
        headers = bearer(await login(http, "service"))

        inside = (await http.get(f"/eu/api/1/vehicles/{in_service.vin}/service_data", headers=headers)).json()
        outside = (await http.get(f"/eu/api/1/vehicles/{out_of_service.vin}/service_data", headers=headers)).json()
        listed = (await http.get(f"/eu/api/1/vehicles/{in_service.vin}", headers=headers)).json()

        assert inside["response"]["service_status"] == "in_service"
        assert inside["response"]["service_visit_number"].startswith("SV")
        assert inside["response"]["service_etc"]
        assert outside["response"]["service_status"] == "not_in_service"
        assert listed["response"]["in_service"] is True


class TestAlertsAndReleaseNotes:
    async def test_alerts_are_newest_first_with_audiences(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "fleet"))
        alerts = []
        for vehicle in fake.accounts["fleet"].vehicles:
            response = await http.get(f"/eu/api/1/vehicles/{vehicle.vin}/recent_alerts", headers=headers)
            alerts.append(response.json()["response"]["recent_alerts"])

        assert any(alerts)
        for vehicle_alerts in alerts:
            times = [alert["time"] for alert in vehicle_alerts]
            assert times == sorted(times, reverse=True)
            for alert in vehicle_alerts:
                assert set(alert) == {"name", "time", "audience", "user_text"}
                assert set(alert["audience"]) <= {"customer", "service", "service-fix"}

    async def test_release_notes_of_the_installed_version(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vehicle = fake.accounts["solo"].vehicles[0]
        headers = bearer(await login(http, "solo"))

        notes = (await http.get(f"/eu/api/1/vehicles/{vehicle.vin}/release_notes", headers=headers)).json()

        versions = {note["customer_version"] for note in notes["response"]["release_notes"]}
        assert versions == {vehicle.firmware.split(" ")[0]}


def expected_odometer_unit(vehicle: Vehicle) -> str:
    return "MI" if vehicle.market.imperial else "KM"


class TestWarranty:
    async def test_bare_object_consistent_with_delivery(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "fleet"))
        for vehicle in fake.accounts["fleet"].vehicles:
            response = await http.get("/eu/api/1/dx/warranty/details", headers=headers, params={"vin": vehicle.vin})
            body = response.json()

            assert set(body) == {"activeWarranty", "upcomingWarranty", "expiredWarranty"}
            entries = body["activeWarranty"] + body["expiredWarranty"]
            assert {entry["warrantyType"] for entry in entries} == {
                "NEW_MFG_WARRANTY",
                "BATTERY_WARRANTY",
                "DRIVEUNIT_WARRANTY",
            }
            for entry in entries:
                expires = date.fromisoformat(entry["expirationDate"][:10])
                assert expires.year - vehicle.delivered_on.year == entry["coverageAgeInYears"]
                assert entry["odometerUnit"] == expected_odometer_unit(vehicle)
            for entry in body["expiredWarranty"]:
                assert entry["warrantyExpiredOn"]

    async def test_wrapped_when_switched(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        fake.set_fault("solo", wrap_dx=True)

        body = (
            await http.get(
                "/eu/api/1/dx/warranty/details", headers=bearer(await login(http, "solo")), params={"vin": vin}
            )
        ).json()

        assert set(body) == {"response"}
        assert "activeWarranty" in body["response"]


class TestFleetStatus:
    async def test_reports_only_the_callers_vins(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        own = fake.accounts["family"].vehicles[0].vin
        foreign = fake.accounts["solo"].vehicles[0].vin

        response = await http.post(
            "/eu/api/1/vehicles/fleet_status",
            headers=bearer(await login(http, "family")),
            json={"vins": [own, foreign]},
        )

        body = response.json()["response"]
        assert body["unpaired_vins"] == [own]
        assert set(body["vehicle_info"]) == {own}
        assert body["vehicle_info"][own]["firmware_version"]

    async def test_needs_a_json_body(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/eu/api/1/vehicles/fleet_status", headers=bearer(await login(http, "family")), content=b"vins=1"
        )

        assert (response.status_code, response.json()["error"]) == (406, "not_a_JSON_request")


class TestCommands:
    async def test_command_needs_the_scope_and_an_online_car(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        vin = fake.accounts["solo"].vehicles[0].vin
        reader = bearer(await login(http, "solo", scope="openid vehicle_device_data"))
        commander = bearer(await login(http, "solo"))

        refused = await http.post(f"/eu/api/1/vehicles/{vin}/command/honk_horn", headers=reader)
        done = await http.post(f"/eu/api/1/vehicles/{vin}/command/honk_horn", headers=commander)
        unknown = await http.post(f"/eu/api/1/vehicles/{vin}/command/self_destruct", headers=commander)

        assert refused.status_code == 403
        assert done.json() == {"response": {"result": True, "reason": ""}}
        assert unknown.status_code == 400


class TestPartnerAccounts:
    async def test_register_and_read_the_public_key_per_region(self, http: httpx.AsyncClient) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": "carpulse-sandbox",
            "client_secret": "sandbox-secret",
            "audience": "http://fake/eu",
        }
        partner = bearer((await http.post("/oauth2/v3/token", data=form)).json())

        registered = await http.post("/eu/api/1/partner_accounts", headers=partner, json={"domain": "carpulse.example"})
        key_eu = await http.get(
            "/eu/api/1/partner_accounts/public_key", headers=partner, params={"domain": "carpulse.example"}
        )
        key_na = await http.get(
            "/na/api/1/partner_accounts/public_key", headers=partner, params={"domain": "carpulse.example"}
        )
        uppercase = await http.post("/eu/api/1/partner_accounts", headers=partner, json={"domain": "CarPulse.example"})
        user_call = await http.get("/eu/api/1/vehicles", headers=partner)

        public_key = registered.json()["response"]["public_key"]
        assert registered.status_code == 200
        assert public_key.startswith("04")
        assert len(public_key) == 130
        assert key_eu.json() == {"response": {"public_key": public_key}}
        assert key_na.status_code == 404
        assert uppercase.status_code == 400
        assert user_call.status_code == 403

    async def test_user_token_cannot_register(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/eu/api/1/partner_accounts", headers=bearer(await login(http, "solo")), json={"domain": "carpulse.example"}
        )

        assert response.status_code == 403

    async def test_unregistered_region_is_412_when_required(self) -> None:
        fake = TeslaFleetFake(require_partner_registration=True)
        async with client_for(fake) as http:
            response = await http.get("/eu/api/1/vehicles", headers=bearer(await login(http, "solo")))

        assert response.status_code == 412
        assert "must be registered in the current region http://fake/eu" in response.json()["error"]
