"""Reverse geocoding: one protocol, the address value, and the street-level label people read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from carpulse.kit.logs import get_logger

__all__ = ["Address", "Geocoder", "GeocodingFailed", "Lookup", "Precision", "Source", "reverse_or_none", "street_label"]

log = get_logger("carpulse.geo")

Source = Literal["google", "nominatim", "offline"]
Precision = Literal["street", "city"]


@dataclass(frozen=True, slots=True)
class Address:
    label: str  # one line for people, e.g. "Mannerheimintie 1, 00100 Helsinki"
    street: str | None
    house_number: str | None
    postcode: str | None
    city: str | None
    country_code: str | None  # ISO 3166-1 alpha-2
    source: str  # "google" | "nominatim" | "offline"
    precision: str  # "street" | "city"

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Address:
        values: dict[str, Any] = json.loads(text)
        return cls(
            label=str(values["label"]),
            street=values.get("street"),
            house_number=values.get("house_number"),
            postcode=values.get("postcode"),
            city=values.get("city"),
            country_code=values.get("country_code"),
            source=str(values["source"]),
            precision=str(values["precision"]),
        )


class Geocoder(Protocol):
    async def reverse(self, lat: float, lon: float) -> Address | None:
        """The address at a position, or None when there is none or the service failed (logged, never raised)."""
        ...


class GeocodingFailed(Exception):
    """The service could not answer (down, refused, over quota): unlike "nothing there", worth asking again."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


class Lookup(Protocol):
    """A geocoder that tells a failure (raised) from an empty answer (None), so a cache can keep the latter."""

    source: str

    async def lookup(self, lat: float, lon: float) -> Address | None: ...


async def reverse_or_none(geocoder: Lookup, lat: float, lon: float) -> Address | None:
    """`Geocoder.reverse` for a `Lookup`: a failure is logged (never the position) and answers None."""
    try:
        return await geocoder.lookup(lat, lon)
    except GeocodingFailed as exc:
        log.warning("geo.reverse_failed", source=geocoder.source, error=exc.reason, detail=exc.detail)
        return None


# Countries that write the house number before the street ("1600 Amphitheatre Parkway").
_NUMBER_FIRST = frozenset({"US", "CA", "GB", "IE", "AU", "NZ", "FR", "LU", "IL", "PH", "MY", "SG", "ZA", "IN"})


def street_label(
    street: str | None, house_number: str | None, postcode: str | None, city: str | None, country_code: str | None
) -> str:
    """'Mannerheimintie 1, 00100 Helsinki'; the number goes first where the country writes it so."""
    parts = []
    if street:
        first = (country_code or "").upper() in _NUMBER_FIRST
        line = f"{house_number} {street}" if first else f"{street} {house_number}"
        parts.append(line if house_number else street)
    place = " ".join(part for part in (postcode, city) if part)
    if place:
        parts.append(place)
    return ", ".join(parts)
