"""A vehicle's charging history as read from Tesla, kept for a short while in the ephemeral store.

Tesla bills every history page, and the JSON, the CSV, both ZIPs and the single-invoice check of one
vehicle all need the same 24 months: within `CARPULSE_CHARGING__HISTORY_CACHE_SECONDS` they share one
read, across replicas when the store is Redis. The key is the connection (whose tokens read it) and the
VIN, hashed, so one connection never sees what another's tokens fetched. The value is encrypted: it
says where and when a person charged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carpulse.charging.schemas import MAX_MONTHS, LookbackWindow
from carpulse.charging.statement import lookback
from carpulse.kit.ephemeral import EphemeralStore
from carpulse.kit.secrets_box import SecretBox, UndecryptableSecret
from carpulse.provider.base import ChargingSession
from carpulse.provider.tesla.adapter import normalize_charging
from carpulse.provider.tesla.client import TeslaFleetClient

# History pages fetched at a time for one vehicle. Tesla publishes no per-minute limit for
# /dx/charging (reference §8.2); this keeps one read polite and still ~10× faster than one by one.
HISTORY_PAGE_CONCURRENCY = 10

# One read per key at a time in this process: a burst of requests on a cold key waits for the first.
_readers: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


@asynccontextmanager
async def _one_reader(key: str) -> AsyncIterator[None]:
    lock = _readers.get(key)
    if lock is None:
        lock = _readers[key] = asyncio.Lock()
    async with lock:
        yield


@dataclass(frozen=True)
class ChargingHistory:
    """The raw history of the last 24 months, per connection and vehicle, cached for `ttl_seconds`."""

    store: EphemeralStore
    box: SecretBox
    ttl_seconds: int

    @staticmethod
    def key(connection_id: str, vin: str) -> str:
        digest = hashlib.sha256(f"{connection_id}\x00{vin}".encode()).hexdigest()
        return f"charging:history:{digest}"

    async def sessions(
        self, fleet: TeslaFleetClient, connection_id: str, vin: str, window: LookbackWindow
    ) -> list[ChargingSession]:
        """The vehicle's sessions that started within `window` (at most 24 months back), newest first."""
        raw = await self._raw(fleet, connection_id, vin, window.end)
        return [
            session
            for session in normalize_charging(raw, window.end).value
            if session.started_at is None or window.start <= session.started_at <= window.end
        ]

    async def _raw(self, fleet: TeslaFleetClient, connection_id: str, vin: str, now: datetime) -> list[dict[str, Any]]:
        if self.ttl_seconds == 0:
            return await self._read(fleet, vin, now)
        key = self.key(connection_id, vin)
        async with _one_reader(key):
            cached = await self.store.get(key)
            # An entry written under a retired key, or damaged, is read again.
            if cached is not None:
                with contextlib.suppress(UndecryptableSecret, UnicodeDecodeError, ValueError):
                    kept: list[dict[str, Any]] = json.loads(self.box.decrypt(cached.decode()))
                    return kept
            sessions = await self._read(fleet, vin, now)
            await self.store.set(key, self.box.encrypt(json.dumps(sessions)), self.ttl_seconds)
            return sessions

    @staticmethod
    async def _read(fleet: TeslaFleetClient, vin: str, now: datetime) -> list[dict[str, Any]]:
        window = lookback(MAX_MONTHS, now)
        return await fleet.charging_history(vin, window.start, window.end, concurrency=HISTORY_PAGE_CONCURRENCY)
