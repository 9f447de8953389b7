"""Connect sessions and OAuth states in the ephemeral store (Redis in production)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.schemas import ConnectSession
from carpulse.kit.ephemeral import EphemeralStore
from carpulse.models import VehicleConnection

SESSION_PREFIX = "connect:session:"
STATE_PREFIX = "connect:oauth-state:"
LOCK_PREFIX = "connect:lock:"
RELAY_PREFIX = "connect:relay:"


class ConnectSessionRepository:
    def __init__(self, store: EphemeralStore) -> None:
        self.store = store

    async def get(self, session_id: str) -> ConnectSession | None:
        raw = await self.store.get(SESSION_PREFIX + session_id)
        return ConnectSession.model_validate_json(raw) if raw else None

    async def save(self, session: ConnectSession, ttl_seconds: float) -> None:
        await self.store.set(SESSION_PREFIX + session.id, session.model_dump_json(), ttl_seconds)

    async def save_until_expiry(self, session: ConnectSession, now: datetime) -> bool:
        """Store a change, keeping the session's own end: a session lives its TTL once, never longer.

        False (and nothing stored) when the session ended meanwhile: a write must not bring it back.
        """
        remaining = (session.expires_at - now).total_seconds()
        if remaining <= 0:
            await self.delete(session.id)
            return False
        await self.save(session, remaining)
        return True

    async def delete(self, session_id: str) -> None:
        await self.store.delete(SESSION_PREFIX + session_id)

    async def ttl(self, session_id: str) -> float | None:
        return await self.store.ttl(SESSION_PREFIX + session_id)

    async def put_state(self, state: str, data: dict[str, Any], ttl_seconds: float) -> None:
        await self.store.set(STATE_PREFIX + state, json.dumps(data), ttl_seconds)

    async def peek_state(self, state: str) -> dict[str, Any] | None:
        """The state's data, left in place (the dev proxy refuses to relay a state of ours)."""
        raw = await self.store.get(STATE_PREFIX + state)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    async def take_state(self, state: str) -> dict[str, Any] | None:
        """The state's data, removed at once: a state opens one callback only."""
        raw = await self.store.take(STATE_PREFIX + state)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    async def put_relay(self, state: str, data: dict[str, Any], ttl_seconds: float) -> bool:
        """Relay the callback of a flow started elsewhere (dev proxy); False if this state already has one."""
        return await self.store.set_if_absent(RELAY_PREFIX + state, json.dumps(data), ttl_seconds)

    async def take_relay(self, state: str) -> dict[str, Any] | None:
        """The relay record, removed at once: a callback is relayed once at most."""
        raw = await self.store.take(RELAY_PREFIX + state)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    @asynccontextmanager
    async def lock(self, session_id: str, timeout_seconds: float = 15.0) -> AsyncIterator[None]:
        """Serialize token refreshes of one session across replicas (refresh tokens are single-use)."""
        key = LOCK_PREFIX + session_id
        waited = 0.0
        while not await self.store.set_if_absent(key, "1", ttl_seconds=30):
            if waited >= timeout_seconds:
                raise TimeoutError(f"lock {key} not acquired")
            await asyncio.sleep(0.05)
            waited += 0.05
        try:
            yield
        finally:
            await self.store.delete(key)


class VehicleConnectionRepository:
    """Durable connections (SQL): the tokens and inventory an order keeps past its session."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, connection_id: str) -> VehicleConnection | None:
        return await self.db.get(VehicleConnection, connection_id)

    async def get_for_update(self, connection_id: str) -> VehicleConnection | None:
        statement = select(VehicleConnection).where(VehicleConnection.id == connection_id).with_for_update()
        return (await self.db.execute(statement)).scalar_one_or_none()
