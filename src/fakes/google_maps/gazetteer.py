"""A small gazetteer of real streets (approximate centre lines) in Helsinki, Espoo, Tampere, Berlin and Amsterdam,
shared by the geocoding fakes: a position near a street gets a house number along it, one inside a town only the
town, anything else nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["CITIES", "STREETS", "City", "Found", "Street", "distance_m", "find"]

STREET_REACH_M = 150.0  # farther from every street than this, a position gets the town only


@dataclass(frozen=True)
class City:
    name: str
    state: str
    country: str
    country_code: str
    local_country: str  # as OpenStreetMap names it
    centre: tuple[float, float]
    radius_m: float


@dataclass(frozen=True)
class Street:
    name: str
    city: str
    postcode: str
    numbers: tuple[int, int]  # first and last house number along the line
    line: tuple[tuple[float, float], ...]


CITIES: dict[str, City] = {
    city.name: city
    for city in (
        City("Helsinki", "Uusimaa", "Finland", "FI", "Suomi / Finland", (60.1920, 24.9450), 10_000),
        City("Espoo", "Uusimaa", "Finland", "FI", "Suomi / Finland", (60.1900, 24.7600), 14_000),
        City("Tampere", "Pirkanmaa", "Finland", "FI", "Suomi / Finland", (61.4978, 23.7610), 12_000),
        City("Berlin", "Berlin", "Germany", "DE", "Deutschland", (52.5200, 13.4050), 20_000),
        City("Amsterdam", "Noord-Holland", "Netherlands", "NL", "Nederland", (52.3676, 4.9041), 10_000),
    )
}

STREETS: tuple[Street, ...] = (
    Street(
        "Mannerheimintie",
        "Helsinki",
        "00100",
        (1, 100),
        ((60.1686, 24.9410), (60.1733, 24.9375), (60.1790, 24.9290), (60.1880, 24.9195)),
    ),
    Street("Aleksanterinkatu", "Helsinki", "00100", (1, 52), ((60.1688, 24.9430), (60.1695, 24.9520))),
    Street("Pohjoisesplanadi", "Helsinki", "00100", (1, 51), ((60.1679, 24.9447), (60.1677, 24.9520))),
    Street("Hämeentie", "Helsinki", "00530", (1, 150), ((60.1800, 24.9530), (60.1870, 24.9640), (60.1950, 24.9750))),
    Street(
        "Mechelininkatu", "Helsinki", "00100", (1, 60), ((60.1690, 24.9190), (60.1780, 24.9140), (60.1850, 24.9120))
    ),
    Street("Ratapihantie", "Helsinki", "00520", (1, 13), ((60.1985, 24.9330), (60.2000, 24.9380))),
    Street("Otakaari", "Espoo", "02150", (1, 24), ((60.1865, 24.8240), (60.1880, 24.8330))),
    Street("Keilaranta", "Espoo", "02150", (1, 20), ((60.1755, 24.8280), (60.1790, 24.8360))),
    Street("Leppävaarankatu", "Espoo", "02600", (1, 10), ((60.2185, 24.8120), (60.2210, 24.8190))),
    Street("Tapiontori", "Espoo", "02100", (1, 5), ((60.1755, 24.8050), (60.1760, 24.8075))),
    Street("Hämeenkatu", "Tampere", "33100", (1, 40), ((61.4985, 23.7605), (61.4980, 23.7775))),
    Street("Hatanpään valtatie", "Tampere", "33100", (1, 50), ((61.4955, 23.7690), (61.4850, 23.7700))),
    Street("Itsenäisyydenkatu", "Tampere", "33500", (1, 30), ((61.5020, 23.7800), (61.5050, 23.7950))),
    Street("Unter den Linden", "Berlin", "10117", (1, 80), ((52.5163, 13.3790), (52.5176, 13.3970))),
    Street(
        "Friedrichstraße", "Berlin", "10117", (1, 200), ((52.5250, 13.3880), (52.5160, 13.3890), (52.5070, 13.3905))
    ),
    Street(
        "Karl-Marx-Allee", "Berlin", "10243", (1, 150), ((52.5200, 13.4160), (52.5170, 13.4300), (52.5140, 13.4430))
    ),
    Street("Kurfürstendamm", "Berlin", "10719", (1, 230), ((52.5040, 13.3370), (52.5010, 13.3200), (52.4990, 13.3000))),
    Street("Damrak", "Amsterdam", "1012 LG", (1, 97), ((52.3779, 4.8995), (52.3730, 4.8935))),
    Street(
        "Prinsengracht",
        "Amsterdam",
        "1016 GV",
        (1, 1100),
        ((52.3800, 4.8855), (52.3740, 4.8830), (52.3660, 4.8850), (52.3610, 4.8900)),
    ),
    Street(
        "Stadhouderskade", "Amsterdam", "1072 AA", (1, 100), ((52.3620, 4.8790), (52.3595, 4.8890), (52.3580, 4.8960))
    ),
    Street("Kalverstraat", "Amsterdam", "1012 NX", (1, 250), ((52.3730, 4.8915), (52.3675, 4.8915))),
)


@dataclass(frozen=True)
class Found:
    city: City
    street: Street | None = None
    house_number: int | None = None
    at: tuple[float, float] | None = None  # the point on the street the number belongs to


def _local(origin: tuple[float, float], point: tuple[float, float]) -> tuple[float, float]:
    scale = 111_320.0
    return (
        (point[1] - origin[1]) * scale * math.cos(math.radians(origin[0])),
        (point[0] - origin[0]) * scale,
    )


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (a fake needs no ellipsoid)."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(h)))


def _on_street(street: Street, point: tuple[float, float]) -> tuple[float, int, tuple[float, float]]:
    """(distance to the line, house number there, the nearest point on the line); odd numbers on the left."""
    best: tuple[float, float, float, tuple[float, float]] | None = None  # distance, along, side, foot
    total = 0.0
    for a, b in zip(street.line, street.line[1:], strict=False):
        bx, by = _local(a, b)
        px, py = _local(a, point)
        length = math.hypot(bx, by)
        t = max(0.0, min(1.0, (px * bx + py * by) / (length * length)))
        fx, fy = t * bx, t * by
        gap = math.hypot(px - fx, py - fy)
        side = bx * py - by * px
        foot = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        if best is None or gap < best[0]:
            best = (gap, total + t * length, side, foot)
        total += length
    assert best is not None
    gap, along, side, foot = best
    first, last = street.numbers
    number = first + round(along / total * (last - first)) if total else first
    if (number % 2 == 1) != (side > 0):
        number = number + 1 if number < last else number - 1
    return gap, max(first, number), foot


def find(lat: float, lon: float) -> Found | None:
    point = (lat, lon)
    streets = [(street, *_on_street(street, point)) for street in STREETS]
    street, gap, number, foot = min(streets, key=lambda item: item[1])
    if gap <= STREET_REACH_M:
        return Found(CITIES[street.city], street, number, foot)
    towns = [(distance_m(point, city.centre), city) for city in CITIES.values()]
    within, city = min(towns, key=lambda item: item[0])
    return Found(city) if within <= city.radius_m else None
