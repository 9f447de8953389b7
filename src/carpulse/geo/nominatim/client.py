"""A typed client for Nominatim's reverse geocoding over our injected `httpx.AsyncClient`, within its usage
policy (operations.osmfoundation.org/policies/nominatim): an identifying User-Agent and at most one request a
second, which this client spaces per process (the address cache keeps repeats away)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from pydantic import ValidationError

from carpulse.geo.nominatim.errors import NominatimError, NominatimUnavailable
from carpulse.geo.nominatim.schemas import ReversePlace
from carpulse.kit.http import CircuitOpen, RetryPolicy, VendorHttp
from carpulse.kit.resilience import CircuitBreakers

__all__ = ["NominatimClient"]


class NominatimClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        user_agent: str,
        min_interval_seconds: float = 1.0,
        language: str | None = None,
        timeout_seconds: float = 10.0,
        breakers: CircuitBreakers | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_agent = user_agent
        self.min_interval = min_interval_seconds
        self.language = language
        self.sleep = sleep
        self.monotonic = monotonic
        # No retries: a repeat inside a second would break the policy, and a missing address is retried later.
        self.calls = VendorHttp(
            http,
            vendor="nominatim",
            timeout_seconds=timeout_seconds,
            policy=RetryPolicy(max_retries=0),
            breakers=breakers or CircuitBreakers(),
            sleep=sleep,
        )
        self._turn = asyncio.Lock()
        self._last_sent: float | None = None

    async def _wait_turn(self) -> None:
        if self._last_sent is not None:
            wait = self._last_sent + self.min_interval - self.monotonic()
            if wait > 0:
                await self.sleep(wait)
        self._last_sent = self.monotonic()

    async def reverse(self, lat: float, lon: float) -> ReversePlace | None:
        """The place at the position (street level), None when Nominatim knows none."""
        params = {"format": "jsonv2", "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "zoom": "18", "addressdetails": "1"}
        headers = {"User-Agent": self.user_agent}
        if self.language:
            headers["Accept-Language"] = self.language
        async with self._turn:
            await self._wait_turn()
            try:
                response = await self.calls.send("GET", f"{self.base_url}/reverse", params=params, headers=headers)
            except CircuitOpen as exc:
                raise NominatimUnavailable("Nominatim is failing; calls are paused") from exc
            except httpx.TransportError as exc:
                raise NominatimUnavailable(f"Nominatim is unreachable ({type(exc).__name__})") from exc
        if response.status_code in (403, 429) or response.status_code >= 500:
            raise NominatimUnavailable(f"Nominatim answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise NominatimError(f"Nominatim answered HTTP {response.status_code}")
        try:
            place = ReversePlace.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise NominatimError("Nominatim answered with an unreadable body") from exc
        return None if place.error else place
