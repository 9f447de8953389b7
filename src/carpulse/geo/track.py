"""A trip's GPS track: cleaned, measured and simplified (pure and synchronous, for a trip of 10,000 fixes in ms).

Facts behind the thresholds: shared/reference/logbook-and-battery.md §2.3. The length is taken from the
cleaned fixes before simplification, since Ramer–Douglas–Peucker cuts corners.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
from geographiclib.geodesic import Geodesic
from simplification.cutil import simplify_coords_idx

__all__ = ["Fix", "Gap", "Measured", "geodesic_m", "is_position", "measure"]

# WGS84, for the radii of curvature of the short-step formula below.
_A = 6378137.0
_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)
_WGS84 = Geodesic.WGS84

MAX_SPEED_MPS = 70.0  # 252 km/h between two fixes: anything faster is a bad fix
STATIONARY_SPEED_MPS = 1.0  # phones report 1–3 km/h while standing still
DEFAULT_ACCURACY_M = 15.0  # a phone's "poor" accuracy, assumed for fixes that report none
# Phones report accuracy as the radius holding 68 % of fixes; for a circular Gaussian that is 1.51 σ per axis.
ACCURACY_PER_SIGMA = 1.51
STOP_RADIUS_SIGMAS = 3.0  # two fixes of a parked car lie this many σ of their difference apart at most (99 %)
SPIKE_TURN_COS = -0.866  # a fix the track reaches and leaves again by turning more than 150° …
SPIKE_MIN_M = 50.0  # … this far away (or 3 σ, if more) is a reflection, not a U-turn
GAP_SECONDS = 60.0  # a dropout: map matchers split traces at gaps over 60 s
SPARSE_GAP_SHARE = 0.2  # when dropouts' straight lines make up this share of the length, it underestimates …
SPARSE_GAP_TIME_SHARE = 0.15  # … and so when dropouts last this share of the trip (a road may loop back)
EXACT_STEP_M = 20_000.0  # longer steps are measured on the ellipsoid exactly (the short-step formula drifts)


@dataclass(frozen=True, slots=True)
class Fix:
    lat: float
    lon: float
    at: datetime  # UTC, aware
    accuracy_m: float | None = None
    altitude_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """A dropout between `kept[after]` and the next fix: its length is the straight line, which underestimates."""

    after: int
    seconds: float
    straight_m: float


@dataclass(frozen=True, slots=True)
class Measured:
    distance_m: float  # length of the cleaned track (computed before simplification)
    kept: list[Fix]  # cleaned fixes in time order
    simplified: list[Fix]  # RDP-simplified for storage and maps (ends always kept)
    dropped: int  # fixes dropped by cleaning
    sparse: bool  # too sparse to trust: the caller asks a router for the road distance
    gaps: tuple[Gap, ...] = ()  # dropouts over GAP_SECONDS, so a caller can route just those legs


def is_position(lat: float, lon: float) -> bool:
    """Whether the pair is a real WGS84 position (finite, latitude within ±90°, longitude within ±180°)."""
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def geodesic_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """The distance in metres on the WGS84 ellipsoid (Karney's algorithm, exact to nanometres)."""
    distance: float = _WGS84.Inverse(a_lat, a_lon, b_lat, b_lon, Geodesic.DISTANCE)["s12"]
    return distance


def _radii(lat: float) -> tuple[float, float]:
    """Meridional and prime-vertical radii of curvature (m) at `lat`."""
    s = math.sin(math.radians(lat))
    w = math.sqrt(1 - _E2 * s * s)
    return _A * (1 - _E2) / (w * w * w), _A / w


def _offset(a: Fix, b: Fix) -> tuple[float, float]:
    """b − a in metres east and north, on the ellipsoid's tangent plane at their mid-latitude."""
    return _delta(a.lat, a.lon, b.lat, b.lon)


def _delta(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> tuple[float, float]:
    mid = math.radians((a_lat + b_lat) / 2)
    sin_mid = math.sin(mid)
    w2 = 1 - _E2 * sin_mid * sin_mid
    vertical = _A / math.sqrt(w2)
    dlon = b_lon - a_lon
    if not -180.0 <= dlon <= 180.0:
        dlon = (dlon + 540.0) % 360.0 - 180.0
    return vertical * math.cos(mid) * math.radians(dlon), vertical * (1 - _E2) / w2 * math.radians(b_lat - a_lat)


def _step_m(a: Fix, b: Fix) -> float:
    # Error of the tangent-plane step below 1e-6 for steps of a few km; long ones go to the exact solver.
    east, north = _offset(a, b)
    step = math.hypot(east, north)
    return step if step < EXACT_STEP_M else geodesic_m(a.lat, a.lon, b.lat, b.lon)


def _sigma(fix: Fix) -> float:
    accuracy = fix.accuracy_m if fix.accuracy_m is not None else DEFAULT_ACCURACY_M
    return accuracy / ACCURACY_PER_SIGMA


def _seconds(a: Fix, b: Fix) -> float:
    return (b.at - a.at).total_seconds()


def _in_utc(fix: Fix) -> Fix:
    if fix.at.tzinfo is UTC:
        return fix
    return replace(fix, at=fix.at.replace(tzinfo=UTC) if fix.at.tzinfo is None else fix.at.astimezone(UTC))


def _usable(fix: Fix, max_accuracy_m: float) -> bool:
    if not is_position(fix.lat, fix.lon):
        return False
    accuracy = fix.accuracy_m
    return accuracy is None or (math.isfinite(accuracy) and 0 <= accuracy <= max_accuracy_m)


def _order_key(fix: Fix) -> tuple[datetime, float, float, float, float, float, float]:
    """Time first; for one instant the most accurate fix first, then any total order, so input order never matters."""

    def value(number: float | None) -> float:
        return math.inf if number is None or math.isnan(number) else number

    return (
        fix.at,
        value(fix.accuracy_m),
        fix.lat,
        fix.lon,
        value(fix.speed_mps),
        value(fix.heading_deg),
        value(fix.altitude_m),
    )


def _plausible(a: Fix, b: Fix) -> bool:
    # The fixes' own uncertainty is allowed for, so two close fixes a second apart are never "too fast".
    slack = 2 * (_sigma(a) + _sigma(b))
    return max(0.0, _step_m(a, b) - slack) <= MAX_SPEED_MPS * _seconds(a, b)


def _drop_impossible(fixes: list[Fix]) -> list[Fix]:
    """Drop fixes that could only be reached faster than MAX_SPEED_MPS; when two fixes in a row agree with each
    other but not with the last kept one, that one was the stray (e.g. a stale first fix) and goes instead."""
    kept: list[Fix] = []
    rejected: Fix | None = None
    for fix in fixes:
        if not kept or _plausible(kept[-1], fix):
            kept.append(fix)
            rejected = None
        elif rejected is not None and _plausible(rejected, fix):
            kept.pop()
            if not kept or _plausible(kept[-1], rejected):
                kept.append(rejected)
            kept.append(fix)
            rejected = None
        else:
            rejected = fix
    return kept


def _drop_spikes(fixes: list[Fix]) -> list[Fix]:
    """Drop single fixes the track runs out to and straight back from (multipath reflections)."""
    if len(fixes) < 3:
        return fixes
    kept = [fixes[0]]
    for here, after in itertools.pairwise(fixes[1:]):
        before = kept[-1]
        ux, uy = _offset(before, here)
        wx, wy = _offset(here, after)
        out, back = math.hypot(ux, uy), math.hypot(wx, wy)
        reach = max(SPIKE_MIN_M, 3 * _sigma(here))
        if out > reach and back > reach and (ux * wx + uy * wy) / (out * back) < SPIKE_TURN_COS:
            continue
        kept.append(here)
    kept.append(fixes[-1])
    return kept


def _stationary(fix: Fix) -> bool:
    return fix.speed_mps is None or fix.speed_mps < STATIONARY_SPEED_MPS


class _Stop:
    """Fixes gathered around a running centroid; the centroid's own σ shrinks with each member."""

    def __init__(self, first: Fix) -> None:
        self.members = [first]
        self.lat, self.lon = first.lat, first.lon
        self.variance_sum = _sigma(first) ** 2

    @property
    def sigma(self) -> float:
        return math.sqrt(self.variance_sum) / len(self.members)

    def holds(self, fix: Fix) -> bool:
        if not _stationary(fix):
            return False
        east, north = _delta(self.lat, self.lon, fix.lat, fix.lon)
        return math.hypot(east, north) <= STOP_RADIUS_SIGMAS * math.hypot(self.sigma, _sigma(fix))

    def add(self, fix: Fix) -> None:
        count = len(self.members)
        self.lat = (self.lat * count + fix.lat) / (count + 1)
        self.lon = (self.lon * count + fix.lon) / (count + 1)
        self.members.append(fix)
        self.variance_sum += _sigma(fix) ** 2


def _collapse_stops(fixes: list[Fix]) -> tuple[list[Fix], list[float], list[bool]]:
    """Fixes that stay within noise of their running centroid while not moving become two fixes at the centroid
    (the stop's first and last instants), so jitter adds no length; for a car that was in fact creeping the
    centroids lie on its path and the length is kept. A single fix straying out of the radius ends the stop only
    if the next ones stay out too (3 σ is crossed by 1 % of a parked phone's fixes, and its speed jitters).

    Returns the fixes, each one's positional σ (a centroid's is smaller), and whether it closes a stop begun by
    the fix before it."""
    out: list[Fix] = []
    sigmas: list[float] = []
    closes: list[bool] = []
    i, n = 0, len(fixes)
    while i < n:
        stop = _Stop(fixes[i])
        j = i + 1
        while j < n:
            if stop.holds(fixes[j]):
                stop.add(fixes[j])
                j += 1
                continue
            back = next((k for k in (j + 1, j + 2) if k < n and stop.holds(fixes[k])), None)
            if back is None:
                break
            for fix in fixes[j : back + 1]:
                stop.add(fix)
            j = back + 1
        if len(stop.members) < 2:
            out.append(fixes[i])
            sigmas.append(_sigma(fixes[i]))
            closes.append(False)
            i += 1
            continue
        out.append(replace(stop.members[0], lat=stop.lat, lon=stop.lon))
        out.append(replace(stop.members[-1], lat=stop.lat, lon=stop.lon))
        sigmas.extend((stop.sigma, stop.sigma))
        closes.extend((False, True))
        i = j
    return out, sigmas, closes


def _length(fixes: list[Fix], sigmas: list[float], closes_stop: list[bool]) -> tuple[float, list[Gap]]:
    """Sum of steps; a step's straight line loses its expected noise bias, or the fixes' speeds are integrated
    when both report one (Doppler speed neither cuts corners nor adds noise)."""
    total = 0.0
    gaps: list[Gap] = []
    for index in range(1, len(fixes)):
        if closes_stop[index]:
            continue
        a, b = fixes[index - 1], fixes[index]
        straight = _step_m(a, b)
        seconds = _seconds(a, b)
        if seconds > GAP_SECONDS:
            gaps.append(Gap(after=index - 1, seconds=seconds, straight_m=straight))
            total += straight
            continue
        # Noise across the step lengthens it by about σ²/(2 d) (σ² the variance of the difference across it).
        spread = sigmas[index - 1] ** 2 + sigmas[index] ** 2
        corrected = (
            straight - spread / (2 * straight) if straight > STOP_RADIUS_SIGMAS * math.sqrt(spread) else straight
        )
        if a.speed_mps is not None and b.speed_mps is not None and a.speed_mps >= 0 and b.speed_mps >= 0:
            travelled = (a.speed_mps + b.speed_mps) / 2 * seconds
            # A speed that cannot have covered the straight line (stuck at 0, stale) is not believed.
            if travelled >= corrected - STOP_RADIUS_SIGMAS * math.sqrt(spread):
                total += travelled
                continue
        total += corrected
    return total, gaps


def _simplify(fixes: list[Fix], tolerance_m: float) -> list[Fix]:
    if len(fixes) < 3 or tolerance_m <= 0:
        return list(fixes)
    lat0 = sum(fix.lat for fix in fixes) / len(fixes)
    meridional, vertical = _radii(lat0)
    east_per_degree = math.radians(1) * vertical * math.cos(math.radians(lat0))
    north_per_degree = math.radians(1) * meridional
    lon0 = fixes[0].lon
    points = np.array(
        [[((fix.lon - lon0 + 540.0) % 360.0 - 180.0) * east_per_degree, fix.lat * north_per_degree] for fix in fixes],
        dtype=np.float64,
    )
    indices = simplify_coords_idx(points, tolerance_m)
    return [fixes[int(index)] for index in indices]


def measure(fixes: Sequence[Fix], *, max_accuracy_m: float = 50.0, simplify_tolerance_m: float = 5.0) -> Measured:
    """Clean a track (poor accuracy, duplicate instants, impossible speeds, spikes, parked jitter), measure its
    length and simplify it for storage; the input may come in any order."""
    usable = sorted(
        (_in_utc(fix) for fix in fixes if _usable(fix, max_accuracy_m)),
        key=_order_key,
    )
    unique: list[Fix] = []
    for fix in usable:
        if not unique or fix.at != unique[-1].at:
            unique.append(fix)
    cleaned = _drop_spikes(_drop_impossible(unique))
    kept, sigmas, closes_stop = _collapse_stops(cleaned)
    distance, gaps = _length(kept, sigmas, closes_stop)
    in_gaps = sum(gap.straight_m for gap in gaps)
    gap_seconds = sum(gap.seconds for gap in gaps)
    seconds = _seconds(kept[0], kept[-1]) if kept else 0.0
    sparse = (
        len(kept) < 3
        or (distance > 0 and in_gaps > SPARSE_GAP_SHARE * distance)
        or (seconds > 0 and gap_seconds > SPARSE_GAP_TIME_SHARE * seconds)
    )
    return Measured(
        distance_m=distance,
        kept=kept,
        simplified=_simplify(kept, simplify_tolerance_m),
        dropped=len(fixes) - len(kept),
        sparse=sparse,
        gaps=tuple(gaps),
    )
