"""Logbook figures (issue 15) against real `carpulse serve` and `carpulse worker` processes on PostgreSQL and Redis.

- Ping ingestion: 32 phones (one car and webhook token each) send pings, one per request as an iPhone
  Shortcut does, and then in backlogs of 10, as fast as the API takes them; against `/health/live` under
  the same load, rounds interleaved. The figure is events stored per CPU-second of the API process. Every
  202 is counted and compared with the rows in `trip_event` afterwards: nothing acknowledged may be lost.
- Closing a trip of 10,000 fixes end to end: the fixes sent in backlogs of 500, then `end`; the time from
  the end's 202 until `GET /api/v1/logbook/trips/{id}` shows the trip closed and measured (the worker's
  assembly: place the events, clean, measure, simplify, time zones, addresses, places).

The geometry alone (distance accuracy, closing 10,000 fixes in process) is `bench/trip_geometry.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench.data_api import cpu_seconds
from bench.server import free_port, migrate, own_database, serving, wait_live

DATABASE_URL = os.environ.get("CARPULSE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CARPULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
START = (60.16920, 24.93130)  # Kamppi, Helsinki


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.logbook", description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--phones", type=int, default=32, help="phones (cars) sending at once")
    add("--seconds", type=float, default=5.0, help="each round this long")
    add("--rounds", type=int, default=2, help="interleaved rounds of /health/live and pings")
    add("--fixes", type=int, default=10_000, help="fixes of the trip closed end to end")
    add("--keep", action="store_true", help="keep the database and the logs folder")
    return parser.parse_args(argv)


def _environment(folder: Path, database_url: str, port: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CARPULSE_")}
    env.update(
        {
            "CARPULSE_ENVIRONMENT": "test",
            "CARPULSE_DATABASE__URL": database_url,
            "CARPULSE_REDIS__URL": REDIS_URL,
            "CARPULSE_REDIS__KEY_PREFIX": f"carpulse-bench-logbook:{uuid.uuid4().hex[:8]}:",
            "CARPULSE_STORAGE__URL": str(folder / "storage"),
            "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(folder / "public.pem"),
            "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(folder / "private.pem"),
            "CARPULSE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "CARPULSE_LOG__LEVEL": "WARNING",
            # Production's shape: the API only queues jobs on Redis; `carpulse worker` runs them.
            "CARPULSE_JOBS__BROKER": "redis",
            "CARPULSE_JOBS__IN_PROCESS_WORKER": "false",
            # One implicit driver owns the bench's cars: signing in is not what is measured.
            "CARPULSE_LOGBOOK_AUTH__ENABLED": "false",
        }
    )
    return env


class Phones:
    """Each phone's position walks north 10 m per ping, its clock 1 s per ping: every ping a new event."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.step = [0] * len(tokens)
        self.base = datetime.now(UTC) - timedelta(hours=6)

    def events(self, phone: int, count: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(count):
            i = self.step[phone]
            self.step[phone] += 1
            out.append(
                {
                    "lat": START[0] + i * 0.00009,
                    "lon": START[1] + phone * 0.001,
                    "timestamp": (self.base + timedelta(seconds=i)).isoformat(),
                    "accuracy": 5,
                }
            )
        return out


async def _load(
    url: str, phones: int, seconds: float, call: Callable[[httpx.AsyncClient, int], Awaitable[int]]
) -> tuple[int, int, list[float]]:
    """`phones` loops calling `call` for `seconds`, each on its own client and connection, as phones are;
    (units done, errors, latencies). One pool shared by 32 tasks would measure httpx's pool, not the API:
    its waiters serialise, and 32 clients on it made fewer requests than one."""
    done = errors = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop(phone: int) -> None:
        nonlocal done, errors
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    units = await call(client, phone)  # not `done += await …`: that reads `done` before awaiting
                    done += units
                except (httpx.HTTPError, AssertionError):
                    errors += 1
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(loop(phone) for phone in range(phones)))
    return done, errors, latencies


async def _round(
    url: str, pid: int, phones: int, seconds: float, call: Callable[[httpx.AsyncClient, int], Awaitable[int]]
) -> dict[str, float]:
    cpu = cpu_seconds(pid)
    done, errors, latencies = await _load(url, phones, seconds, call)
    used = cpu_seconds(pid) - cpu
    latencies.sort()
    return {
        "done": done,
        "errors": errors,
        "cpu": used,
        "per_core_second": done / used if used else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0,
    }


