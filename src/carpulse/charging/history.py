"""A vehicle's charging history as read from its brand, kept for a short while in the ephemeral store.

A brand may bill every history page, and the JSON, the CSV, both ZIPs and the single-invoice check
of one vehicle all need the same 24 months: within `CARPULSE_CHARGING__HISTORY_CACHE_SECONDS` they
share one read, across replicas when the store is Redis. The key is the connection (whose tokens read
it) and the VIN, hashed, so one connection never sees what another's tokens fetched. The value is the
normalized sessions, encrypted: it says where and when a person charged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter

from carpulse.charging.schemas import MAX_MONTHS, LookbackWindow
from carpulse.charging.statement import lookback
from carpulse.kit.ephemeral import EphemeralStore
from carpulse.kit.secrets_box import SecretBox, UndecryptableSecret
from carpulse.provider.base import ChargingHistoryReader, ChargingSession

# History pages fetched at a time for one vehicle: polite to a brand that publishes no per-minute limit
# for its history (reference §8.2), and still ~10× faster than one by one.
HISTORY_PAGE_CONCURRENCY = 10

# One read per key at a time in this process: a burst of requests on a cold key waits for the first.
_readers: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
_SESSIONS = TypeAdapter(list[ChargingSession])


@asynccontextmanager
async def _one_reader(key: str) -> AsyncIterator[None]:
    lock = _readers.get(key)
    if lock is None:
        lock = _readers[key] = asyncio.Lock()
    async with lock:
        yield


@dataclass(frozen=True)
class ChargingHistory:
    """The sessions of the last 24 months, per connection and vehicle, cached for `ttl_seconds`."""

    store: EphemeralStore
    box: SecretBox
    ttl_seconds: int

    @staticmethod
    def key(connection_id: str, vin: str) -> str:
        digest = hashlib.sha256(f"{connection_id}\x00{vin}".encode()).hexdigest()
        return f"charging:history:{digest}"

    async def sessions(
        self, reader: ChargingHistoryReader, connection_id: str, vin: str, window: LookbackWindow
    ) -> list[ChargingSession]:
        """The vehicle's sessions that started within `window` (at most 24 months back)."""
        return [
            session
            for session in await self._all(reader, connection_id, vin, window.end)
            if session.started_at is None or window.start <= session.started_at <= window.end
        ]

    async def _all(
        self, reader: ChargingHistoryReader, connection_id: str, vin: str, now: datetime
    ) -> list[ChargingSession]:
        if self.ttl_seconds == 0:
            return await self._read(reader, vin, now)
        key = self.key(connection_id, vin)
        async with _one_reader(key):
            cached = await self.store.get(key)
            # An entry written under a retired key, damaged, or in an older shape, is read again.
            if cached is not None:
                with contextlib.suppress(UndecryptableSecret, UnicodeDecodeError, ValueError):
                    return _SESSIONS.validate_json(self.box.decrypt(cached.decode()))
            sessions = await self._read(reader, vin, now)
            await self.store.set(key, self.box.encrypt(_SESSIONS.dump_json(sessions).decode()), self.ttl_seconds)
            return sessions

    @staticmethod
    async def _read(reader: ChargingHistoryReader, vin: str, now: datetime) -> list[ChargingSession]:
        window = lookback(MAX_MONTHS, now)
        return await reader.charging_sessions(vin, window.start, window.end, concurrency=HISTORY_PAGE_CONCURRENCY)
