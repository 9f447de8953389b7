"""Trip geometry: distance accuracy on simulated drives (goal: worst case ≤ 1 %) and closing a trip of 10,000
fixes (goal: ≤ 100 ms).

(1) Each drive follows a known road built from straights and arcs on the WGS84 ellipsoid (so its true length
is exact): a city grid with right-angle corners and traffic lights, a suburb, a rural road, a motorway. The car
keeps to the speed limit, slows for curves (lateral acceleration ≤ 2.5 m/s²) and stops at lights; a phone
reports a fix every 10 s with Gaussian noise of σ = 10 m on each axis (accuracy 15 m, its 68 % radius), with
and without 1–3 dropouts of 1–5 minutes, with and without Doppler speed. `measure()` gives the distance; with
dropouts it also flags the track sparse and lists the gaps, so the row "gaps routed" replaces each gap's
straight line by the road between its ends (what a router answers; here the route's own length).

(2) Closing a trip: `measure()` (clean, length, simplify) + `zone_at` of both ends + geocoding both ends from a
warm cache (the Google geocoder over its fake, cached), against a plain haversine sum over the same fixes.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
from geographiclib.geodesic import Geodesic

from carpulse.geo.cache import CachedGeocoder
from carpulse.geo.google.adapter import GoogleGeocoder
from carpulse.geo.google.client import GoogleMapsClient
from carpulse.geo.track import Fix, Measured, measure
from carpulse.geo.zone import warm_up, zone_at
from carpulse.kit.ephemeral import MemoryEphemeralStore
from carpulse.kit.logs import configure_logging
from fakes.google_maps import GoogleMapsFake

WGS84 = Geodesic.WGS84
T0 = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
SIGMA_M = 10.0
ACCURACY_M = 15.0
EVERY_S = 10.0
DOPPLER_SIGMA = 0.3  # m/s
SEEDS = range(5)
FIXES_TO_CLOSE = 10_000

# (kind, length m, limit m/s) | (kind, radius m, turn °, limit m/s) | ("stop", seconds)
Element = tuple[str, float, float] | tuple[str, float, float, float] | tuple[str, float]


def _city(rng: random.Random, blocks: int, limit: float = 13.9) -> list[Element]:
    elements: list[Element] = []
    for _ in range(blocks):
        elements.append(("straight", rng.uniform(80, 400), limit))
        if rng.random() < 0.35:
            elements.append(("stop", rng.uniform(5, 60)))
        elements.append(("arc", rng.uniform(8, 20), rng.choice((-90.0, 90.0)), limit))
    return elements


def _rural(rng: random.Random, bends: int, limit: float = 22.2) -> list[Element]:
    elements: list[Element] = []
    for _ in range(bends):
        elements.append(("straight", rng.uniform(100, 1500), limit))
        elements.append(("arc", rng.uniform(150, 600), rng.uniform(-70, 70), limit))
    return elements


def _motorway(rng: random.Random, stretches: int) -> list[Element]:
    elements: list[Element] = [("straight", 300, 13.9), ("arc", 60, 120, 13.9)]  # the on-ramp
    for _ in range(stretches):
        elements.append(("straight", rng.uniform(1000, 5000), 33.3))
        elements.append(("arc", rng.uniform(800, 2500), rng.uniform(-40, 40), 33.3))
    elements += [("arc", 60, -90, 13.9), ("straight", 400, 13.9)]
    return elements


@dataclass(frozen=True)
class RouteKind:
    name: str
    start: tuple[float, float]
    build: Callable[[random.Random], list[Element]]


ROUTES = (
    RouteKind("Helsinki centre, grid", (60.1699, 24.9384), lambda rng: _city(rng, 30)),
    RouteKind("Espoo suburb + Kehä I", (60.2055, 24.6559), lambda rng: _city(rng, 15) + _rural(rng, 6, 16.7)),
    RouteKind("rural road, Uusimaa", (60.60, 24.80), lambda rng: _rural(rng, 20)),
    RouteKind("motorway Helsinki-Tampere", (60.30, 24.70), lambda rng: _motorway(rng, 12)),
)


@dataclass
class Drive:
    """A route's exact geometry (distance s → position) and the car's motion (time → s, speed)."""

    s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    t_knots: np.ndarray
    s_knots: np.ndarray
    v_knots: np.ndarray

    @property
    def length(self) -> float:
        return float(self.s[-1])

    @property
    def duration(self) -> float:
        return float(self.t_knots[-1])

    def s_at(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.t_knots, self.s_knots)

    def v_at(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.t_knots, self.v_knots)

    def position(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.interp(s, self.s, self.lat), np.interp(s, self.s, self.lon)


def _drive(kind: RouteKind, seed: int) -> Drive:
    rng = random.Random(seed)
    elements = kind.build(rng)
    lat, lon = kind.start
    azimuth = rng.uniform(0, 360)
    lats, lons, ss, limits, stops = [lat], [lon], [0.0], [], []
    for element in elements:
        if element[0] == "stop":
            stops.append((len(ss) - 1, float(element[1])))
            continue
        if element[0] == "straight":
            _, length, limit = element  # type: ignore[misc]
            turn, curve_limit = 0.0, limit
            step = 10.0
        else:
            _, radius, turn, limit = element  # type: ignore[misc]
            length = abs(radius * math.radians(turn))
            curve_limit = min(limit, math.sqrt(2.5 * radius))
            step = min(5.0, radius * 0.1)
        count = max(1, math.ceil(length / step))
        for _ in range(count):
            azimuth += turn / count / 2
            line = WGS84.Direct(lat, lon, azimuth, length / count)
            lat, lon = line["lat2"], line["lon2"]
            azimuth = line["azi2"] + turn / count / 2
            lats.append(lat)
            lons.append(lon)
            ss.append(ss[-1] + length / count)
            limits.append(curve_limit)
    s = np.array(ss)
    v = np.array([*limits, limits[-1]])
    v[0] = v[-1] = 0.0
    for index, _ in stops:
        v[index] = 0.0
    ds = np.diff(s)
    for i in range(1, len(v)):  # accelerate at ≤ 1.5 m/s², brake at ≤ 2.5 m/s²
        v[i] = min(v[i], math.sqrt(v[i - 1] ** 2 + 2 * 1.5 * ds[i - 1]))
    for i in range(len(v) - 2, -1, -1):
        v[i] = min(v[i], math.sqrt(v[i + 1] ** 2 + 2 * 2.5 * ds[i]))
    dwell = dict(stops)
    t_knots, s_knots, v_knots = [0.0], [0.0], [0.0]
    for i in range(1, len(s)):
        t_knots.append(t_knots[-1] + ds[i - 1] / max((v[i] + v[i - 1]) / 2, 0.3))
        s_knots.append(float(s[i]))
        v_knots.append(float(v[i]))
        if i in dwell:
            t_knots.append(t_knots[-1] + dwell[i])
            s_knots.append(float(s[i]))
            v_knots.append(0.0)
    return Drive(s, np.array(lats), np.array(lons), np.array(t_knots), np.array(s_knots), np.array(v_knots))


def _phone(
    drive: Drive, rng: np.random.Generator, *, every: float, dropouts: list[tuple[float, float]], doppler: bool
) -> tuple[list[Fix], np.ndarray]:
    """The fixes a phone reports, and the true road position s of each."""
    t = np.append(np.arange(0.0, drive.duration, every), drive.duration)
    for start, end in dropouts:
        t = t[(t <= start) | (t >= end)]
    s = drive.s_at(t)
    lat, lon = drive.position(s)
    metres_per_degree_lat = 111_132.0 - 559.8 * np.cos(np.radians(2 * lat))
    metres_per_degree_lon = 111_412.8 * np.cos(np.radians(lat))
    lat = lat + rng.normal(0, SIGMA_M, len(t)) / metres_per_degree_lat
    lon = lon + rng.normal(0, SIGMA_M, len(t)) / metres_per_degree_lon
    speed = np.abs(drive.v_at(t) + rng.normal(0, DOPPLER_SIGMA, len(t)))
    fixes = [
        Fix(
            float(a),
            float(b),
            T0 + timedelta(seconds=float(c)),
            accuracy_m=ACCURACY_M,
            speed_mps=float(d) if doppler else None,
        )
        for a, b, c, d in zip(lat, lon, t, speed, strict=True)
    ]
    return fixes, s


def _routed_gaps(measured: Measured, drive: Drive) -> float:
    """The distance with each gap's straight line replaced by the road between its ends."""
    distance = measured.distance_m
    for gap in measured.gaps:
        a, b = measured.kept[gap.after], measured.kept[gap.after + 1]
        ta, tb = ((fix.at - T0).total_seconds() for fix in (a, b))
        road = float(drive.s_at(np.array([tb]))[0] - drive.s_at(np.array([ta]))[0])
        distance += road - gap.straight_m
    return distance