async def measure(options: argparse.Namespace, folder: Path) -> None:
    name = f"{make_url(DATABASE_URL).database}_logbook"
    async with own_database(DATABASE_URL, name, drop=not options.keep) as (url, pool):
        port = free_port()
        env = _environment(folder, url, port)
        await migrate(env)
        worker_command = ["carpulse.cli", "worker"]
        with (
            serving(env, port, log=folder / "serve.log") as api,
            serving(env, port, command=worker_command, log=folder / "worker.log") as worker,
        ):
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                await wait_live(client, attempts=600)
                tokens = []
                for phone in range(options.phones):
                    car = (await client.post("/api/v1/logbook/cars", json={"name": f"Bench {phone}"})).json()
                    made = await client.post(f"/api/v1/logbook/cars/{car['id']}/webhook-tokens", json={})
                    tokens.append(made.json()["token"])
            phones = Phones(tokens)
            acknowledged = 0

            async def live(client: httpx.AsyncClient, phone: int) -> int:
                response = await client.get("/health/live")
                assert response.status_code == 200
                return 1

            def pinging(per_request: int) -> Callable[[httpx.AsyncClient, int], Awaitable[int]]:
                async def ping(client: httpx.AsyncClient, phone: int) -> int:
                    nonlocal acknowledged
                    body = phones.events(phone, per_request)
                    response = await client.post(
                        "/webhook/ping",
                        json=body if per_request > 1 else body[0],
                        headers={"Authorization": f"Bearer {tokens[phone]}"},
                    )
                    assert response.status_code == 202, response.text
                    stored = int(response.json()["stored"])
                    acknowledged += stored
                    return stored

                return ping

            figures: dict[str, list[dict[str, float]]] = {"live": [], "ping": [], "backlog": []}
            for _ in range(options.rounds):
                figures["live"].append(await _round(base, api.pid, options.phones, options.seconds, live))
                figures["ping"].append(await _round(base, api.pid, options.phones, options.seconds, pinging(1)))
                figures["backlog"].append(await _round(base, api.pid, options.phones, options.seconds, pinging(10)))
            rows = await pool.fetchval("SELECT count(*) FROM trip_event")
            drained = await _drain(pool)
            closing = await _close_big_trip(base, tokens[0], options.fixes, pool)
            worker_cpu = cpu_seconds(worker.pid)
        best = {kind: max(rounds, key=lambda r: r["per_core_second"]) for kind, rounds in figures.items()}
        live_rate = best["live"]["per_core_second"]
        print(
            f"logbook (PostgreSQL + Redis, {options.phones} phones, "
            f"{options.rounds} rounds of {options.seconds:.0f} s, best round)"
        )
        print(
            f"  /health/live baseline: {live_rate:,.0f} requests per API core-second "
            f"(p99 {best['live']['p99_ms']:.1f} ms)"
        )
        for kind, label in (("ping", "one ping per request"), ("backlog", "10 pings per request")):
            row = best[kind]
            print(
                f"  {label}: {row['per_core_second']:,.0f} pings stored per API core-second "
                f"(x{row['per_core_second'] / live_rate:.2f} of /health/live's requests; p50 {row['p50_ms']:.1f} ms, "
                f"p99 {row['p99_ms']:.1f} ms, {row['errors']:.0f} errors)"
            )
        print(
            f"  acknowledged {acknowledged:,} pings, {rows:,} rows in trip_event: "
            + ("none lost" if rows == acknowledged else "MISMATCH")
        )
        print(f"  worker placed every event {drained:.1f} s after the load; worker CPU {worker_cpu:.1f} s in all")
        print(f"  a trip of {options.fixes:,} fixes closed and measured {closing * 1000:.0f} ms after its end's 202")


async def _drain(pool: Any, within_seconds: float = 300) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < within_seconds:
        if not await pool.fetchval("SELECT count(*) FROM trip_event WHERE assembled_at IS NULL"):
            return time.perf_counter() - started
        await asyncio.sleep(0.2)
    raise RuntimeError("the worker did not place every event")


async def _close_big_trip(base: str, token: str, fixes: int, pool: Any) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    at = datetime.now(UTC) - timedelta(hours=4)
    events = [
        {
            "lat": START[0] + (i // 200) * 0.0002 * (1 if (i // 4000) % 2 == 0 else -1),
            "lon": START[1] + (i % 200) * 0.0003,
            "timestamp": (at + timedelta(seconds=i)).isoformat(),
            "accuracy": 5,
            "event_id": f"big-{i}",
        }
        for i in range(fixes + 1)
    ]
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        response = await client.post("/webhook/start", json=events[0], headers=headers)
        response.raise_for_status()
        for i in range(1, fixes, 500):
            (
                await client.post("/webhook/ping", json=events[i : min(i + 500, fixes)], headers=headers)
            ).raise_for_status()
        await _drain(pool)
        (await client.post("/webhook/end", json=events[fixes], headers=headers)).raise_for_status()
        sent = time.perf_counter()
        while time.perf_counter() - sent < 120:
            state = await pool.fetchval(
                "SELECT state FROM trip WHERE fix_count >= $1 ORDER BY started_at DESC LIMIT 1", fixes
            )
            if state == "closed":
                return time.perf_counter() - sent
            await asyncio.sleep(0.005)
    raise RuntimeError("the trip was not closed")


def run(argv: list[str] | None = None) -> None:
    options = parse_options(argv if argv is not None else [])
    folder = Path(tempfile.mkdtemp(prefix="carpulse-bench-logbook-"))
    try:
        asyncio.run(measure(options, folder))
    finally:
        if options.keep:
            print(f"  logs: {folder}")
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    run(sys.argv[1:])
