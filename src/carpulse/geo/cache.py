"""Reverse-geocoding answers cached twice: in the ephemeral store (shared by replicas, long TTL) and in a small
LRU of this replica, so closing a long trip never waits on the store twice for one place."""

from __future__ import annotations

from cachetools import LRUCache

from carpulse.geo.address import Address, Geocoder
from carpulse.geo.track import is_position
from carpulse.kit.ephemeral import EphemeralStore
from carpulse.kit.locks import KeyedLocks
from carpulse.kit.logs import get_logger

__all__ = ["DECIMALS", "CachedGeocoder", "cache_key"]

log = get_logger("carpulse.geo")

DECIMALS = 4  # 1e-4° is ~11 m of latitude: one cache entry per house, not per fix


def _rounded(value: float) -> float:
    return round(value, DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0: one key per place


def cache_key(source: str, lat: float, lon: float) -> str:
    return f"geo:address:{source}:{_rounded(lat):.{DECIMALS}f},{_rounded(lon):.{DECIMALS}f}"


class CachedGeocoder:
    """Asks `inner` at the rounded position once per cache lifetime; concurrent asks for one place share a call.

    A store that fails is logged and skipped (the inner geocoder answers); "no address" is not cached, so a
    failed lookup is tried again next time.
    """

    def __init__(
        self,
        inner: Geocoder,
        store: EphemeralStore,
        *,
        source: str,
        ttl_seconds: float,
        replica_entries: int = 4096,
    ) -> None:
        self.inner = inner
        self.store = store
        self.source = source
        self.ttl_seconds = ttl_seconds
        self.recent: LRUCache[str, Address] = LRUCache(maxsize=replica_entries)
        self._locks = KeyedLocks()

    async def reverse(self, lat: float, lon: float) -> Address | None:
        if not is_position(lat, lon):
            return None
        key = cache_key(self.source, lat, lon)
        if (found := self.recent.get(key)) is not None:
            return found
        async with self._locks.hold(key):
            if (found := self.recent.get(key)) is not None:
                return found
            found = await self._stored(key)
            if found is None:
                found = await self.inner.reverse(_rounded(lat), _rounded(lon))
                if found is None:
                    return None
                await self._store(key, found)
            self.recent[key] = found
            return found

    async def _stored(self, key: str) -> Address | None:
        try:
            raw = await self.store.get(key)
            return Address.from_json(raw) if raw is not None else None
        except Exception as exc:  # a lost cache must never cost a trip its address
            log.warning("geo.cache_unavailable", operation="get", error=type(exc).__name__)
            return None

    async def _store(self, key: str, address: Address) -> None:
        try:
            await self.store.set(key, address.to_json(), ttl_seconds=self.ttl_seconds)
        except Exception as exc:
            log.warning("geo.cache_unavailable", operation="set", error=type(exc).__name__)