def _accuracy() -> None:
    print(
        f"Trip distance vs the road's true length ({len(SEEDS)} drives per road, a fix every {EVERY_S:.0f} s, "
        f"σ {SIGMA_M:.0f} m per axis; worst |error|, goal ≤ 1 %)"
    )
    header = f"  {'road':<28} {'km':>10}  {'GPS only':>9} {'+Doppler':>9}  {'dropouts:':<10}"
    print(header + f"{'GPS only':>9} {'+Doppler':>9} {'gaps routed':>12} {'sparse':>7} {'not sparse':>11}")
    overall: dict[str, float] = {}
    for kind in ROUTES:
        worst: dict[str, float] = {}
        lengths, flagged = [], 0
        for seed in SEEDS:
            drive = _drive(kind, seed)
            lengths.append(drive.length / 1000)
            planner = random.Random(seed + 1000)
            dropouts = []
            for _ in range(planner.randint(1, 3)):
                start = planner.uniform(0.1, 0.8) * drive.duration
                dropouts.append((start, start + planner.uniform(60, 300)))
            for label, holes, doppler in (
                ("clean", [], False),
                ("clean+speed", [], True),
                ("holed", dropouts, False),
                ("holed+speed", dropouts, True),
            ):
                fixes, _ = _phone(drive, np.random.default_rng(seed), every=EVERY_S, dropouts=holes, doppler=doppler)
                measured = measure(fixes)
                errors = {label: measured.distance_m}
                if label == "holed":
                    errors["routed"] = _routed_gaps(measured, drive)
                    flagged += measured.sparse
                    if not measured.sparse:
                        errors["trusted"] = measured.distance_m
                for name, distance in errors.items():
                    error = abs(distance - drive.length) / drive.length * 100
                    worst[name] = max(worst.get(name, 0.0), error)
                    overall[name] = max(overall.get(name, 0.0), error)
        span = f"{min(lengths):.0f}–{max(lengths):.0f}"
        print(
            f"  {kind.name:<28} {span:>10}  {worst['clean']:8.2f}% {worst['clean+speed']:8.2f}%  {'':<10}"
            f"{worst['holed']:8.2f}% {worst['holed+speed']:8.2f}% {worst['routed']:11.2f}% {flagged:>4}/{len(SEEDS)}"
            f" {worst.get('trusted', 0.0):10.2f}%"
        )
    print(
        f"  {'worst of all':<28} {'':>10}  {overall['clean']:8.2f}% {overall['clean+speed']:8.2f}%  {'':<10}"
        f"{overall['holed']:8.2f}% {overall['holed+speed']:8.2f}% {overall['routed']:11.2f}% {'':>7}"
        f" {overall.get('trusted', 0.0):10.2f}%"
    )
    print(
        "  (dropouts: GPS only = what measure() gives; gaps routed = each gap's straight line replaced by the road "
        "between its ends, as bridge_gaps() does with a router; sparse = drives measure() flagged; not sparse = "
        "worst error among the others)"
    )


