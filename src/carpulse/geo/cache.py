"""Reverse-geocoding answers cached twice: in the ephemeral store (shared by replicas, long TTL) and in a small
LRU of this replica, so closing a long trip never waits on the store twice for one place."""

from __future__ import annotations

from cachetools import LRUCache

from carpulse.geo.address import Address, GeocodingFailed, Lookup
from carpulse.geo.track import is_position
from carpulse.kit.ephemeral import EphemeralStore
from carpulse.kit.locks import KeyedLocks
from carpulse.kit.logs import get_logger

__all__ = ["DECIMALS", "NOTHING_TTL_SECONDS", "CachedGeocoder", "cache_key"]

log = get_logger("carpulse.geo")

DECIMALS = 4  # 1e-4° is ~11 m of latitude: one cache entry per house, not per fix
NOTHING_TTL_SECONDS = 24 * 3600  # "no address here" is kept a day: new streets get addresses
_NOTHING = b"null"


def _rounded(value: float) -> float:
    return round(value, DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0: one key per place


def cache_key(source: str, lat: float, lon: float) -> str:
    return f"geo:address:{source}:{_rounded(lat):.{DECIMALS}f},{_rounded(lon):.{DECIMALS}f}"


class CachedGeocoder:
    """Asks `inner` at the rounded position once per cache lifetime; concurrent asks for one place share a call.

    "No address here" is kept too (for a day); a failed lookup is logged and not kept, so it is tried again
    next time. A store that fails is logged and skipped: the inner geocoder answers.
    """

    def __init__(
        self,
        inner: Lookup,
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
        self.recent: LRUCache[str, Address | None] = LRUCache(maxsize=max(1, replica_entries))
        self._locks = KeyedLocks()

    async def reverse(self, lat: float, lon: float) -> Address | None:
        if not is_position(lat, lon):
            return None
        key = cache_key(self.source, lat, lon)
        if key in self.recent:
            return self.recent[key]
        async with self._locks.hold(key):
            if key in self.recent:
                return self.recent[key]
            raw = await self._stored(key)
            if raw is not None:
                found = None if raw == _NOTHING else Address.from_json(raw)
            else:
                try:
                    found = await self.inner.lookup(_rounded(lat), _rounded(lon))
                except GeocodingFailed as exc:
                    log.warning("geo.reverse_failed", source=self.source, error=exc.reason, detail=exc.detail)
                    return None
                await self._store(key, found)
            self.recent[key] = found
            return found

    async def _stored(self, key: str) -> bytes | None:
        try:
            return await self.store.get(key)
        except Exception as exc:  # a lost cache must never cost a trip its address
            log.warning("geo.cache_unavailable", operation="get", error=type(exc).__name__)
            return None

    async def _store(self, key: str, address: Address | None) -> None:
        value, ttl = (
            (_NOTHING, min(self.ttl_seconds, NOTHING_TTL_SECONDS))
            if address is None
            else (
                address.to_json().encode(),
                self.ttl_seconds,
            )
        )
        try:
            await self.store.set(key, value, ttl_seconds=ttl)
        except Exception as exc:
            log.warning("geo.cache_unavailable", operation="set", error=type(exc).__name__)
