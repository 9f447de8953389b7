"""Readiness: each dependency checked concurrently, with its latency and a bounded wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from carpulse.database import READ_ONLY
from carpulse.health.schemas import DependencyCheck, HealthReport
from carpulse.kit.logs import get_logger
from carpulse.state import State

CHECK_TIMEOUT_SECONDS = 2.0
log = get_logger("carpulse.health")


async def _timed(backend: str, probe: Callable[[], Awaitable[object]]) -> DependencyCheck:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        error = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return DependencyCheck(status="down", latency_ms=_ms(started), backend=backend, error=error)
    return DependencyCheck(status="up", latency_ms=_ms(started), backend=backend)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


class HealthService:
    async def check(self, state: State) -> HealthReport:
        async def database() -> None:
            for attempt in (1, 2):
                try:
                    async with state.engine.connect() as connection:
                        await connection.execution_options(**READ_ONLY)
                        await connection.execute(text("SELECT 1"))
                    return
                except DBAPIError as exc:
                    # A pooled connection from before a database restart fails once and takes the
                    # stale pool with it; the second try tells whether the database is really down.
                    if attempt == 2 or not exc.connection_invalidated:
                        raise

        names = ("database", "ephemeral_store", "storage")
        results = await asyncio.gather(
            _timed(state.engine.dialect.name, database),
            _timed(state.ephemeral.name, state.ephemeral.ping),
            _timed(state.storage.name, state.storage.ping),
        )
        checks = dict(zip(names, results, strict=True))
        failing = [name for name, check in checks.items() if check.status == "down"]
        if failing:
            log.warning("health.dependency_down", failing=failing)
        return HealthReport(
            status="unavailable" if failing else "ok",
            version=state.version,
            environment=state.settings.environment.value,
            failing=failing,
            checks=checks,
        )


health = HealthService()
