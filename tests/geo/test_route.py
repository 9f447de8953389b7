"""Routers: Google Directions against its fake, the offline estimate, and the fallback when Google cannot."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from carpulse.geo.google.adapter import GoogleDirectionsRouter
from carpulse.geo.google.client import GoogleMapsClient
from carpulse.geo.route import OfflineRouter, RoadDistance, bridge_gaps, sample
from carpulse.geo.track import Fix, geodesic_m, measure
from fakes.google_maps import GoogleMapsFake
from tests.geo.conftest import no_sleep, parse

HELSINKI = (60.1699, 24.9384)
ESPOO = (60.1867, 24.8300)
TAMPERE = (61.4978, 23.7610)


def straight(points: list[tuple[float, float]]) -> float:
    return sum(geodesic_m(*a, *b) for a, b in itertools.pairwise(points))


def router(http: httpx.AsyncClient, key: str = "test-maps-key") -> GoogleDirectionsRouter:
    client = GoogleMapsClient(http, api_key=key, api_base="http://maps.fake", sleep=no_sleep)
    return GoogleDirectionsRouter(client, fallback=OfflineRouter(detour_factor=1.3))


class TestOffline:
    async def test_straight_lines_times_the_detour_factor_marked_estimated(self) -> None:
        answer = await OfflineRouter(detour_factor=1.3).road_distance([HELSINKI, ESPOO, TAMPERE])
        assert answer.source == "offline"
        assert answer.estimated
        assert answer.distance_m == pytest.approx(straight([HELSINKI, ESPOO, TAMPERE]) * 1.3)

    async def test_one_point_or_none_is_zero(self) -> None:
        assert (await OfflineRouter().road_distance([HELSINKI])).distance_m == 0
        assert (await OfflineRouter().road_distance([])).distance_m == 0


class TestGoogle:
    async def test_the_road_distance_from_directions(self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake) -> None:
        answer = await router(maps_http).road_distance([HELSINKI, ESPOO, TAMPERE])
        # The fake's roads are its great circles times 1.25 (haversine: within 0.5 % of the ellipsoid).
        assert answer == RoadDistance(
            distance_m=pytest.approx(straight([HELSINKI, ESPOO, TAMPERE]) * 1.25, rel=0.005),
            source="google",
            estimated=False,
        )  # type: ignore[arg-type]
        assert maps.calls["directions"] == 1

    async def test_at_most_25_via_points_in_order_through_one_leg(self, maps: GoogleMapsFake) -> None:
        seen: list[httpx.Request] = []

        async def record(request: httpx.Request) -> None:
            seen.append(request)

        points = [(60.17 + i * 0.001, 24.94) for i in range(200)]
        transport = httpx.ASGITransport(app=maps.app)
        async with httpx.AsyncClient(transport=transport, event_hooks={"request": [record]}) as http:
            answer = await router(http).road_distance(points)
        query = parse_qs(urlsplit(str(seen[0].url)).query)
        assert query["origin"] == ["60.170000,24.940000"]
        assert query["destination"] == ["60.369000,24.940000"]
        assert query["mode"] == ["driving"]
        via = query["waypoints"][0].split("|")
        assert len(via) == 25
        assert all(part.startswith("via:") for part in via)
        latitudes = [float(part.removeprefix("via:").split(",")[0]) for part in via]
        assert latitudes == sorted(latitudes)
        assert answer.distance_m == pytest.approx(straight([points[0], points[-1]]) * 1.25, rel=0.005)

    @pytest.mark.parametrize("fault", ["down", "throttle", "key"])
    async def test_when_google_cannot_the_offline_estimate_answers_and_it_is_logged(
        self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake, log_lines: io.StringIO, fault: str
    ) -> None:
        if fault == "down":
            maps.set_fault(down=True)
        elif fault == "throttle":
            maps.set_fault(throttle=5)
        answer = await router(maps_http, key="wrong" if fault == "key" else "test-maps-key").road_distance(
            [HELSINKI, ESPOO]
        )
        assert answer.source == "offline"
        assert answer.estimated
        assert answer.distance_m == pytest.approx(geodesic_m(*HELSINKI, *ESPOO) * 1.3)
        assert [line["message"] for line in parse(log_lines)].count("geo.route_failed") == 1

    async def test_too_few_usable_points_never_ask_google(
        self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake
    ) -> None:
        answer = await router(maps_http).road_distance([HELSINKI, (float("nan"), 0.0)])
        assert (answer.distance_m, answer.estimated) == (0, True)
        assert maps.calls["directions"] == 0


def test_sample_spreads_evenly_and_keeps_order() -> None:
    assert sample(list(range(10)), 20) == list(range(10))
    picked = sample(list(range(100)), 4)
    assert picked == [12, 37, 62, 87]
    assert sample([1, 2, 3], 0) == []


class TestBridgeGaps:
    async def test_only_the_dropouts_are_routed(self, maps_http: httpx.AsyncClient, maps: GoogleMapsFake) -> None:
        t0 = datetime(2026, 5, 4, 8, tzinfo=UTC)
        fixes = [Fix(60.17 + i * 0.001, 24.94, t0 + timedelta(seconds=10 * i), accuracy_m=5) for i in range(30)]
        holed = fixes[:10] + fixes[20:]
        measured = measure(holed)
        (gap,) = measured.gaps
        bridged = await bridge_gaps(measured, router(maps_http))
        assert (bridged.source, bridged.estimated) == ("google", False)
        # The fake's road is 1.25 × the straight line (haversine), so the gap adds a quarter of its length.
        assert bridged.distance_m == pytest.approx(measured.distance_m + gap.straight_m * 0.25, rel=1e-3)
        assert maps.calls["directions"] == 1

    async def test_without_dropouts_the_gps_length_stands(self) -> None:
        t0 = datetime(2026, 5, 4, 8, tzinfo=UTC)
        measured = measure([Fix(60.17 + i * 0.001, 24.94, t0 + timedelta(seconds=10 * i)) for i in range(10)])
        bridged = await bridge_gaps(measured, OfflineRouter())
        assert bridged == RoadDistance(distance_m=measured.distance_m, source="gps", estimated=False)
