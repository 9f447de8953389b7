"""The Nominatim fake answers /reverse as format=jsonv2 does, and counts what breaks the usage policy."""

from __future__ import annotations

import httpx

from fakes.nominatim import LICENCE, NominatimFake


class TestReverse:
    async def test_reverse_jsonv2(self) -> None:
        fake = NominatimFake(min_interval_seconds=0)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://n") as http:
            response = await http.get(
                "/reverse",
                params={"format": "jsonv2", "lat": "60.1870", "lon": "24.8300"},
                headers={"User-Agent": "CarPulse-test/1"},
            )
            nothing = await http.get(
                "/reverse", params={"format": "jsonv2", "lat": "59.8", "lon": "22.0"}, headers={"User-Agent": "t/1"}
            )
            blocked = await http.get("/reverse", params={"format": "jsonv2", "lat": "60.1870", "lon": "24.8300"})
        body = response.json()
        assert body["licence"] == LICENCE
        assert body["address"]["road"] == "Otakaari"
        assert body["address"]["city"] == "Espoo"
        assert body["address"]["country_code"] == "fi"
        assert body["display_name"].startswith(body["address"]["house_number"] + ", Otakaari, Espoo")
        assert nothing.json() == {"error": "Unable to geocode"}
        assert blocked.status_code == 403  # httpx's own User-Agent, as the public instance blocks library defaults

    async def test_requests_closer_than_a_second_are_counted(self) -> None:
        now = [0.0]
        fake = NominatimFake(monotonic=lambda: now[0])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://n") as http:
            for step in (0.0, 0.5, 1.5):
                now[0] += step
                await http.get(
                    "/reverse",
                    params={"format": "jsonv2", "lat": "60.17", "lon": "24.94"},
                    headers={"User-Agent": "t/1"},
                )
            assert (await http.get("/_control/calls")).json() == {"calls": 3, "too_fast": 1}
