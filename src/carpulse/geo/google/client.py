"""A typed client for the Geocoding and Directions web services over our injected `httpx.AsyncClient`.

geopy's GoogleV3 would do the geocoding, but its adapters bring their own HTTP stack (requests or aiohttp), so
it could not use the app's connection pool, the sandbox's in-process transport, our retries or our breaker.
Both calls are GETs: connection errors and 5xx are retried with backoff; an error `status` is raised mapped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from pydantic import ValidationError

from carpulse.geo.google.errors import (
    GoogleMapsError,
    GoogleMapsTimeout,
    GoogleMapsUnavailable,
    error_for_status,
)
from carpulse.geo.google.schemas import DirectionsResponse, GeocodeResponse, GeocodeResult, Route, StatusOnly
from carpulse.kit.http import CircuitOpen, RetryPolicy, VendorHttp
from carpulse.kit.resilience import CircuitBreakers

__all__ = ["MAX_WAYPOINTS", "GoogleMapsClient"]

MAX_WAYPOINTS = 25  # Directions API: at most 25 waypoints besides origin and destination
_EMPTY = frozenset({"ZERO_RESULTS", "NOT_FOUND"})


def _point(lat: float, lon: float) -> str:
    return f"{lat:.6f},{lon:.6f}"


class GoogleMapsClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
        api_base: str = "https://maps.googleapis.com",
        language: str | None = None,
        timeout_seconds: float = 10.0,
        max_retries: int = 1,
        breakers: CircuitBreakers | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api_key = api_key
        self.api_base = api_base.rstrip("/")
        self.language = language
        self.calls = VendorHttp(
            http,
            vendor="google_maps",
            timeout_seconds=timeout_seconds,
            policy=RetryPolicy(max_retries=max_retries),
            breakers=breakers or CircuitBreakers(),
            sleep=sleep,
        )

    async def reverse_geocode(self, lat: float, lon: float) -> list[GeocodeResult]:
        """Addresses at the position, best first (empty when Google knows none)."""
        params = {"latlng": _point(lat, lon), "key": self.api_key}
        if self.language:
            params["language"] = self.language
        answer = GeocodeResponse.model_validate(await self._get("/maps/api/geocode/json", params, "geocode"))
        return answer.results

    async def directions(
        self, origin: tuple[float, float], destination: tuple[float, float], via: Sequence[tuple[float, float]] = ()
    ) -> list[Route]:
        """Driving routes through `via` (pass-through points, so one leg), best first; empty when there is none."""
        if len(via) > MAX_WAYPOINTS:
            raise ValueError(f"at most {MAX_WAYPOINTS} waypoints, got {len(via)}")
        params = {
            "origin": _point(*origin),
            "destination": _point(*destination),
            "mode": "driving",
            "key": self.api_key,
        }
        if via:
            # `via:` points shape the route without splitting it into legs or stopping there.
            params["waypoints"] = "|".join(f"via:{_point(*point)}" for point in via)
        answer = DirectionsResponse.model_validate(await self._get("/maps/api/directions/json", params, "directions"))
        return answer.routes

    async def _get(self, path: str, params: dict[str, str], api: str) -> dict[str, Any]:
        """The answer's JSON when its `status` is an answer (OK, ZERO_RESULTS, NOT_FOUND); else a mapped error."""
        try:
            response = await self.calls.send("GET", f"{self.api_base}{path}", params=params, log_fields={"api": api})
        except CircuitOpen as exc:
            raise GoogleMapsUnavailable(
                "Google Maps is failing; calls are paused", retry_after=exc.retry_after
            ) from exc
        except httpx.TimeoutException as exc:
            raise GoogleMapsTimeout() from exc
        except httpx.TransportError as exc:
            raise GoogleMapsUnavailable(f"Google Maps is unreachable ({type(exc).__name__})") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise GoogleMapsUnavailable(f"Google Maps answered HTTP {response.status_code}")
        try:
            body = response.json()
            status = StatusOnly.model_validate(body).status
        except (ValueError, ValidationError) as exc:
            raise GoogleMapsError(f"Google Maps answered HTTP {response.status_code} with an unreadable body") from exc
        if status == "OK" or status in _EMPTY:
            answer: dict[str, Any] = body
            return answer
        raise error_for_status(status)(f"Google Maps answered {status}", vendor_status=status)
