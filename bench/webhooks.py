"""Webhook ingestion per second on PostgreSQL (goal ≥ 500/s on one core).

The API runs as `carpulse serve` in its own process (one uvicorn worker: one core); the load
comes from this process over loopback HTTP. Ingestion is what the provider waits for: verify the
signature, insert into the inbox (ON CONFLICT DO NOTHING), enqueue a job, answer 202. As in
production the API only ingests: jobs go to the Redis stream broker, and a worker consumes them
afterwards (measured separately). Baseline: `GET /health/live` on the same server, same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.server import free_port, serving
from carpulse.config import Settings
from carpulse.kit.passwords import hash_password

REDIS_URL = os.environ.get("CARPULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASE_URL = os.environ.get("CARPULSE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
EVENTS = 3000
CONCURRENCY = 32
WEBHOOK_SECRET = "whsec_bench"
UNHANDLED = text("SELECT count(*) FROM inbound_event WHERE handled_at IS NULL AND event_id LIKE 'evt_bench_%'")


def _event(n: int) -> bytes:
    event = {
        "id": f"evt_bench_{uuid.uuid4().hex}",
        "object": "event",
        "type": "customer.created",  # accepted and stored, not acted on
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": f"cus_{n}", "object": "customer"}},
    }
    return json.dumps(event).encode()


def _sign(body: bytes) -> str:
    import hashlib
    import hmac

    stamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


async def _load(base: str, requests: list[tuple[str, bytes | None, dict[str, str]]]) -> float:
    queue = list(requests)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while queue:
                path, body, headers = queue.pop()
                if body is None:
                    response = await client.get(path)
                else:
                    response = await client.post(path, content=body, headers=headers)
                assert response.status_code in (200, 202), response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return len(requests) / (time.perf_counter() - started)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU the server process has used (Linux /proc), to express load per core."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _phase(base: str, pid: int, requests: list[tuple[str, bytes | None, dict[str, str]]]) -> tuple[float, float]:
    """(requests per wall second, requests per server CPU second)."""
    before = _cpu_seconds(pid)
    per_second = await _load(base, requests)
    used = _cpu_seconds(pid) - before
    return per_second, len(requests) / used if used > 0 else float("inf")


async def _measure(base: str, queue_name: str, pid: int) -> dict[str, tuple[float, float]]:
    for _ in range(100):
        try:
            async with httpx.AsyncClient(base_url=base) as client:
                if (await client.get("/health/live")).status_code == 200:
                    break
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    await _load(base, [("/health/live", None, {})] * 500)  # warm-up
    results = {"baseline": await _phase(base, pid, [("/health/live", None, {})] * EVENTS)}
    path = "/api/v1/payment/webhook/stripe"
    webhooks = [(path, body, {"Stripe-Signature": _sign(body)}) for body in map(_event, range(EVENTS))]
    results["ingest"] = await _phase(base, pid, webhooks)
    results["replay"] = await _phase(base, pid, webhooks[: EVENTS // 2])
    handled = await _consume(queue_name)
    results["handled"] = (handled, handled)
    return results


async def _consume(queue_name: str) -> float:
    """Handle the queued events with one in-process worker, timed until the inbox is empty."""
    from asgi_lifespan import LifespanManager
    from taskiq.api import run_receiver_task

    from carpulse.app import create_app

    app = create_app(_settings(queue_name, worker=False))
    engine = create_async_engine(DATABASE_URL)
    async with LifespanManager(app):
        state = app.state.carpulse
        started = time.perf_counter()
        receiver = asyncio.create_task(run_receiver_task(state.jobs.broker, run_startup=False))
        while time.perf_counter() - started < 120:
            async with engine.connect() as connection:
                left = (await connection.execute(UNHANDLED)).scalar_one()
            if left == 0:
                break
            await asyncio.sleep(0.05)
        handled = EVENTS / (time.perf_counter() - started)
        receiver.cancel()
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM inbound_event WHERE event_id LIKE 'evt_bench_%'"))
    await engine.dispose()
    return handled


def _settings(queue_name: str, worker: bool) -> Settings:
    return Settings(**_values(queue_name, worker))  # type: ignore[arg-type]


def _values(queue_name: str, worker: bool) -> dict[str, object]:
    tmp = Path(tempfile.gettempdir()) / "carpulse-bench"
    return {
        "environment": "test",
        "database": {"url": DATABASE_URL, "pool_size": CONCURRENCY},
        "redis": {"url": REDIS_URL, "key_prefix": f"carpulse-bench:{queue_name}:"},
        "jobs": {"broker": "redis", "in_process_worker": worker, "queue_name": queue_name},
        "rate_limit": {"enabled": False},
        "log": {"level": "WARNING"},
        "stripe": {"webhook_secret": WEBHOOK_SECRET},
        "storage": {"url": str(tmp / "storage")},
        "tesla": {"public_key_path": str(tmp / "pub.pem"), "private_key_path": str(tmp / "priv.pem")},
    }


def _environment(queue_name: str, port: int) -> dict[str, str]:
    env = dict(os.environ)
    flat = {
        "CARPULSE_ENVIRONMENT": "test",
        "CARPULSE_DATABASE__URL": DATABASE_URL,
        "CARPULSE_DATABASE__POOL_SIZE": str(CONCURRENCY),
        "CARPULSE_REDIS__URL": REDIS_URL,
        "CARPULSE_REDIS__KEY_PREFIX": f"carpulse-bench:{queue_name}:",
        "CARPULSE_JOBS__BROKER": "redis",
        "CARPULSE_JOBS__IN_PROCESS_WORKER": "false",
        "CARPULSE_JOBS__QUEUE_NAME": queue_name,
        "CARPULSE_RATE_LIMIT__ENABLED": "false",
        "CARPULSE_LOG__LEVEL": "WARNING",
        "CARPULSE_STRIPE__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CARPULSE_ADMIN__PASSWORD_HASH": hash_password("bench-password"),
        "CARPULSE_STORAGE__URL": str(Path(tempfile.gettempdir()) / "carpulse-bench" / "storage"),
        "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(Path(tempfile.gettempdir()) / "carpulse-bench" / "pub.pem"),
        "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(Path(tempfile.gettempdir()) / "carpulse-bench" / "priv.pem"),
        "CARPULSE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.update(flat)
    return env


def run() -> None:
    queue_name = f"carpulse-bench-{uuid.uuid4().hex}"
    port = free_port()
    with serving(_environment(queue_name, port), port) as server:
        results = asyncio.run(_measure(f"http://127.0.0.1:{port}", queue_name, server.pid))
    _base_wall, base_cpu = results["baseline"]
    print(f"Webhook ingestion on PostgreSQL: {EVENTS} events, {CONCURRENCY} concurrent (goal ≥ 500/s on one core)")
    print("  (wall: what the loopback client achieved; per core: requests per second of the API process's CPU)")
    for label, key in (
        ("GET /health/live (baseline)", "baseline"),
        ("POST /webhook/stripe, new events", "ingest"),
        ("POST /webhook/stripe, replays", "replay"),
    ):
        wall, cpu = results[key]
        print(f"  {label:<36} wall {wall:6.0f}/s   per core {cpu:6.0f}/s   ×{cpu / base_cpu:4.2f} of baseline per core")
    print(f"  jobs handling the events (1 worker)  wall {results['handled'][0]:6.0f}/s")
