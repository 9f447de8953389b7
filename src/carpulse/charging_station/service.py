"""Charging-station search: ask Open Charge Map once per area and filter set, share the answer, survive outages.

The position is rounded to 3 decimals (at most ~80 m off) before OCM is asked, so near-identical searches
share one answer; the radius asked for is widened by that error, and distances are then measured from the
caller's own point, so the rounding never shows. OCM is always asked for its 100 nearest matches, so
searches that differ only in `limit` share an answer too.
"""

from __future__ import annotations

import asyncio
import math

from geographiclib.geodesic import Geodesic

from carpulse.charging_station.cache import CachedSites, StationCache
from carpulse.charging_station.errors import ChargingStationsUnavailable, UnknownOperator
from carpulse.charging_station.open_charge_map.adapter import CONNECTION_TYPE_IDS, site_of
from carpulse.charging_station.open_charge_map.client import OpenChargeMapClient, PoiSearch
from carpulse.charging_station.open_charge_map.errors import OpenChargeMapError, OpenChargeMapTimeout
from carpulse.charging_station.schemas import (
    MAX_LIMIT,
    Attribution,
    ConnectorType,
    DataProvider,
    Operator,
    Site,
    Station,
    StationList,
    StationQuery,
)
from carpulse.kit.http import RetryPolicy
from carpulse.kit.logs import get_logger
from carpulse.kit.resilience import CircuitBreakers
from carpulse.state import State

log = get_logger("carpulse.charging_station")

COORDINATE_DECIMALS = 3
# Half a unit of the 3rd decimal, in km, on both axes (a degree of latitude is at most 111.7 km): ~79 m.
ROUNDING_SLACK_KM = 0.08
# When OCM gives no Retry-After, a caller is asked to come back after this long.
DEFAULT_RETRY_AFTER_SECONDS = 30
_BREAKER = "open_charge_map"
# The OCM call in flight per search key in this process: a burst on a cold key (or during an outage) shares
# one call and its outcome, instead of queueing a deadline each behind it.
_in_flight: dict[tuple[int, str], asyncio.Task[CachedSites]] = {}


def _settle(key: tuple[int, str], task: asyncio.Task[CachedSites]) -> None:
    if _in_flight.get(key) is task:
        del _in_flight[key]
    if not task.cancelled():
        task.exception()  # retrieved: every waiter may have gone


def _distance_km(lat: float, lon: float, site: Site) -> float:
    metres: float = Geodesic.WGS84.Inverse(lat, lon, site.lat, site.lon, Geodesic.DISTANCE)["s12"]
    return metres / 1000


def _matches(site: Site, query: StationQuery, operator_ids: frozenset[int] | None) -> bool:
    """The filters again on our side: OCM applied them, but its `minpowerkw` is undocumented."""
    if operator_ids is not None and site.operator.id not in operator_ids:
        return False
    connectors = site.connectors
    if query.connector is not None:
        connectors = [c for c in connectors if c.type == ConnectorType(query.connector.value)]
    if query.min_power_kw is not None:
        connectors = [c for c in connectors if c.power_kw is not None and c.power_kw >= query.min_power_kw]
    return bool(connectors) or (query.connector is None and query.min_power_kw is None)


