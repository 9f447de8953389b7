"""The ephemeral store: state that may be lost (sessions, OAuth state, progress).

Redis when `CARPULSE_REDIS__URL` is set, otherwise a dictionary in this process. Both answer
the same interface and the same tests.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from carpulse.kit.clock import Clock, system_clock


def redis_connection_options(socket_timeout_seconds: float) -> dict[str, Any]:
    """Options for every Redis client: a pooled connection that died with a Redis restart is
    checked before reuse and a command whose connection failed is retried once on a fresh one, so
    the first requests after recovery do not fail on stale sockets.

    A command that timed out is *not* retried: it may have run. Sent again, a one-time take
    (a sign-in's state, GETDEL) finds nothing and a counter counts twice; the caller answers 503.
    """
    return {
        "socket_timeout": socket_timeout_seconds,
        "socket_connect_timeout": socket_timeout_seconds,
        "socket_keepalive": True,
        "health_check_interval": 10,
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        "retry_on_error": [RedisConnectionError],
        "retry_on_timeout": False,
    }


class EphemeralStore(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes | str, ttl_seconds: float | None = None) -> None: ...

    async def set_if_absent(self, key: str, value: bytes | str, ttl_seconds: float | None = None) -> bool:
        """Store only when the key is free; True when this call stored it."""
        ...

    async def take(self, key: str) -> bytes | None:
        """Read and delete in one step, so a single-use value is used once."""
        ...

    async def delete(self, key: str) -> bool: ...

    async def add_to_existing(self, key: str, amount: int) -> int | None:
        """Add `amount` to the integer at `key` and return the sum; None (and no change) when the key is missing,
        so the caller can rebuild a lost counter from its durable source before counting."""
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds left, None when the key is missing or never expires."""
        ...

    async def ping(self) -> None:
        """Raise when the store cannot serve."""
        ...

    async def close(self) -> None: ...


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _bytes_or_none(value: bytes | str | None) -> bytes | None:
    return None if value is None else _as_bytes(value)


class MemoryEphemeralStore:
    """In-process store for the embedded default; expiry is checked on read."""

    name = "memory"

    def __init__(self, clock: Clock = system_clock, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._lock = asyncio.Lock()

    def _alive(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= self._clock.monotonic():
            del self._data[key]
            return None
        return entry

    def _expires(self, ttl_seconds: float | None) -> float | None:
        return None if ttl_seconds is None else self._clock.monotonic() + ttl_seconds

    def _evict_expired(self) -> None:
        if len(self._data) < self._max_keys:
            return
        for key in list(self._data):
            self._alive(key)
        if len(self._data) >= self._max_keys:
            # Still full: drop the oldest entries (dicts keep insertion order).
            for key in list(self._data)[: len(self._data) // 10 or 1]:
                del self._data[key]

    async def get(self, key: str) -> bytes | None:
        entry = self._alive(key)
        return entry[0] if entry else None

    async def set(self, key: str, value: bytes | str, ttl_seconds: float | None = None) -> None:
        async with self._lock:
            if self._data.pop(key, None) is None:
                self._evict_expired()
            self._data[key] = (_as_bytes(value), self._expires(ttl_seconds))

    async def set_if_absent(self, key: str, value: bytes | str, ttl_seconds: float | None = None) -> bool:
        async with self._lock:
            if self._alive(key) is not None:
                return False
            self._evict_expired()
            self._data[key] = (_as_bytes(value), self._expires(ttl_seconds))
            return True

    async def take(self, key: str) -> bytes | None:
        async with self._lock:
            entry = self._alive(key)
            if entry is None:
                return None
            del self._data[key]
            return entry[0]

    async def delete(self, key: str) -> bool:
        async with self._lock:
            return self._alive(key) is not None and self._data.pop(key, None) is not None

    async def add_to_existing(self, key: str, amount: int) -> int | None:
        async with self._lock:
            entry = self._alive(key)
            if entry is None:
                return None
            total = int(entry[0]) + amount
            self._data[key] = (str(total).encode(), entry[1])
            return total

    async def ttl(self, key: str) -> float | None:
        entry = self._alive(key)
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - self._clock.monotonic())

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


# One step on the server: a counter that expired or was lost is never recreated from zero by an INCRBY.
_ADD_TO_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


class RedisEphemeralStore:
    """Redis-backed store shared by every replica; keys carry a prefix."""

    name = "redis"

    def __init__(self, redis: Redis, prefix: str = "carpulse:") -> None:
        self.redis = redis
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "carpulse:", timeout_seconds: float = 2.0) -> RedisEphemeralStore:
        client = Redis.from_url(url, **redis_connection_options(timeout_seconds))
        return cls(client, prefix)

    def _key(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _ms(ttl_seconds: float | None) -> int | None:
        return None if ttl_seconds is None else max(1, int(ttl_seconds * 1000))

    async def get(self, key: str) -> bytes | None:
        return _bytes_or_none(await self.redis.get(self._key(key)))

    async def set(self, key: str, value: bytes | str, ttl_seconds: float | None = None) -> None:
        await self.redis.set(self._key(key), _as_bytes(value), px=self._ms(ttl_seconds))

    async def set_if_absent(self, key: str, value: bytes | str, ttl_seconds: float | None = None) -> bool:
        stored = await self.redis.set(self._key(key), _as_bytes(value), px=self._ms(ttl_seconds), nx=True)
        return bool(stored)

    async def take(self, key: str) -> bytes | None:
        return _bytes_or_none(await self.redis.getdel(self._key(key)))

    async def delete(self, key: str) -> bool:
        return bool(await self.redis.delete(self._key(key)))

    async def add_to_existing(self, key: str, amount: int) -> int | None:
        total = await self.redis.eval(_ADD_TO_EXISTING, 1, self._key(key), amount)
        return None if total is None else int(total)

    async def ttl(self, key: str) -> float | None:
        ms: int = await self.redis.pttl(self._key(key))
        return None if ms < 0 else ms / 1000

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


def open_ephemeral_store(redis_url: str | None, prefix: str, timeout_seconds: float) -> EphemeralStore:
    if redis_url:
        return RedisEphemeralStore.from_url(redis_url, prefix, timeout_seconds)
    return MemoryEphemeralStore()
