"""Road distance for a track too sparse to measure: one protocol and the offline estimate."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from carpulse.geo.track import Measured, geodesic_m, is_position

__all__ = ["DEFAULT_DETOUR_FACTOR", "OfflineRouter", "RoadDistance", "Router", "bridge_gaps", "sample"]

# Road length over straight-line length between two places: circuity studies of road networks put it at
# roughly 1.2–1.4 (e.g. Ballou et al. 2002, Boscoe et al. 2012); 1.3 sits in between.
DEFAULT_DETOUR_FACTOR = 1.3
_Point = TypeVar("_Point")


@dataclass(frozen=True, slots=True)
class RoadDistance:
    distance_m: float
    source: str  # "google" | "offline" ("gps" from bridge_gaps when there was nothing to route)
    estimated: bool  # True for the offline default, which never saw a road


class Router(Protocol):
    async def road_distance(self, points: Sequence[tuple[float, float]]) -> RoadDistance:
        """The driving distance from the first point through the others to the last; never raises."""
        ...


def sample(points: Sequence[_Point], at_most: int) -> list[_Point]:
    """At most `at_most` of the points, evenly spread, in order."""
    if len(points) <= at_most:
        return list(points)
    if at_most <= 0:
        return []
    step = len(points) / at_most
    return [points[int(i * step + step / 2)] for i in range(at_most)]


class OfflineRouter:
    """The straight lines between the points times a detour factor: an estimate, and it says so."""

    source = "offline"

    def __init__(self, detour_factor: float = DEFAULT_DETOUR_FACTOR) -> None:
        self.detour_factor = detour_factor

    async def road_distance(self, points: Sequence[tuple[float, float]]) -> RoadDistance:
        usable = [point for point in points if is_position(*point)]
        straight = sum(geodesic_m(*a, *b) for a, b in itertools.pairwise(usable))
        return RoadDistance(distance_m=straight * self.detour_factor, source=self.source, estimated=True)


async def bridge_gaps(measured: Measured, router: Router) -> RoadDistance:
    """The track's length with each dropout's straight line replaced by the router's road between its ends:
    the rest of the track stays measured, only the legs nobody saw are routed."""
    distance, sources, estimated = measured.distance_m, [], False
    for gap in measured.gaps:
        a, b = measured.kept[gap.after], measured.kept[gap.after + 1]
        road = await router.road_distance([(a.lat, a.lon), (b.lat, b.lon)])
        # A road is never shorter than the straight line; an estimate below it would shorten a real track.
        distance += max(road.distance_m, gap.straight_m) - gap.straight_m
        sources.append(road.source)
        estimated = estimated or road.estimated
    return RoadDistance(distance_m=distance, source=sources[0] if sources else "gps", estimated=estimated)
