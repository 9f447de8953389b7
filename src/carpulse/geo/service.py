"""The geocoder and router the settings choose, built once in the lifespan (under the sandbox: its fakes)."""

from __future__ import annotations

import httpx

from carpulse.config import Settings
from carpulse.geo.address import Geocoder, Lookup
from carpulse.geo.cache import CachedGeocoder
from carpulse.geo.google.adapter import GoogleDirectionsRouter, GoogleGeocoder
from carpulse.geo.google.client import GoogleMapsClient
from carpulse.geo.nominatim.adapter import NominatimGeocoder
from carpulse.geo.nominatim.client import NominatimClient
from carpulse.geo.offline import OfflineGeocoder
from carpulse.geo.route import OfflineRouter, Router
from carpulse.kit.ephemeral import EphemeralStore

__all__ = ["build_geocoder", "build_router", "google_maps_base", "nominatim_base"]


def google_maps_base(settings: Settings) -> str:
    if settings.geo.google_api_base:
        return settings.geo.google_api_base
    root = settings.sandbox_root
    return f"{root}/google_maps" if root else "https://maps.googleapis.com"


def nominatim_base(settings: Settings) -> str:
    if settings.geo.nominatim_url:
        return settings.geo.nominatim_url
    root = settings.sandbox_root
    return f"{root}/nominatim" if root else "https://nominatim.openstreetmap.org"


def _google_client(settings: Settings, http: httpx.AsyncClient) -> GoogleMapsClient:
    return GoogleMapsClient(
        http,
        api_key=settings.geo.google_api_key.get_secret_value(),
        api_base=google_maps_base(settings),
        language=settings.geo.language,
        timeout_seconds=settings.geo.timeout_seconds,
    )


def build_geocoder(settings: Settings, http: httpx.AsyncClient, ephemeral: EphemeralStore) -> Geocoder:
    """Offline answers from memory in microseconds, so only the network geocoders are cached."""
    geo = settings.geo
    if geo.geocoder == "offline":
        return OfflineGeocoder(max_distance_m=geo.offline_max_distance_m)
    inner: Lookup
    if geo.geocoder == "google":
        inner = GoogleGeocoder(_google_client(settings, http))
    else:
        inner = NominatimGeocoder(
            NominatimClient(
                http,
                base_url=nominatim_base(settings),
                user_agent=geo.nominatim_user_agent,
                min_interval_seconds=geo.nominatim_min_interval_seconds,
                language=geo.language,
                timeout_seconds=geo.timeout_seconds,
            )
        )
    return CachedGeocoder(
        inner,
        ephemeral,
        source=geo.geocoder,
        ttl_seconds=geo.cache_ttl_seconds,
        replica_entries=geo.replica_cache_entries,
    )


def build_router(settings: Settings, http: httpx.AsyncClient) -> Router:
    offline = OfflineRouter(detour_factor=settings.geo.detour_factor)
    if settings.geo.router == "offline":
        return offline
    return GoogleDirectionsRouter(_google_client(settings, http), fallback=offline)
