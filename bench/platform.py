"""Platform figures: login timing (unknown user vs wrong password) and health latency.

The app runs in-process on the embedded defaults (a temporary SQLite file), driven through
httpx's ASGI transport, so the figures measure our code, not a network.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from carpulse.app import create_app
from carpulse.cli import alembic_config
from carpulse.config import Settings
from carpulse.kit.passwords import hash_password

PASSWORD = "bench-password-123"


async def _timings(call: Callable[[], Awaitable[httpx.Response]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, samples: list[float], baseline: list[float]) -> str:
    median = statistics.median(samples)
    ratio = median / statistics.median(baseline)
    return f"  {name:<34} p50 {median:8.2f} ms   p99 {_p(samples, 0.99):8.2f} ms   ×{ratio:5.2f} of baseline"


def run() -> None:
    from alembic import command

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        command.upgrade(alembic_config(url), "head")
        asyncio.run(_measure(url, Path(tmp)))


async def _measure(url: str, tmp: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database={"url": url},  # type: ignore[arg-type]
        storage={"url": str(tmp / "storage")},  # type: ignore[arg-type]
        admin={"username": "admin", "password_hash": hash_password(PASSWORD)},  # type: ignore[arg-type]
        rate_limit={"enabled": False},  # type: ignore[arg-type]
        log={"level": "WARNING"},  # type: ignore[arg-type]
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            def login(username: str, password: str) -> Callable[[], Awaitable[httpx.Response]]:
                return lambda: client.post("/api/v1/auth/login/json", json={"username": username, "password": password})

            for _ in range(3):  # warm-up
                await login("admin", PASSWORD)()
            rounds = 40
            good: list[float] = []
            wrong: list[float] = []
            unknown: list[float] = []
            # Interleaved, so drift in the machine's speed falls on all three alike.
            for _ in range(rounds):
                good += await _timings(login("admin", PASSWORD), 1)
                wrong += await _timings(login("admin", "wrong-password"), 1)
                unknown += await _timings(login("nobody-here", "wrong-password"), 1)
            print("login timing (baseline: a successful login)")
            print(_row("successful login", good, good))
            print(_row("wrong password", wrong, good))
            print(_row("unknown user", unknown, good))
            gap = abs(statistics.median(unknown) - statistics.median(wrong)) / statistics.median(wrong)
            print(f"  unknown-user vs wrong-password median gap: {gap * 100:.1f} %")

            live = await _timings(lambda: client.get("/health/live"), 300)
            ready = await _timings(lambda: client.get("/health"), 300)
            missing = await _timings(lambda: client.get("/no/such/path"), 300)
            print("request latency (baseline: GET /health/live)")
            print(_row("GET /health/live", live, live))
            print(_row("GET /health (3 dependency checks)", ready, live))
            print(_row("GET unknown path (404 problem)", missing, live))
