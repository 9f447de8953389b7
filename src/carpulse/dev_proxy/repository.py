"""Dev tunnel registrations in the ephemeral store (Redis in production), so every replica sees them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from carpulse.dev_proxy.schemas import DevTunnelRecord
from carpulse.errors import DependencyUnavailable
from carpulse.kit.ephemeral import EphemeralStore

REGISTRATION_PREFIX = "dev-proxy:registration:"
# The store cannot list keys, so the names live in one index, pruned of expired ones on each write.
INDEX_KEY = "dev-proxy:index"
LOCK_KEY = "dev-proxy:lock"
INDEX_TTL_SECONDS = 24 * 60 * 60  # the longest registration


class DevTunnelRepository:
    def __init__(self, store: EphemeralStore) -> None:
        self.store = store

    async def get(self, name: str) -> DevTunnelRecord | None:
        raw = await self.store.get(REGISTRATION_PREFIX + name)
        return DevTunnelRecord.model_validate_json(raw) if raw else None

    async def ttl(self, name: str) -> float | None:
        return await self.store.ttl(REGISTRATION_PREFIX + name)

    async def save(self, record: DevTunnelRecord, ttl_seconds: float) -> None:
        await self.store.set(REGISTRATION_PREFIX + record.name, record.model_dump_json(), ttl_seconds)
        await self._write_index([*(await self.names()), record.name])

    async def take(self, name: str) -> DevTunnelRecord | None:
        raw = await self.store.take(REGISTRATION_PREFIX + name)
        await self._write_index(await self.names())
        return DevTunnelRecord.model_validate_json(raw) if raw else None

    async def names(self) -> list[str]:
        """Names of the live registrations, in registration order."""
        raw = await self.store.get(INDEX_KEY)
        listed: list[str] = json.loads(raw) if raw else []
        return [name for name in listed if await self.store.ttl(REGISTRATION_PREFIX + name) is not None]

    async def _write_index(self, names: list[str]) -> None:
        unique = list(dict.fromkeys(names))
        if unique:
            await self.store.set(INDEX_KEY, json.dumps(unique), INDEX_TTL_SECONDS)
        else:
            await self.store.delete(INDEX_KEY)

    @asynccontextmanager
    async def lock(self, timeout_seconds: float = 5.0) -> AsyncIterator[None]:
        """Serialize changes to registrations and their index across replicas."""
        waited = 0.0
        while not await self.store.set_if_absent(LOCK_KEY, "1", ttl_seconds=10):
            if waited >= timeout_seconds:
                raise DependencyUnavailable("The dev proxy registry is busy; retry in a moment.")
            await asyncio.sleep(0.05)
            waited += 0.05
        try:
            yield
        finally:
            await self.store.delete(LOCK_KEY)
