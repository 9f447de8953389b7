"""The Open Charge Map fake answers as OCM does: its key check, units, limits, filters, output switches, faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fakes.open_charge_map import INVALID_KEY, MISSING_KEY, SANDBOX_API_KEY, OpenChargeMapFake, build_sites

HELSINKI = {"latitude": "60.1699", "longitude": "24.9384"}
KEY = {"X-API-Key": SANDBOX_API_KEY}


@pytest.fixture
def fake() -> OpenChargeMapFake:
    return OpenChargeMapFake(seed=7)


@pytest.fixture
async def http(fake: OpenChargeMapFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://ocm") as client:
        yield client


async def poi(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await http.get("/v3/poi/", params={k: str(v) for k, v in params.items()}, headers=KEY)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def walk(value: Any) -> list[Any]:
    """Every value inside a JSON document, nested ones included."""
    found = [value]
    if isinstance(value, dict):
        for item in value.values():
            found.extend(walk(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(walk(item))
    return found


class TestKey:
    async def test_a_call_without_a_key_is_refused_as_ocm_refuses_it(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v3/poi/", params=HELSINKI)

        assert response.status_code == 403
        assert response.text == MISSING_KEY

    @pytest.mark.parametrize("placeholder", ["test", "null", ""])
    async def test_placeholder_keys_count_as_none(self, http: httpx.AsyncClient, placeholder: str) -> None:
        response = await http.get("/v3/poi/", params=HELSINKI, headers={"X-API-Key": placeholder})

        assert (response.status_code, response.text) == (403, MISSING_KEY)

    async def test_a_key_it_never_issued_is_rejected(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v3/poi/", params=HELSINKI, headers={"X-API-Key": "someone-elses-key"})

        assert (response.status_code, response.text) == (403, INVALID_KEY)

    async def test_the_key_may_come_as_header_or_query(self, http: httpx.AsyncClient) -> None:
        by_header = await http.get("/v3/poi", params=HELSINKI, headers=KEY)
        by_query = await http.get("/v3/poi", params={**HELSINKI, "key": SANDBOX_API_KEY})

        assert by_header.status_code == by_query.status_code == 200
        assert by_header.json() == by_query.json()

    async def test_reference_data_needs_the_key_too(self, http: httpx.AsyncClient) -> None:
        assert (await http.get("/v3/referencedata/")).status_code == 403
        assert (await http.get("/v3/referencedata/", headers=KEY)).status_code == 200


class TestDistance:
    async def test_distance_is_in_miles_unless_km_is_asked(self, http: httpx.AsyncClient) -> None:
        miles = await poi(http, **HELSINKI, distance=3, maxresults=500)
        km = await poi(http, **HELSINKI, distance=3, distanceunit="km", maxresults=500)

        assert {site["AddressInfo"]["DistanceUnit"] for site in miles} == {2}
        assert {site["AddressInfo"]["DistanceUnit"] for site in km} == {1}
        assert max(site["AddressInfo"]["Distance"] for site in miles) <= 3
        assert max(site["AddressInfo"]["Distance"] for site in km) <= 3
        # Three miles reach further than three kilometres.
        assert len(miles) > len(km) > 0
        same = {site["ID"]: site["AddressInfo"]["Distance"] for site in miles}
        for site in km:
            assert site["AddressInfo"]["Distance"] == pytest.approx(same[site["ID"]] * 1.609344, rel=1e-3)

    async def test_sites_come_nearest_first(self, http: httpx.AsyncClient) -> None:
        sites = await poi(http, **HELSINKI, distance=20, distanceunit="km")

        distances = [site["AddressInfo"]["Distance"] for site in sites]
        assert distances == sorted(distances)

    async def test_without_a_position_there_is_no_distance(self, http: httpx.AsyncClient) -> None:
        sites = await poi(http, countrycode="FI", maxresults=5)

        assert [site["AddressInfo"]["Distance"] for site in sites] == [None] * 5


class TestMaxResults:
    async def test_one_hundred_by_default(self, http: httpx.AsyncClient) -> None:
        assert len(await poi(http, **HELSINKI)) == 100

    async def test_as_many_as_asked(self, http: httpx.AsyncClient) -> None:
        assert len(await poi(http, **HELSINKI, maxresults=7)) == 7
        assert len(await poi(http, maxresults=1000)) == len(build_sites(7))

    async def test_an_unreadable_value_is_the_default(self, http: httpx.AsyncClient) -> None:
        assert len(await poi(http, **HELSINKI, maxresults="many")) == 100


class TestFilters:
    async def test_country(self, http: httpx.AsyncClient) -> None:
        sites = await poi(http, countrycode="se", maxresults=1000)

        assert sites
        assert {site["AddressInfo"]["Country"]["ISOCode"] for site in sites} == {"SE"}

    async def test_connection_type(self, http: httpx.AsyncClient) -> None:
        sites = await poi(http, connectiontypeid="2", maxresults=1000)

        assert sites
        assert all(any(c["ConnectionTypeID"] == 2 for c in site["Connections"]) for site in sites)

    async def test_min_power(self, http: httpx.AsyncClient) -> None:
        sites = await poi(http, minpowerkw=300, maxresults=1000)

        assert 0 < len(sites) < len(build_sites(7))
        assert all(max(c["PowerKW"] for c in site["Connections"]) >= 300 for site in sites)

    async def test_operators(self, http: httpx.AsyncClient) -> None:
        sites = await poi(http, operatorid="3299,74", maxresults=1000)

        assert {site["OperatorInfo"]["Title"] for site in sites} == {"IONITY", "Fastned"}

    async def test_open_data_only(self, http: httpx.AsyncClient) -> None:
        every = await poi(http, maxresults=1000)
        open_only = await poi(http, opendata="true", maxresults=1000)

        assert any(not site["DataProvider"]["IsOpenDataLicensed"] for site in every)
        assert open_only
        assert all(site["DataProvider"]["IsOpenDataLicensed"] for site in open_only)

    async def test_bounding_box(self, http: httpx.AsyncClient) -> None:
        sites = await poi(http, boundingbox="(60.20,24.90),(60.15,24.99)", maxresults=1000)

        assert sites
        for site in sites:
            assert 60.15 <= site["AddressInfo"]["Latitude"] <= 60.20
            assert 24.90 <= site["AddressInfo"]["Longitude"] <= 24.99


class TestOutput:
    async def test_verbose_json_by_default(self, http: httpx.AsyncClient) -> None:
        site = (await poi(http, **HELSINKI, maxresults=1))[0]

        assert site["DataProvider"]["License"]
        assert site["OperatorInfo"]["Title"]
        assert site["UsageType"]["Title"]
        connection = site["Connections"][0]
        assert connection["ConnectionType"]["Title"]
        assert connection["CurrentType"]["Title"]
        assert site["AddressInfo"]["Country"]["ISOCode"] == "FI"
        assert None in walk(site)

    async def test_compact_keeps_ids_and_the_address_only(self, http: httpx.AsyncClient) -> None:
        site = (await poi(http, **HELSINKI, maxresults=1, compact="true"))[0]

        for name in ("DataProvider", "OperatorInfo", "UsageType", "StatusType", "SubmissionStatus"):
            assert name not in site
        assert site["OperatorID"]
        assert site["DataProviderID"]
        assert "UsageTypeID" in site
        assert "Country" not in site["AddressInfo"]
        assert site["AddressInfo"]["CountryID"]
        assert "ConnectionType" not in site["Connections"][0]
        assert site["Connections"][0]["ConnectionTypeID"]

    async def test_verbose_false_drops_nulls(self, http: httpx.AsyncClient) -> None:
        sites = await poi(http, **HELSINKI, verbose="false")

        assert None not in walk(sites)

    async def test_camelcase_renames_every_key(self, http: httpx.AsyncClient) -> None:
        site = (await poi(http, **HELSINKI, maxresults=1, camelcase="true"))[0]

        assert {"id", "uuid", "addressInfo", "operatorInfo", "connections", "dataProviderID"} <= set(site)
        assert "powerKW" in site["connections"][0]
        assert site["addressInfo"]["country"]["isoCode"] == "FI"

    async def test_only_json_is_served(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v3/poi/", params={"output": "kml"}, headers=KEY)

        assert response.status_code == 400


class TestSites:
    def test_a_few_hundred_sites_around_six_cities(self) -> None:
        sites = build_sites(7)

        assert 300 <= len(sites) <= 400
        towns = {site["AddressInfo"]["Town"] for site in sites}
        assert towns == {"Helsinki", "Tampere", "Berlin", "Munich", "Amsterdam", "Stockholm"}
        operators = {site["OperatorInfo"]["Title"] for site in sites}
        assert {"IONITY", "Tesla (Tesla-only charging)", "Fastned", "K-Lataus", "Recharge", "EnBW (D)"} <= operators
        types = {c["ConnectionTypeID"] for site in sites for c in site["Connections"]}
        assert {33, 25, 2, 1} <= types

    def test_a_seed_gives_the_same_sites_every_time(self) -> None:
        assert build_sites(7) == build_sites(7)
        assert build_sites(7) != build_sites(8)

    async def test_reference_data_names_the_ids_the_sites_use(self, http: httpx.AsyncClient) -> None:
        reference = (await http.get("/v3/referencedata", headers=KEY)).json()

        titles = {item["ID"]: item["Title"] for item in reference["ConnectionTypes"]}
        assert titles[33] == "CCS (Type 2)"
        assert titles[25] == "Type 2 (Socket Only)"
        operators = {item["ID"] for item in reference["Operators"]}
        assert {site["OperatorID"] for site in build_sites(7)} <= operators


class TestFaults:
    async def test_down_answers_503(self, fake: OpenChargeMapFake, http: httpx.AsyncClient) -> None:
        fake.set_fault(down=True)

        assert (await http.get("/v3/poi/", params=HELSINKI, headers=KEY)).status_code == 503
        fake.clear_faults()
        assert (await http.get("/v3/poi/", params=HELSINKI, headers=KEY)).status_code == 200

    async def test_a_throttle_for_some_requests(self, fake: OpenChargeMapFake, http: httpx.AsyncClient) -> None:
        fake.set_fault(rate_limit_retry_after=30, rate_limit_requests=2)

        statuses = [(await http.get("/v3/poi/", params=HELSINKI, headers=KEY)) for _ in range(3)]

        assert [response.status_code for response in statuses] == [429, 429, 200]
        assert statuses[0].headers["retry-after"] == "30"

    async def test_hanging_holds_the_answer(self, fake: OpenChargeMapFake, http: httpx.AsyncClient) -> None:
        fake.set_fault(hang_seconds=0.3)

        started = time.perf_counter()
        response = await http.get("/v3/poi/", params=HELSINKI, headers=KEY)

        assert response.status_code == 200
        assert time.perf_counter() - started >= 0.3

    async def test_a_call_given_up_by_its_client_is_counted(
        self, fake: OpenChargeMapFake, http: httpx.AsyncClient
    ) -> None:
        fake.set_fault(hang_seconds=30)

        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await http.get("/v3/poi/", params=HELSINKI, headers=KEY)

        assert fake.request_count("/poi") == 1
        assert fake.calls[0].status == 0

    async def test_every_request_is_counted(self, fake: OpenChargeMapFake, http: httpx.AsyncClient) -> None:
        await http.get("/v3/poi/", params=HELSINKI)
        await http.get("/v3/poi/", params=HELSINKI, headers=KEY)
        await http.get("/v3/referencedata/", headers=KEY)

        assert fake.request_count() == 3
        assert fake.request_count("/poi") == 2
        assert [call.status for call in fake.calls] == [403, 200, 200]

    async def test_switched_and_read_over_http(self, fake: OpenChargeMapFake, http: httpx.AsyncClient) -> None:
        switched = await http.post("/_control/faults", json={"down": True})
        assert switched.status_code == 200
        assert switched.json()["down"] is True
        assert (await http.get("/v3/poi/", headers=KEY)).status_code == 503

        calls = (await http.get("/_control/calls")).json()
        assert calls["count"] == 1
        assert calls["calls"][0]["status"] == 503
        assert (await http.delete("/_control/faults")).json()["down"] is False
        assert (await http.post("/_control/faults", json={"nonsense": 1})).status_code == 422
