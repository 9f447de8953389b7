"""The Google Maps fake answers as Google's web services document, and its controls switch what tests need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fakes.google_maps import GoogleMapsFake, encode_polyline

KEY = "fake-key"


@pytest.fixture
def fake() -> GoogleMapsFake:
    return GoogleMapsFake(api_key=KEY)


@pytest.fixture
async def http(fake: GoogleMapsFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://maps") as client:
        yield client


async def geocode(http: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await http.get("/maps/api/geocode/json", params=params)
    body: dict[str, Any] = response.json()
    return body


class TestGeocoding:
    async def test_a_street_address_has_its_components(self, http: httpx.AsyncClient) -> None:
        body = await geocode(http, latlng="61.4983,23.7700", key=KEY)
        assert body["status"] == "OK"
        first = body["results"][0]
        assert first["types"] == ["street_address"]
        assert first["formatted_address"] == "Hämeenkatu 23, 33100 Tampere, Finland"
        kinds = {kind: part["short_name"] for part in first["address_components"] for kind in part["types"]}
        assert {kinds[k] for k in ("street_number", "route", "locality", "postal_code", "country")} == {
            "23",
            "Hämeenkatu",
            "Tampere",
            "33100",
            "FI",
        }
        assert [result["types"][0] for result in body["results"]] == ["street_address", "route", "locality"]

    async def test_house_numbers_are_odd_on_one_side_and_even_on_the_other(self, http: httpx.AsyncClient) -> None:
        north = await geocode(http, latlng="61.4990,23.7700", key=KEY)
        south = await geocode(http, latlng="61.4976,23.7700", key=KEY)
        numbers = {int(body["results"][0]["address_components"][0]["long_name"]) % 2 for body in (north, south)}
        assert numbers == {0, 1}

    async def test_far_from_every_town_there_are_zero_results(self, http: httpx.AsyncClient) -> None:
        assert (await geocode(http, latlng="59.8,22.0", key=KEY))["status"] == "ZERO_RESULTS"

    @pytest.mark.parametrize("latlng", ["", "abc", "95,10", "60.1"])
    async def test_a_bad_position_is_an_invalid_request(self, http: httpx.AsyncClient, latlng: str) -> None:
        response = await http.get("/maps/api/geocode/json", params={"latlng": latlng, "key": KEY})
        assert response.status_code == 400
        assert response.json()["status"] == "INVALID_REQUEST"

    @pytest.mark.parametrize(("params", "message"), [({}, "You must use an API key"), ({"key": "nope"}, "invalid")])
    async def test_a_missing_or_wrong_key_is_denied(
        self, http: httpx.AsyncClient, params: dict[str, str], message: str
    ) -> None:
        body = await geocode(http, latlng="60.17,24.94", **params)
        assert body["status"] == "REQUEST_DENIED"
        assert message in body["error_message"]


class TestDirections:
    async def test_a_route_through_via_points_is_one_leg(self, http: httpx.AsyncClient) -> None:
        params = {
            "origin": "60.1699,24.9384",
            "destination": "61.4978,23.7610",
            "waypoints": "via:60.3,24.9|via:60.9,24.4",
            "mode": "driving",
            "key": KEY,
        }
        body = (await http.get("/maps/api/directions/json", params=params)).json()
        assert body["status"] == "OK"
        (leg,) = body["routes"][0]["legs"]
        assert 180_000 < leg["distance"]["value"] < 250_000
        assert len(leg["via_waypoint"]) == 2
        assert leg["distance"]["text"].endswith(" km")

    async def test_stopovers_split_legs_and_the_distance_is_deterministic(self, http: httpx.AsyncClient) -> None:
        params = {"origin": "60.17,24.94", "destination": "60.19,24.83", "waypoints": "60.18,24.90", "key": KEY}
        first = (await http.get("/maps/api/directions/json", params=params)).json()
        again = (await http.get("/maps/api/directions/json", params=params)).json()
        assert len(first["routes"][0]["legs"]) == 2
        assert first == again

    async def test_more_than_25_waypoints_are_refused(self, http: httpx.AsyncClient) -> None:
        waypoints = "|".join(f"via:60.{i:02d},24.9" for i in range(26))
        params = {"origin": "60.17,24.94", "destination": "60.19,24.83", "waypoints": waypoints, "key": KEY}
        body = (await http.get("/maps/api/directions/json", params=params)).json()
        assert body["status"] == "MAX_WAYPOINTS_EXCEEDED"

    async def test_an_unknown_place_is_not_found(self, http: httpx.AsyncClient) -> None:
        params = {"origin": "Atlantis", "destination": "60.19,24.83", "key": KEY}
        body = (await http.get("/maps/api/directions/json", params=params)).json()
        assert body["status"] == "NOT_FOUND"
        assert body["geocoded_waypoints"][0]["geocoder_status"] == "ZERO_RESULTS"

    async def test_a_missing_destination_is_an_invalid_request(self, http: httpx.AsyncClient) -> None:
        body = (await http.get("/maps/api/directions/json", params={"origin": "60.1,24.9", "key": KEY})).json()
        assert body["status"] == "INVALID_REQUEST"

    def test_polylines_encode_as_google_documents(self) -> None:
        assert encode_polyline([(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)]) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"


class TestControls:
    async def test_calls_are_counted_per_service_and_reset(self, http: httpx.AsyncClient) -> None:
        await geocode(http, latlng="60.17,24.94", key=KEY)
        await http.get(
            "/maps/api/directions/json", params={"origin": "60.1,24.9", "destination": "60.2,24.9", "key": KEY}
        )
        assert (await http.get("/_control/calls")).json() == {"geocode": 1, "directions": 1}
        await http.post("/_control/reset")
        assert (await http.get("/_control/calls")).json() == {"geocode": 0, "directions": 0}

    async def test_down_answers_503(self, http: httpx.AsyncClient) -> None:
        assert (await http.post("/_control/faults", json={"down": True})).json()["down"] is True
        response = await http.get("/maps/api/geocode/json", params={"latlng": "60.17,24.94", "key": KEY})
        assert response.status_code == 503

    async def test_throttle_answers_over_query_limit_for_so_many_calls(self, http: httpx.AsyncClient) -> None:
        await http.post("/_control/faults", json={"throttle": 2})
        statuses = [(await geocode(http, latlng="60.17,24.94", key=KEY))["status"] for _ in range(3)]
        assert statuses == ["OVER_QUERY_LIMIT", "OVER_QUERY_LIMIT", "OK"]

    async def test_a_bad_fault_is_refused(self, http: httpx.AsyncClient) -> None:
        assert (await http.post("/_control/faults", json={"throttle": -1})).status_code == 422
        assert (await http.post("/_control/faults", json={"flood": True})).status_code == 422