def _haversine_sum(fixes: list[Fix]) -> float:
    total = 0.0
    for a, b in itertools.pairwise(fixes):
        la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
        h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
        total += 2 * 6_371_008.8 * math.asin(math.sqrt(h))
    return total


async def _close(fixes: list[Fix], geocoder: CachedGeocoder) -> Measured:
    measured = measure(fixes)
    first, last = measured.kept[0], measured.kept[-1]
    zone_at(first.lat, first.lon)
    zone_at(last.lat, last.lon)
    await geocoder.reverse(first.lat, first.lon)
    await geocoder.reverse(last.lat, last.lon)
    return measured


def _closing() -> None:
    warm_up()
    # A motorway drive from Mannerheimintie (a street address) out of town (no address: kept as "nothing there"),
    # a fix every ~0.2 s for 10,000 fixes.
    drive = _drive(RouteKind("from Helsinki", (60.1733, 24.9375), ROUTES[3].build), 0)
    fixes, _ = _phone(
        drive, np.random.default_rng(1), every=drive.duration / (FIXES_TO_CLOSE - 1), dropouts=[], doppler=True
    )
    fixes = fixes[:FIXES_TO_CLOSE]
    maps = GoogleMapsFake()

    async def run() -> tuple[list[float], list[float], Measured]:
        transport = httpx.ASGITransport(app=maps.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://maps") as http:
            client = GoogleMapsClient(http, api_key="sandbox-maps-key", api_base="http://maps")
            geocoder = CachedGeocoder(GoogleGeocoder(client), MemoryEphemeralStore(), source="google", ttl_seconds=3600)
            measured = await _close(fixes, geocoder)  # warms the cache
            closing, baseline = [], []
            for _ in range(15):
                started = time.perf_counter()
                await _close(fixes, geocoder)
                closing.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                _haversine_sum(fixes)
                baseline.append((time.perf_counter() - started) * 1000)
            return closing, baseline, measured

    closing, baseline, measured = asyncio.run(run())
    median, base = statistics.median(closing), statistics.median(baseline)
    print(f"Closing a trip of {len(fixes):,} fixes (goal ≤ 100 ms; Google geocoder over its fake, warm cache)")
    print(f"  plain haversine sum over the fixes (baseline)  p50 {base:7.2f} ms")
    print(
        f"  measure + simplify + 2 zones + 2 addresses     p50 {median:7.2f} ms   max {max(closing):7.2f} ms   "
        f"×{median / base:5.2f} of baseline"
    )
    print(
        f"  kept {len(measured.kept):,} of {len(fixes):,} fixes, {len(measured.simplified):,} after simplification "
        f"(5 m); calls to the geocoding fake: {maps.calls['geocode']} (the first close, both ends)"
    )


def run() -> None:
    _accuracy()
    _closing()


if __name__ == "__main__":
    configure_logging("WARNING")
    run()
