"""A typed client of Open Charge Map's `/poi` and `/referencedata`, over an injected `httpx.AsyncClient`.

Every call carries our key in `X-API-Key` (never in the URL, which proxies log), a custom User-Agent and
the `client` id, as OCM's fair-usage terms ask. Both calls are reads, so `VendorHttp` retries them and
sleeps a short `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from carpulse.charging_station.open_charge_map.errors import (
    OpenChargeMapBadAnswer,
    OpenChargeMapError,
    OpenChargeMapTimeout,
    OpenChargeMapUnavailable,
    error_for_status,
)
from carpulse.charging_station.open_charge_map.schemas import Poi, ReferenceData
from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.http import CircuitOpen, RetryPolicy, VendorHttp, retry_after_seconds
from carpulse.kit.logs import get_logger
from carpulse.kit.resilience import CircuitBreakers

log = get_logger("carpulse.charging_station.open_charge_map")

VENDOR = "open_charge_map"


@dataclass(frozen=True)
class PoiSearch:
    """A `/poi` query around a point; the distance is in km (we always ask for km: OCM's default is miles)."""

    latitude: float
    longitude: float
    distance_km: float
    max_results: int
    connection_type_ids: Sequence[int] = ()
    operator_ids: Sequence[int] = ()
    min_power_kw: float | None = None

    def params(self) -> dict[str, str]:
        params = {
            "latitude": f"{self.latitude:.6f}",
            "longitude": f"{self.longitude:.6f}",
            "distance": f"{self.distance_km:g}",
            "distanceunit": "km",
            "maxresults": str(self.max_results),
        }
        if self.connection_type_ids:
            params["connectiontypeid"] = ",".join(str(i) for i in sorted(self.connection_type_ids))
        if self.operator_ids:
            params["operatorid"] = ",".join(str(i) for i in sorted(self.operator_ids))
        if self.min_power_kw is not None:
            # Not in OCM's OpenAPI document, but read by its API (SearchFilterSettings: `minpowerkw`).
            params["minpowerkw"] = f"{self.min_power_kw:g}"
        return params


class OpenChargeMapClient:
    """The two reads the search needs; failures raise an `OpenChargeMapError` subclass."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        user_agent: str,
        client_id: str,
        timeout_seconds: float = 5.0,
        policy: RetryPolicy | None = None,
        breakers: CircuitBreakers | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.user_agent = user_agent
        self.client_id = client_id
        self.clock = clock
        self.calls = VendorHttp(
            http,
            vendor=VENDOR,
            timeout_seconds=timeout_seconds,
            policy=policy or RetryPolicy(),
            breakers=breakers,
            clock=clock,
        )

    async def poi(self, search: PoiSearch) -> list[Poi]:
        """The sites of the search, as OCM ordered them; a site we cannot read is skipped, not fatal."""
        body = await self._get("/poi/", {**search.params(), "compact": "false", "verbose": "false"})
        if not isinstance(body, list):
            raise OpenChargeMapBadAnswer("Open Charge Map answered /poi with something other than a list.")
        sites: list[Poi] = []
        unreadable = 0
        for item in body:
            try:
                sites.append(Poi.model_validate(item))
            except ValidationError:
                unreadable += 1
        if unreadable:
            log.warning("open_charge_map.sites_skipped", unreadable=unreadable, read=len(sites))
        return sites

    async def reference_data(self) -> ReferenceData:
        body = await self._get("/referencedata/", {})
        try:
            return ReferenceData.model_validate(body)
        except ValidationError as exc:
            raise OpenChargeMapBadAnswer("Open Charge Map's reference data is unreadable.") from exc

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        headers = {"X-API-Key": self.api_key, "User-Agent": self.user_agent, "Accept": "application/json"}
        query = {**params, "output": "json", "camelcase": "false", "client": self.client_id}
        try:
            response = await self.calls.send(
                "GET", f"{self.base_url}{path}", params=query, headers=headers, breaker_key=VENDOR
            )
        except CircuitOpen as exc:
            raise OpenChargeMapUnavailable(str(exc), retry_after=exc.retry_after) from exc
        except httpx.TimeoutException as exc:
            raise OpenChargeMapTimeout("Open Charge Map did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise OpenChargeMapUnavailable(f"Open Charge Map cannot be reached ({type(exc).__name__}).") from exc
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError as exc:
                # OCM's edge has answered refusals as plain text with a 200 before (e.g. "REJECTED_APIKEY…").
                raise OpenChargeMapBadAnswer("Open Charge Map answered with something other than JSON.") from exc
        raise self._error(response)

    def _error(self, response: httpx.Response) -> OpenChargeMapError:
        status = response.status_code
        kind = error_for_status(status)
        retry_after = retry_after_seconds(response.headers.get("retry-after"), self.clock.now())
        # OCM's refusals are short plain text ("REJECTED_APIKEY_INVALID"); never more than a line in our logs.
        said = response.text[:120].replace("\n", " ") if "json" not in response.headers.get("content-type", "") else ""
        log.warning(f"{VENDOR}.call_refused", status=status, reason=kind.reason, said=said)
        return kind(f"Open Charge Map answered {status}.", status=status, retry_after=retry_after)