class ChargingStationService:
    def _cache(self, state: State) -> StationCache:
        settings = state.settings.open_charge_map
        return StationCache(
            state.ephemeral,
            fresh_seconds=settings.cache_seconds,
            keep_seconds=max(settings.cache_seconds, settings.stale_seconds),
            reference_seconds=settings.reference_cache_seconds,
        )

    def _client(self, state: State) -> OpenChargeMapClient:
        settings = state.settings.open_charge_map
        breakers = state.vendor_breakers.setdefault(_BREAKER, CircuitBreakers())
        return OpenChargeMapClient(
            state.vendor_http,
            base_url=state.settings.open_charge_map_api_base,
            api_key=settings.api_key.get_secret_value(),
            user_agent=settings.user_agent,
            client_id=settings.client_id,
            timeout_seconds=settings.timeout_seconds,
            policy=RetryPolicy(
                max_retries=settings.max_retries, retry_after_cap_seconds=settings.retry_after_cap_seconds
            ),
            breakers=breakers,
            clock=state.clock,
        )

    async def search(self, state: State, query: StationQuery) -> StationList:
        """The stations within `query.radius_km` of the point, nearest first; from our cache while it is fresh,
        from a stale copy while OCM fails, else `ChargingStationsUnavailable`."""
        operator_ids = await self._operator_ids(state, query.operator) if query.operator else None
        search = PoiSearch(
            latitude=round(query.lat, COORDINATE_DECIMALS),
            longitude=round(query.lon, COORDINATE_DECIMALS),
            distance_km=math.ceil((query.radius_km + ROUNDING_SLACK_KM) * 10) / 10,
            max_results=MAX_LIMIT,
            connection_type_ids=CONNECTION_TYPE_IDS[query.connector] if query.connector else (),
            operator_ids=tuple(sorted(operator_ids)) if operator_ids else (),
            min_power_kw=query.min_power_kw,
        )
        cache = self._cache(state)
        key = cache.key(search)
        entry = await cache.get(key)
        if entry is not None and self._age(state, entry) < cache.fresh_seconds:
            return self._answer(state, query, operator_ids, entry, cached=True, stale=False, source="cache")
        # Per app: several apps in one process (the tests) each have their own store and vendor client.
        flight = (id(state), key)
        task = _in_flight.get(flight)
        if task is None:
            task = asyncio.create_task(self._fetch(state, search, cache, key))
            _in_flight[flight] = task
            task.add_done_callback(lambda done: _settle(flight, done))
        try:
            # Shielded: a caller that goes away does not cancel the call the others wait for.
            fresh = await asyncio.shield(task)
        except OpenChargeMapError as failure:
            return self._fallback(state, query, operator_ids, entry, failure)
        return self._answer(state, query, operator_ids, fresh, cached=False, stale=False, source="open_charge_map")

    async def _fetch(self, state: State, search: PoiSearch, cache: StationCache, key: str) -> CachedSites:
        try:
            async with asyncio.timeout(state.settings.open_charge_map.deadline_seconds):
                pois = await self._client(state).poi(search)
        except TimeoutError as exc:
            raise OpenChargeMapTimeout("Open Charge Map did not answer within the search's deadline.") from exc
        fresh = CachedSites(fetched_at=state.clock.now(), sites=[site_of(poi) for poi in pois])
        await cache.put(key, fresh)
        return fresh

    async def near(self, state: State, lat: float, lon: float, radius_km: float = 2.0, limit: int = 5) -> StationList:
        """The stations near a point (a trip's end), nearest first; raises `ChargingStationsUnavailable`."""
        return await self.search(state, StationQuery(lat=lat, lon=lon, radius_km=radius_km, limit=limit))

    def _fallback(
        self,
        state: State,
        query: StationQuery,
        operator_ids: frozenset[int] | None,
        entry: CachedSites | None,
        failure: OpenChargeMapError,
    ) -> StationList:
        log.warning(
            "charging_station.open_charge_map_failed",
            reason=failure.reason,
            status=failure.status,
            cached_copy=entry is not None,
        )
        if entry is not None:
            return self._answer(state, query, operator_ids, entry, cached=True, stale=True, source="stale_cache")
        retry_after = math.ceil(failure.retry_after) if failure.retry_after else DEFAULT_RETRY_AFTER_SECONDS
        raise ChargingStationsUnavailable(
            "Open Charge Map cannot be reached right now and no earlier answer to this search is kept; "
            f"try again in {retry_after} s.",
            headers={"Retry-After": str(max(1, retry_after))},
        )

    @staticmethod
    def _age(state: State, entry: CachedSites) -> float:
        return max(0.0, (state.clock.now() - entry.fetched_at).total_seconds())

    def _answer(
        self,
        state: State,
        query: StationQuery,
        operator_ids: frozenset[int] | None,
        entry: CachedSites,
        *,
        cached: bool,
        stale: bool,
        source: str,
    ) -> StationList:
        measured = [
            (distance, site)
            for site in entry.sites
            if _matches(site, query, operator_ids)
            and (distance := _distance_km(query.lat, query.lon, site)) <= query.radius_km
        ]
        measured.sort(key=lambda pair: (pair[0], pair[1].id))
        stations = [
            Station(**site.model_dump(), distance_km=round(distance, 3)) for distance, site in measured[: query.limit]
        ]
        log.info("charging_station.search_answered", source=source, stations=len(stations))
        return StationList(
            stations=stations,
            count=len(stations),
            cached=cached,
            stale=stale,
            age_seconds=int(self._age(state, entry)),
            fetched_at=entry.fetched_at,
            attribution=Attribution(data_providers=_providers(stations)),
        )

    async def _operator_ids(self, state: State, operator: str) -> frozenset[int]:
        """OCM operator ids for an id or a name: an exact name (any case), else every name containing it."""
        text = operator.strip()
        if text.isascii() and text.isdigit():
            return frozenset({int(text)})
        cache = self._cache(state)
        operators = await cache.operators()
        if operators is None:
            try:
                async with asyncio.timeout(state.settings.open_charge_map.deadline_seconds):
                    reference = await self._client(state).reference_data()
            except (OpenChargeMapError, TimeoutError) as exc:
                log.warning("charging_station.reference_data_failed", reason=getattr(exc, "reason", "timeout"))
                retry_after = getattr(exc, "retry_after", None)
                seconds = math.ceil(retry_after) if retry_after else DEFAULT_RETRY_AFTER_SECONDS
                raise ChargingStationsUnavailable(
                    "Open Charge Map cannot be reached to look up operator names right now; "
                    "try again later, or give the operator's id.",
                    headers={"Retry-After": str(max(1, seconds))},
                ) from exc
            operators = [
                Operator(id=info.id, name=info.title, website=info.website_url)
                for info in reference.operators
                if info.id is not None and info.title
            ]
            await cache.put_operators(operators)
        wanted = text.casefold()
        exact = frozenset(o.id for o in operators if o.id is not None and (o.name or "").casefold() == wanted)
        found = exact or frozenset(o.id for o in operators if o.id is not None and wanted in (o.name or "").casefold())
        if not found:
            message = f"No charging operator on Open Charge Map is named {operator!r}; give a name or an OCM id."
            raise UnknownOperator(
                message, errors=[{"loc": ["query", "operator"], "message": message, "type": "value_error"}]
            )
        return found


def _providers(stations: list[Station]) -> list[DataProvider]:
    seen: dict[tuple[int | None, str | None], DataProvider] = {}
    for station in stations:
        provider = station.data_provider
        if provider is not None:
            seen.setdefault((provider.id, provider.name), provider)
    return sorted(seen.values(), key=lambda provider: (provider.id or 0, provider.name or ""))


charging_stations = ChargingStationService()
