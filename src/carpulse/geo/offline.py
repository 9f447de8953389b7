"""The offline geocoder: the nearest town of the GeoNames set the `reverse-geocode` package ships (city level)."""

from __future__ import annotations

import asyncio
from typing import Any

import reverse_geocode

from carpulse.geo.address import Address, GeocodingFailed, reverse_or_none
from carpulse.geo.track import geodesic_m, is_position

__all__ = ["OfflineGeocoder"]


class OfflineGeocoder:
    """City-level addresses without a network; a position farther than `max_distance_m` from any town has none."""

    source = "offline"

    def __init__(self, max_distance_m: float = 50_000.0) -> None:
        self.max_distance_m = max_distance_m
        self._data: Any = None
        self._loading = asyncio.Lock()

    @staticmethod
    def _load() -> Any:
        # Builds a KD-tree over ~150,000 towns: about a second, so the first call runs it in a thread.
        return reverse_geocode.GeocodeData()

    async def reverse(self, lat: float, lon: float) -> Address | None:
        return await reverse_or_none(self, lat, lon)

    async def lookup(self, lat: float, lon: float) -> Address | None:
        if not is_position(lat, lon):
            return None
        if self._data is None:
            async with self._loading:
                if self._data is None:
                    self._data = await asyncio.to_thread(self._load)
        try:
            (place,) = self._data.query([(lat, lon)])
        except ValueError as exc:
            raise GeocodingFailed("offline-lookup-failed", type(exc).__name__) from exc
        if geodesic_m(lat, lon, place["latitude"], place["longitude"]) > self.max_distance_m:
            return None
        city, country = place.get("city") or None, place.get("country") or None
        return Address(
            label=", ".join(part for part in (city, country) if part),
            street=None,
            house_number=None,
            postcode=None,
            city=city,
            country_code=place.get("country_code") or None,
            source=self.source,
            precision="city",
        )
