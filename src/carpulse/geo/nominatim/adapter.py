"""Nominatim's places as our `Address`, through the `Geocoder` protocol (failures logged, never raised)."""

from __future__ import annotations

from carpulse.geo.address import Address, GeocodingFailed, reverse_or_none, street_label
from carpulse.geo.nominatim.client import NominatimClient
from carpulse.geo.nominatim.errors import NominatimError
from carpulse.geo.track import is_position

__all__ = ["NominatimGeocoder"]


class NominatimGeocoder:
    source = "nominatim"

    def __init__(self, client: NominatimClient) -> None:
        self.client = client

    async def reverse(self, lat: float, lon: float) -> Address | None:
        return await reverse_or_none(self, lat, lon)

    async def lookup(self, lat: float, lon: float) -> Address | None:
        if not is_position(lat, lon):
            return None
        try:
            place = await self.client.reverse(lat, lon)
        except NominatimError as exc:
            raise GeocodingFailed(exc.slug, str(exc)) from exc
        if place is None:
            return None
        found = place.address
        country_code = found.country_code.upper() if found.country_code else None
        street, city = found.street, found.place
        label = street_label(street, found.house_number, found.postcode, city, country_code)
        return Address(
            label=label or place.display_name or "",
            street=street,
            house_number=found.house_number,
            postcode=found.postcode,
            city=city,
            country_code=country_code,
            source=self.source,
            precision="street" if street else "city",
        )
