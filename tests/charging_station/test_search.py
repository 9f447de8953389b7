"""`GET /api/v1/charging-stations` through HTTP, against the sandbox's Open Charge Map fake."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from geographiclib.geodesic import Geodesic

from carpulse.charging_station.errors import ChargingStationsUnavailable
from carpulse.charging_station.schemas import StationQuery
from carpulse.charging_station.service import charging_stations
from carpulse.models import AccountRole
from fakes.open_charge_map import OpenChargeMapFake
from tests.charging_station.conftest import HELSINKI, SEARCH, search, stations, token_for
from tests.conftest import SERVER, app_lifespan, create_in_process_app

PROBLEM = "application/problem+json"
UNAVAILABLE = "/problems/charging-stations-unavailable"


def geodesic_km(lat: float, lon: float, station: dict[str, Any]) -> float:
    metres: float = Geodesic.WGS84.Inverse(lat, lon, station["lat"], station["lon"])["s12"]
    return metres / 1000


class TestAnswersFromOpenChargeMap:
    async def test_the_nearest_stations_within_the_radius(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        body = await stations(client, driver, radius_km=5)

        found = body["stations"]
        assert 0 < len(found) == body["count"] <= 20
        distances = [station["distance_km"] for station in found]
        assert distances == sorted(distances)
        assert max(distances) <= 5
        for station in found:
            assert station["distance_km"] == pytest.approx(geodesic_km(*HELSINKI, station), abs=0.001)
            assert station["address"]["town"] == "Helsinki"
            assert station["url"] == f"https://openchargemap.org/site/poi/details/{station['id']}"
            assert station["connectors"]
        assert body["cached"] is False
        assert body["stale"] is False
        assert body["age_seconds"] == 0
        assert ocm.request_count("/poi") == 1

    async def test_stations_carry_what_a_driver_needs(self, client: httpx.AsyncClient, driver: dict[str, str]) -> None:
        found = (await stations(client, driver, radius_km=20, limit=100))["stations"]

        hpc = next(s for s in found if s["operator"]["name"] == "IONITY")
        assert hpc["connectors"][0] == {
            "type": "ccs",
            "title": "CCS (Type 2)",
            "power_kw": 350.0,
            "quantity": hpc["connectors"][0]["quantity"],
            "current": "DC",
            "phases": None,
            "status": hpc["connectors"][0]["status"],
        }
        assert hpc["usage"]["pay_at_location"] is True
        assert hpc["usage"]["cost"].startswith("0,69 €/kWh")
        assert hpc["max_power_kw"] == 350.0
        posts = [s for s in found if s["operator"]["name"] == "Helen"]
        assert posts
        assert all(
            c["current"] == "AC" and c["phases"] == 3 and c["type"] == "type2" for s in posts for c in s["connectors"]
        )
        assert all(s["usage"]["membership_required"] is True for s in posts)
        assert any(s["last_verified"] for s in found)
        assert {s["address"]["country_code"] for s in found} == {"FI"}

    async def test_every_answer_carries_the_attribution(
        self, client: httpx.AsyncClient, driver: dict[str, str]
    ) -> None:
        body = await stations(client, driver, radius_km=3)
        empty = await stations(client, driver, lat=0.0, lon=-30.0)

        attribution = body["attribution"]
        assert attribution["source"] == "Open Charge Map"
        assert attribution["url"] == "https://openchargemap.org"
        assert attribution["licence"] == "CC BY 4.0"
        assert "Open Charge Map contributors" in attribution["notice"]
        providers = {p["name"]: p for p in attribution["data_providers"]}
        assert "Open Charge Map Contributors" in providers
        assert providers["Open Charge Map Contributors"]["licence"].endswith("(CC BY 4.0)")
        assert {s["data_provider"]["name"] for s in body["stations"]} == set(providers)
        assert empty["stations"] == []
        assert empty["attribution"]["licence"] == "CC BY 4.0"
        assert empty["attribution"]["data_providers"] == []

    async def test_each_providers_own_licence_is_named(self, client: httpx.AsyncClient, driver: dict[str, str]) -> None:
        berlin = await stations(client, driver, lat=52.52, lon=13.405, radius_km=10, limit=100)

        licences = {p["name"]: p["licence"] for p in berlin["attribution"]["data_providers"]}
        assert "dl-de/by-2-0" in licences["Bundesnetzagentur.de"]

    async def test_the_key_and_client_reach_ocm(
        self, app: FastAPI, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        ocm.api_keys = frozenset({"a-key-we-were-never-given"})

        response = await search(client, driver)

        assert response.status_code == 503
        assert ocm.calls[-1].status == 403
        assert ocm.calls[-1].keyed is True


class TestCache:
    async def test_a_second_search_is_answered_from_the_cache(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        first = await stations(client, driver, radius_km=5)
        second = await stations(client, driver, radius_km=5)

        assert ocm.request_count("/poi") == 1
        assert second["cached"] is True
        assert second["stale"] is False
        assert second["fetched_at"] == first["fetched_at"]
        assert second["stations"] == first["stations"]

    async def test_near_identical_searches_share_an_answer(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        lat, lon = HELSINKI
        first = await stations(client, driver, lat=lat, lon=lon)
        nudged = await stations(client, driver, lat=lat + 0.0002, lon=lon - 0.0002, limit=5)

        assert ocm.request_count("/poi") == 1
        assert nudged["cached"] is True
        # Distances are measured from each caller's own point.
        for station in nudged["stations"]:
            assert station["distance_km"] == pytest.approx(geodesic_km(lat + 0.0002, lon - 0.0002, station), abs=0.001)
        assert [s["id"] for s in nudged["stations"]] == [s["id"] for s in first["stations"]][:5]

    async def test_another_area_asks_again(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        await stations(client, driver)
        tampere = await stations(client, driver, lat=61.4978, lon=23.761)

        assert ocm.request_count("/poi") == 2
        assert tampere["cached"] is False
        assert {s["address"]["town"] for s in tampere["stations"]} == {"Tampere"}

    async def test_a_burst_on_a_cold_area_asks_once(self, app: FastAPI, ocm: OpenChargeMapFake) -> None:
        query = StationQuery(lat=HELSINKI[0], lon=HELSINKI[1])

        answers = await asyncio.gather(*(charging_stations.search(app.state.carpulse, query) for _ in range(5)))

        assert ocm.request_count("/poi") == 1
        assert len({answer.fetched_at for answer in answers}) == 1
        assert all(answer.stations == answers[0].stations for answer in answers)

    @pytest.mark.parametrize("settings_overrides", [{"open_charge_map": {"cache_seconds": 0}}])
    async def test_no_reuse_when_the_cache_is_off(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        await stations(client, driver)
        again = await stations(client, driver)

        assert ocm.request_count("/poi") == 2
        assert again["cached"] is False


class TestOutage:
    @pytest.mark.parametrize("settings_overrides", [{"open_charge_map": {"cache_seconds": 0}}])
    async def test_an_earlier_answer_is_served_while_ocm_is_down(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        first = await stations(client, driver, radius_km=5)
        ocm.set_fault(down=True)

        during = await stations(client, driver, radius_km=5)

        assert ocm.calls[-1].status == 503
        assert during["cached"] is True
        assert during["stale"] is True
        assert during["fetched_at"] == first["fetched_at"]
        assert during["stations"] == first["stations"]
        assert during["attribution"] == first["attribution"]

    async def test_a_fresh_answer_is_served_without_asking_a_down_ocm(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        await stations(client, driver)
        ocm.set_fault(down=True)

        during = await stations(client, driver)

        assert ocm.request_count("/poi") == 1
        assert during["cached"] is True
        assert during["stale"] is False

    async def test_nothing_kept_and_ocm_down_is_503(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        ocm.set_fault(down=True)

        response = await search(client, driver)

        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == UNAVAILABLE
        assert int(response.headers["retry-after"]) > 0
        # Retried (a read), then given up.
        assert ocm.request_count("/poi") == 3

    @pytest.mark.parametrize("settings_overrides", [{"open_charge_map": {"deadline_seconds": 0.3}}])
    async def test_a_hanging_ocm_is_given_up_at_the_deadline(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        ocm.set_fault(hang_seconds=30)

        started = time.perf_counter()
        response = await search(client, driver)

        assert time.perf_counter() - started < 5
        assert response.status_code == 503
        assert response.json()["type"] == UNAVAILABLE

    @pytest.mark.parametrize("settings_overrides", [{"open_charge_map": {"deadline_seconds": 0.5}}])
    async def test_a_burst_during_an_outage_shares_one_call(self, app: FastAPI, ocm: OpenChargeMapFake) -> None:
        # Through the service: the test's one database connection serves one request at a time.
        ocm.set_fault(hang_seconds=30)
        query = StationQuery(lat=HELSINKI[0], lon=HELSINKI[1])

        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(charging_stations.search(app.state.carpulse, query) for _ in range(5)), return_exceptions=True
        )

        # One deadline for all, not one after another.
        assert time.perf_counter() - started < 2.5
        assert all(isinstance(outcome, ChargingStationsUnavailable) for outcome in outcomes)
        assert ocm.request_count("/poi") == 1

    @pytest.mark.parametrize("settings_overrides", [{"open_charge_map": {"max_retries": 0}}])
    async def test_the_circuit_opens_after_repeated_failures(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        ocm.set_fault(down=True)
        # The breaker opens once 20 recent calls failed (kit.resilience defaults).
        for _ in range(20):
            assert (await search(client, driver)).status_code == 503
        asked = ocm.request_count("/poi")

        refused = await search(client, driver)

        assert ocm.request_count("/poi") == asked == 20
        assert refused.status_code == 503
        assert refused.json()["type"] == UNAVAILABLE


class TestRateLimitedByOcm:
    async def test_a_short_retry_after_is_waited_out(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        ocm.set_fault(rate_limit_retry_after=1, rate_limit_requests=1)

        started = time.perf_counter()
        body = await stations(client, driver)

        assert time.perf_counter() - started >= 1
        assert body["stations"]
        assert [call.status for call in ocm.calls] == [429, 200]

    async def test_a_long_retry_after_is_passed_on(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        ocm.set_fault(rate_limit_retry_after=120)

        response = await search(client, driver)

        assert response.status_code == 503
        assert response.json()["type"] == UNAVAILABLE
        assert response.headers["retry-after"] == "120"
        assert ocm.request_count("/poi") == 1


class TestValidation:
    @pytest.mark.parametrize(
        "params",
        [
            {"lat": 91, "lon": 24.9},
            {"lat": 60.1, "lon": -180.5},
            {"lat": "nan", "lon": 24.9},
            {"lat": "north", "lon": 24.9},
            {"lon": 24.9},
            {"lat": 60.1, "lon": 24.9, "radius_km": 0},
            {"lat": 60.1, "lon": 24.9, "radius_km": 50.5},
            {"lat": 60.1, "lon": 24.9, "limit": 0},
            {"lat": 60.1, "lon": 24.9, "limit": 101},
            {"lat": 60.1, "lon": 24.9, "min_power_kw": -1},
            {"lat": 60.1, "lon": 24.9, "connector": "wankel"},
            {"lat": 60.1, "lon": 24.9, "operator": ""},
        ],
    )
    async def test_bad_input_is_422_and_never_reaches_ocm(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake, params: dict[str, Any]
    ) -> None:
        response = await client.get(SEARCH, params=params, headers=driver)

        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"]
        assert ocm.request_count() == 0

    async def test_an_unknown_operator_name_is_422(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        response = await search(client, driver, operator="Flux Capacitor Charging")

        assert response.status_code == 422
        assert response.json()["type"] == "/problems/unknown-charging-operator"
        assert response.json()["errors"][0]["loc"] == ["query", "operator"]
        assert ocm.request_count("/poi") == 0


class TestFilters:
    async def test_min_power(self, client: httpx.AsyncClient, driver: dict[str, str]) -> None:
        every = await stations(client, driver, radius_km=20, limit=100)
        fast = await stations(client, driver, radius_km=20, limit=100, min_power_kw=150)

        assert 0 < fast["count"] < every["count"]
        assert all(max(c["power_kw"] for c in s["connectors"]) >= 150 for s in fast["stations"])
        fast_ids = {s["id"] for s in fast["stations"]}
        assert fast_ids == {s["id"] for s in every["stations"] if s["max_power_kw"] >= 150}

    async def test_connector(self, client: httpx.AsyncClient, driver: dict[str, str]) -> None:
        every = await stations(client, driver, radius_km=20, limit=100)
        chademo = await stations(client, driver, radius_km=20, limit=100, connector="chademo")

        assert 0 < chademo["count"] < every["count"]
        assert all(any(c["type"] == "chademo" for c in s["connectors"]) for s in chademo["stations"])

    async def test_connector_and_power_together_mean_one_plug_that_has_both(
        self, client: httpx.AsyncClient, driver: dict[str, str]
    ) -> None:
        berlin = {"lat": 52.52, "lon": 13.405, "radius_km": 25, "limit": 100}
        every = await stations(client, driver, **berlin)
        body = await stations(client, driver, **berlin, connector="type2", min_power_kw=40)

        # Sites with a 22 kW Type 2 socket beside a fast CCS plug have a Type 2 and 40 kW, but no 40 kW Type 2.
        assert any(
            any(c["type"] == "type2" for c in s["connectors"]) and s["max_power_kw"] >= 40 for s in every["stations"]
        )
        assert body["stations"]
        for station in body["stations"]:
            assert any(c["type"] == "type2" and c["power_kw"] >= 40 for c in station["connectors"])
        assert {s["operator"]["name"] for s in body["stations"]} == {"Fastned"}

    @pytest.mark.parametrize("operator", ["IONITY", "ionity", "3299"])
    async def test_operator_by_name_or_id(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake, operator: str
    ) -> None:
        body = await stations(client, driver, radius_km=25, limit=100, operator=operator)

        assert body["stations"]
        assert {s["operator"]["name"] for s in body["stations"]} == {"IONITY"}
        assert {s["operator"]["id"] for s in body["stations"]} == {3299}

    async def test_operator_names_are_looked_up_once(
        self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        await stations(client, driver, operator="K-Lataus")
        await stations(client, driver, operator="Recharge", radius_km=10)

        assert ocm.request_count("/referencedata") == 1

    async def test_an_exact_name_wins_over_names_containing_it(
        self, client: httpx.AsyncClient, driver: dict[str, str]
    ) -> None:
        body = await stations(client, driver, lat=52.52, lon=13.405, radius_km=25, limit=100, operator="recharge")
        tesla = await stations(client, driver, radius_km=25, limit=100, operator="tesla")

        # "Shell Recharge" operates in Berlin too; only "Recharge" is named exactly.
        assert {s["operator"]["name"] for s in body["stations"]} <= {"Recharge"}
        assert {s["operator"]["name"] for s in tesla["stations"]} == {"Tesla (Tesla-only charging)"}

    async def test_limit(self, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake) -> None:
        every = await stations(client, driver, radius_km=10, limit=50)
        three = await stations(client, driver, radius_km=10, limit=3)

        assert [s["id"] for s in three["stations"]] == [s["id"] for s in every["stations"]][:3]
        assert three["count"] == 3


class TestWhoMaySearch:
    async def test_without_a_token_401(self, client: httpx.AsyncClient, ocm: OpenChargeMapFake) -> None:
        response = await client.get(SEARCH, params={"lat": HELSINKI[0], "lon": HELSINKI[1]})

        assert response.status_code == 401
        assert ocm.request_count() == 0

    async def test_an_account_that_is_no_driver_403(
        self, app: FastAPI, client: httpx.AsyncClient, ocm: OpenChargeMapFake
    ) -> None:
        headers = {"Authorization": f"Bearer {await token_for(app, AccountRole.api_client)}"}

        response = await search(client, headers)

        assert response.status_code == 403
        assert response.json()["type"] == "/problems/driver-required"
        assert ocm.request_count() == 0

    @pytest.mark.parametrize("settings_overrides", [{"rate_limit": {"policies": {"charging_stations": "2/minute"}}}])
    async def test_a_driver_has_a_budget(self, client: httpx.AsyncClient, driver: dict[str, str]) -> None:
        statuses = [(await search(client, driver)).status_code for _ in range(3)]

        assert statuses == [200, 200, 429]


class TestNearATripsEnd:
    async def test_a_few_stations_close_by(self, app: FastAPI, ocm: OpenChargeMapFake) -> None:
        answer = await charging_stations.near(app.state.carpulse, *HELSINKI)

        assert 0 < answer.count <= 5
        assert all(station.distance_km <= 2 for station in answer.stations)
        assert answer.attribution.source == "Open Charge Map"
        assert ocm.request_count("/poi") == 1


@pytest.mark.server
class TestSharedByReplicas:
    async def test_another_replica_answers_from_the_shared_cache(
        self, app: FastAPI, client: httpx.AsyncClient, driver: dict[str, str], ocm: OpenChargeMapFake
    ) -> None:
        assert SERVER
        first = await stations(client, driver)
        other = create_in_process_app(app.state.carpulse.settings)
        async with app_lifespan(other):
            # The same test transaction, so the other replica knows the driver.
            other.state.carpulse.sessionmaker = app.state.carpulse.sessionmaker
            transport = httpx.ASGITransport(app=other, client=("203.0.113.8", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as replica:
                second = await stations(replica, driver)
            other_fake = other.state.carpulse.sandbox.open_charge_map

        assert second["cached"] is True
        assert second["stations"] == first["stations"]
        assert other_fake.request_count() == 0
        assert ocm.request_count("/poi") == 1
