"""Google's answers as our types: a `Geocoder` and a `Router` that never fail a trip."""

from __future__ import annotations

from collections.abc import Sequence

from carpulse.geo.address import Address, GeocodingFailed, reverse_or_none
from carpulse.geo.google.client import MAX_WAYPOINTS, GoogleMapsClient
from carpulse.geo.google.errors import GoogleMapsError
from carpulse.geo.google.schemas import GeocodeResult
from carpulse.geo.route import RoadDistance, Router, sample
from carpulse.geo.track import is_position
from carpulse.kit.logs import get_logger

__all__ = ["GoogleDirectionsRouter", "GoogleGeocoder", "address_of"]

log = get_logger("carpulse.geo")

# Where a town is named when `locality` is missing (UK postal towns, some rural areas).
_TOWN_TYPES = ("locality", "postal_town", "administrative_area_level_3", "sublocality")


def address_of(result: GeocodeResult) -> Address:
    street = result.component("route")
    country_code = result.component("country", short=True)
    town = next((name for kind in _TOWN_TYPES if (name := result.component(kind))), None)
    label = result.formatted_address
    parts = label.split(", ")
    # Google ends every formatted address with the country; for people in that country it is noise.
    if country_code and len(parts) > 1:
        label = ", ".join(parts[:-1])
    return Address(
        label=label or town or "",
        street=street,
        house_number=result.component("street_number"),
        postcode=result.component("postal_code"),
        city=town,
        country_code=country_code,
        source="google",
        precision="street" if street else "city",
    )


class GoogleGeocoder:
    source = "google"

    def __init__(self, client: GoogleMapsClient) -> None:
        self.client = client

    async def reverse(self, lat: float, lon: float) -> Address | None:
        return await reverse_or_none(self, lat, lon)

    async def lookup(self, lat: float, lon: float) -> Address | None:
        if not is_position(lat, lon):
            return None
        try:
            results = await self.client.reverse_geocode(lat, lon)
        except GoogleMapsError as exc:
            raise GeocodingFailed(exc.slug, str(exc)) from exc
        return address_of(results[0]) if results else None


class GoogleDirectionsRouter:
    """Driving distance from Google Directions through up to 25 of the points; the fallback answers when Google
    cannot (and says it estimated)."""

    source = "google"

    def __init__(self, client: GoogleMapsClient, fallback: Router) -> None:
        self.client = client
        self.fallback = fallback

    async def road_distance(self, points: Sequence[tuple[float, float]]) -> RoadDistance:
        usable = [point for point in points if is_position(*point)]
        if len(usable) < 2:
            return await self.fallback.road_distance(usable)
        via = sample(usable[1:-1], MAX_WAYPOINTS)
        try:
            routes = await self.client.directions(usable[0], usable[-1], via)
        except GoogleMapsError as exc:
            log.warning("geo.route_failed", source=self.source, error=exc.slug, detail=str(exc))
            return await self.fallback.road_distance(usable)
        if not routes:
            log.warning("geo.route_failed", source=self.source, error="no-route")
            return await self.fallback.road_distance(usable)
        return RoadDistance(distance_m=routes[0].distance_m, source=self.source, estimated=False)
