"""Reverse geocoders against the fakes: Google, Nominatim, the offline data set, and the cache in front."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest

from carpulse.geo.address import Address, street_label
from carpulse.geo.cache import NOTHING_TTL_SECONDS, CachedGeocoder, cache_key
from carpulse.geo.google.adapter import GoogleGeocoder
from carpulse.geo.google.client import GoogleMapsClient
from carpulse.geo.nominatim.adapter import NominatimGeocoder
from carpulse.geo.nominatim.client import NominatimClient
from carpulse.geo.offline import OfflineGeocoder
from carpulse.kit.ephemeral import MemoryEphemeralStore
from fakes.google_maps import GoogleMapsFake
from fakes.nominatim import NominatimFake
from tests.geo.conftest import no_sleep, parse

MANNERHEIMINTIE = (60.1700, 24.9400)
UNTER_DEN_LINDEN = (52.5170, 13.3900)
DAMRAK = (52.3750, 4.8960)
HELSINKI_PARK = (60.2000, 24.9000)  # inside Helsinki, far from every street the fake knows
BALTIC = (59.8, 22.0)


def google(http: httpx.AsyncClient, key: str = "test-maps-key") -> GoogleGeocoder:
    return GoogleGeocoder(GoogleMapsClient(http, api_key=key, api_base="http://maps.fake", sleep=no_sleep))


class TestGoogle:
    async def test_a_street_address(self, maps_http: httpx.AsyncClient) -> None:
        address = await google(maps_http).reverse(*MANNERHEIMINTIE)
        assert address == Address(
            label="Mannerheimintie 8, 00100 Helsinki",
            street="Mannerheimintie",
            house_number="8",
            postcode="00100",
            city="Helsinki",
            country_code="FI",
            source="google",
            precision="street",
        )

    @pytest.mark.parametrize(
        ("position", "label", "country"),
        [(UNTER_DEN_LINDEN, "Unter den Linden 50, 10117 Berlin", "DE"), (DAMRAK, "Damrak 59, 1012 LG Amsterdam", "NL")],
    )
    async def test_addresses_abroad(
        self, maps_http: httpx.AsyncClient, position: tuple[float, float], label: str, country: str
    ) -> None:
        address = await google(maps_http).reverse(*position)
        assert address is not None
        assert (address.label, address.country_code) == (label, country)

    async def test_inside_a_town_away_from_streets_it_is_the_town(self, maps_http: httpx.AsyncClient) -> None:
        address = await google(maps_http).reverse(*HELSINKI_PARK)
        assert address is not None
        assert (address.label, address.street, address.city, address.precision) == (
            "Helsinki",
            None,
            "Helsinki",
            "city",
        )

    async def test_nothing_there_is_none(self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake) -> None:
        assert await google(maps_http).reverse(*BALTIC) is None
        assert maps.calls["geocode"] == 1

    async def test_a_refused_key_is_none_and_logged_without_the_key(
        self, maps_http: httpx.AsyncClient, log_lines: io.StringIO
    ) -> None:
        assert await google(maps_http, key="wrong-key-123").reverse(*MANNERHEIMINTIE) is None
        (line,) = [line for line in parse(log_lines) if line["message"] == "geo.reverse_failed"]
        assert line["source"] == "google"
        assert line["error"] == "google-maps-denied"
        output = log_lines.getvalue()
        assert "wrong-key-123" not in output
        assert "60.17" not in output
        assert "24.94" not in output

    async def test_over_the_quota_is_none(self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake) -> None:
        maps.set_fault(throttle=1)
        geocoder = google(maps_http)
        assert await geocoder.reverse(*MANNERHEIMINTIE) is None
        assert await geocoder.reverse(*MANNERHEIMINTIE) is not None

    async def test_an_outage_is_retried_then_none_and_logged(
        self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake, log_lines: io.StringIO
    ) -> None:
        maps.set_fault(down=True)
        assert await google(maps_http).reverse(*MANNERHEIMINTIE) is None
        assert maps.calls["geocode"] == 2  # one retry (a GET is safe to repeat)
        (line,) = [line for line in parse(log_lines) if line["message"] == "geo.reverse_failed"]
        assert line["error"] == "google-maps-unavailable"

    async def test_an_unreachable_google_is_none(self) -> None:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
            assert await google(http).reverse(*MANNERHEIMINTIE) is None

    async def test_the_request_is_the_documented_one(self, maps: GoogleMapsFake) -> None:
        seen: list[httpx.Request] = []

        async def record(request: httpx.Request) -> None:
            seen.append(request)

        transport = httpx.ASGITransport(app=maps.app)
        async with httpx.AsyncClient(transport=transport, event_hooks={"request": [record]}) as http:
            geocoder = GoogleGeocoder(
                GoogleMapsClient(http, api_key="test-maps-key", api_base="http://maps.fake", language="fi")
            )
            await geocoder.reverse(*MANNERHEIMINTIE)
        (request,) = seen
        assert request.url.path == "/maps/api/geocode/json"
        assert dict(request.url.params) == {"latlng": "60.170000,24.940000", "key": "test-maps-key", "language": "fi"}


class TestNominatim:
    def geocoder(
        self, http: httpx.AsyncClient, clock: list[float], agent: str = "CarPulse-test/1 (ops@example.com)"
    ) -> NominatimGeocoder:
        async def sleep(seconds: float) -> None:
            clock[0] += seconds

        client = NominatimClient(
            http, base_url="http://nominatim.fake", user_agent=agent, sleep=sleep, monotonic=lambda: clock[0]
        )
        return NominatimGeocoder(client)

    async def test_a_street_address(self, nominatim_http: httpx.AsyncClient) -> None:
        address = await self.geocoder(nominatim_http, [0.0]).reverse(*UNTER_DEN_LINDEN)
        assert address == Address(
            label="Unter den Linden 50, 10117 Berlin",
            street="Unter den Linden",
            house_number="50",
            postcode="10117",
            city="Berlin",
            country_code="DE",
            source="nominatim",
            precision="street",
        )

    async def test_requests_are_a_second_apart_and_say_who_we_are(self, nominatim: NominatimFake) -> None:
        clock = [100.0]
        fake_time = NominatimFake(monotonic=lambda: clock[0])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_time.app)) as http:
            geocoder = self.geocoder(http, clock)
            for position in (MANNERHEIMINTIE, DAMRAK, UNTER_DEN_LINDEN, HELSINKI_PARK):
                assert await geocoder.reverse(*position) is not None
        assert fake_time.calls == 4
        assert fake_time.too_fast == 0
        assert clock[0] == pytest.approx(103.0)
        assert set(fake_time.agents) == {"CarPulse-test/1 (ops@example.com)"}

    async def test_nothing_there_is_none(self, nominatim_http: httpx.AsyncClient) -> None:
        assert await self.geocoder(nominatim_http, [0.0]).reverse(*BALTIC) is None

    async def test_a_refusal_is_none_and_logged(
        self, nominatim_http: httpx.AsyncClient, log_lines: io.StringIO
    ) -> None:
        assert await self.geocoder(nominatim_http, [0.0], agent="python-httpx/0.28").reverse(*DAMRAK) is None
        (line,) = [line for line in parse(log_lines) if line["message"] == "geo.reverse_failed"]
        assert (line["source"], line["error"]) == ("nominatim", "nominatim-unavailable")


class TestOffline:
    async def test_the_nearest_town(self) -> None:
        address = await OfflineGeocoder().reverse(*MANNERHEIMINTIE)
        assert address == Address(
            label="Helsinki, Finland",
            street=None,
            house_number=None,
            postcode=None,
            city="Helsinki",
            country_code="FI",
            source="offline",
            precision="city",
        )

    async def test_far_from_every_town_there_is_none(self) -> None:
        assert await OfflineGeocoder().reverse(45.0, -30.0) is None

    async def test_concurrent_first_calls_load_the_data_once(self) -> None:
        geocoder = OfflineGeocoder()
        first, second = await asyncio.gather(geocoder.reverse(*DAMRAK), geocoder.reverse(*UNTER_DEN_LINDEN))
        assert first is not None
        assert first.country_code == "NL"
        assert second is not None
        assert second.country_code == "DE"

    async def test_nonsense_is_none(self) -> None:
        assert await OfflineGeocoder().reverse(91.0, 0.0) is None


class _Broken:
    name = "broken"

    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("store down")

    async def set(self, key: str, value: bytes | str, ttl_seconds: float | None = None) -> None:
        raise ConnectionError("store down")


class TestCache:
    async def test_a_cached_place_asks_google_once(self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake) -> None:
        store = MemoryEphemeralStore()
        first = CachedGeocoder(google(maps_http), store, source="google", ttl_seconds=3600)
        address = await first.reverse(*MANNERHEIMINTIE)
        # 3 m away rounds to the same 4 decimals.
        assert await first.reverse(MANNERHEIMINTIE[0] + 0.00002, MANNERHEIMINTIE[1] - 0.00002) == address
        # Another replica (its own memory, the shared store) does not ask either.
        second = CachedGeocoder(google(maps_http), store, source="google", ttl_seconds=3600)
        assert await second.reverse(*MANNERHEIMINTIE) == address
        assert maps.calls["geocode"] == 1
        assert await store.ttl(cache_key("google", *MANNERHEIMINTIE)) == pytest.approx(3600, abs=5)

    async def test_the_replica_memory_spares_the_store(self, maps_http: httpx.AsyncClient) -> None:
        store = MemoryEphemeralStore()
        reads: list[str] = []
        original = store.get

        async def counting_get(key: str) -> bytes | None:
            reads.append(key)
            return await original(key)

        store.get = counting_get  # type: ignore[method-assign]
        geocoder = CachedGeocoder(google(maps_http), store, source="google", ttl_seconds=3600)
        for _ in range(1000):
            await geocoder.reverse(*MANNERHEIMINTIE)
        assert len(reads) == 1

    async def test_concurrent_asks_for_one_place_share_a_call(
        self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake
    ) -> None:
        maps.set_fault(latency_seconds=0.05)
        geocoder = CachedGeocoder(google(maps_http), MemoryEphemeralStore(), source="google", ttl_seconds=60)
        answers = await asyncio.gather(*(geocoder.reverse(*DAMRAK) for _ in range(10)))
        assert len(set(answers)) == 1
        assert maps.calls["geocode"] == 1

    async def test_nothing_there_is_kept_for_a_day(self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake) -> None:
        store = MemoryEphemeralStore()
        geocoder = CachedGeocoder(google(maps_http), store, source="google", ttl_seconds=30 * 86400)
        assert await geocoder.reverse(*BALTIC) is None
        assert await CachedGeocoder(google(maps_http), store, source="google", ttl_seconds=60).reverse(*BALTIC) is None
        assert maps.calls["geocode"] == 1
        assert await store.ttl(cache_key("google", *BALTIC)) == pytest.approx(NOTHING_TTL_SECONDS, abs=5)

    async def test_a_failure_is_not_cached(
        self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake, log_lines: io.StringIO
    ) -> None:
        geocoder = CachedGeocoder(google(maps_http), MemoryEphemeralStore(), source="google", ttl_seconds=60)
        maps.set_fault(down=True)
        assert await geocoder.reverse(*DAMRAK) is None
        assert [line["message"] for line in parse(log_lines)].count("geo.reverse_failed") == 1
        maps.set_fault(down=False)
        assert await geocoder.reverse(*DAMRAK) is not None

    async def test_a_failing_store_is_skipped_and_logged(
        self, maps_http: httpx.AsyncClient, log_lines: io.StringIO
    ) -> None:
        geocoder = CachedGeocoder(google(maps_http), _Broken(), source="google", ttl_seconds=60)  # type: ignore[arg-type]
        address = await geocoder.reverse(*DAMRAK)
        assert address is not None
        assert address.street == "Damrak"
        operations = [line["operation"] for line in parse(log_lines) if line["message"] == "geo.cache_unavailable"]
        assert operations == ["get", "set"]

    def test_keys_round_to_about_11_m(self) -> None:
        assert cache_key("google", 60.17004, 24.94004) == "geo:address:google:60.1700,24.9400"
        assert cache_key("google", -0.00001, 0.00001) == "geo:address:google:0.0000,0.0000"


class TestLabel:
    @pytest.mark.parametrize(
        ("country", "label"),
        [
            ("FI", "Hämeenkatu 1, 33100 Tampere"),
            ("US", "1 Hämeenkatu, 33100 Tampere"),
            (None, "Hämeenkatu 1, 33100 Tampere"),
        ],
    )
    def test_the_number_goes_where_the_country_writes_it(self, country: str | None, label: str) -> None:
        assert street_label("Hämeenkatu", "1", "33100", "Tampere", country) == label

    def test_missing_parts_are_left_out(self) -> None:
        assert street_label(None, None, None, "Espoo", "FI") == "Espoo"
        assert street_label("Otakaari", None, "02150", None, "FI") == "Otakaari, 02150"
