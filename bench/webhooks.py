"""Webhook ingestion per second on PostgreSQL (goal ≥ 500/s on one core).

Ingestion is what the provider waits for: verify the signature, insert into the inbox
(ON CONFLICT DO NOTHING), answer 202. The jobs that act on events run after and are not counted.
Baseline: `GET /health/live` through the same stack, in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from carpulse.app import create_app
from carpulse.config import Settings
from carpulse.kit.passwords import hash_password

DATABASE_URL = os.environ.get("CARPULSE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
EVENTS = 2000
CONCURRENCY = 16


def _event(n: int) -> bytes:
    event = {
        "id": f"evt_bench_{uuid.uuid4().hex}",
        "object": "event",
        "type": "customer.created",  # an event we accept and store but do not act on
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": f"cus_{n}", "object": "customer"}},
    }
    return json.dumps(event).encode()


async def _measure() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database={"url": DATABASE_URL},  # type: ignore[arg-type]
        rate_limit={"enabled": False},  # type: ignore[arg-type]
        log={"level": "WARNING"},  # type: ignore[arg-type]
        admin={"password_hash": hash_password("bench-password")},  # type: ignore[arg-type]
        storage={"url": "/tmp/carpulse-bench-storage"},  # type: ignore[arg-type]
        tesla={
            "public_key_path": "/tmp/carpulse-bench-keys/pub.pem",
            "private_key_path": "/tmp/carpulse-bench-keys/priv.pem",
        },  # type: ignore[arg-type]
    )
    app = create_app(settings, vendor_transport=lambda app: httpx.ASGITransport(app=app))
    async with LifespanManager(app):
        fake = app.state.carpulse.sandbox.stripe
        bodies = [_event(n) for n in range(EVENTS)]
        signed = [(body, fake.sign(body)) for body in bodies]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def run(requests: list[tuple[str, bytes | None, dict[str, str]]]) -> float:
                queue = list(requests)

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

            await run([("/health/live", None, {})] * 200)  # warm-up
            baseline = await run([("/health/live", None, {})] * EVENTS)
            webhooks = [("/api/v1/payment/webhook/stripe", body, {"Stripe-Signature": sig}) for body, sig in signed]
            ingest = await run(webhooks)
            replay = await run(webhooks[: EVENTS // 2])
        await app.state.carpulse.jobs.drain()
        async with app.state.carpulse.engine.begin() as connection:
            await connection.execute(text("DELETE FROM inbound_event WHERE event_id LIKE 'evt_bench_%'"))
    print(f"Webhook ingestion on PostgreSQL, {EVENTS} events, {CONCURRENCY} concurrent, one process (goal ≥ 500/s)")
    print(f"  GET /health/live (baseline)        {baseline:8.0f} req/s")
    print(f"  POST /webhook/stripe, new events   {ingest:8.0f} events/s   ×{ingest / baseline:4.2f} of baseline")
    print(f"  POST /webhook/stripe, replays      {replay:8.0f} events/s   ×{replay / baseline:4.2f} of baseline")


def run() -> None:
    asyncio.run(_measure())
