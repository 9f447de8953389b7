"""`make soak`: jobs through what production does to them, measured with real processes (issue 11).

Each scenario runs `carpulse serve` (one replica, the sandbox vendors, `IN_PROCESS_WORKER=false`) and
`carpulse worker` processes on a fresh PostgreSQL database and a private redis-server, with every
job and report setting at its default (set one in the shell to try another: the processes inherit
the environment). Paid orders go through the HTTP API as `carpulse demo` walks it; the figures come
from the database (orders, reports), the job streams (every Redis key starting with the queue name),
the workers' `report.completed` log lines and /proc (render processes left without their worker).

- kills: SIGKILL a random worker at random moments while 100 paid orders render (50 kills, each
  worker restarted at once): all fulfilled, no report completed twice, no orphan render process,
  and the time from the last kill until every order is fulfilled (goal ≤ 30 s).
- redis: Redis stopped for 20 s under a purchase load (orders created before it are paid in the middle
  of it), then started empty: no HTTP 500, and every order paid during or after the outage fulfilled
  within 60 s of the recovery (or of its payment, if later).
- stream: a steady purchase load for 10 minutes with the reconciler at its default period: the job
  streams' length stays within 2× the jobs in flight (open reports, paid orders without their reports,
  unhandled webhooks; at least 1).
- throttle: every Tesla Fleet call answers 429 for 5 minutes while orders are paid: no report fails,
  and every order is fulfilled within a minute after the 429s end.

`--quick` runs each at a reduced size. Logs of every process go to a temporary folder whose path is
printed and kept. Goals missed exit non-zero only with `--strict`.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url
from tests.redis_server import RedisServer, free_port

from bench.server import own_database
from carpulse.config import JobSettings
from carpulse.demo import Checkout, DemoFailed, checkout, pay

SCENARIOS = ("kills", "redis", "stream", "throttle")
# Sandbox accounts whose first vehicle is awake and connected: one per purchase, in turn.
ACCOUNTS = ("solo", "family", "fleet", "us")
LOCALES = ("en", "fi", "sv", "de", "fr")
RUN_MARK = "CARPULSE_SOAK_RUN"  # in every process's environment: how orphans are found in /proc
FAULTS = "/_sandbox/tesla/_control/faults"
OPEN_STATUSES = ("queued", "processing", "uploading")


# ---------------------------------------------------------------------------------------------- options


def _env(name: str, default: str) -> str:
    return os.environ.get(f"SOAK_{name}", default)


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Measure the issue-11 figures with real processes. Every flag also reads SOAK_<FLAG>.",
    )
    add = parser.add_argument
    add("--scenarios", default=_env("SCENARIOS", ",".join(SCENARIOS)), help="comma-separated: " + ",".join(SCENARIOS))
    add("--quick", action="store_true", default=_env("QUICK", "") not in ("", "0"), help="the reduced sizes")
    add("--strict", action="store_true", default=_env("STRICT", "") not in ("", "0"), help="exit 1 on a missed goal")
    add(
        "--database-url",
        default=_env("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/soak"),
        help="PostgreSQL; each scenario drops and recreates <database>_<n> on that server (n = 1..4)",
    )
    add("--workers", type=int, default=int(_env("WORKERS", "2")), help="`carpulse worker` processes")
    add("--package", default=_env("PACKAGE", "basic"), choices=("basic", "pro"))
    add("--concurrency", type=int, default=int(_env("CONCURRENCY", "20")), help="purchases at once (kills)")
    add("--seed", type=int, default=int(_env("SEED", "11")), help="the kills' moments and victims")
    # kills
    add("--orders", type=int, default=None, help="kills: paid orders (100; quick 10)")
    add("--kills", type=int, default=None, help="kills: SIGKILLs (50; quick 5)")
    add(
        "--kill-gap-max",
        type=float,
        default=float(_env("KILL_GAP_MAX", "20")),
        help="kills: the next kill comes with the next slice of fulfilled orders, or after this many seconds",
    )
    add("--kill-jitter", type=float, default=float(_env("KILL_JITTER", "3")), help="kills: random delay, seconds")
    add("--drain-timeout", type=float, default=float(_env("DRAIN_TIMEOUT", "600")), help="kills: give up after")
    # redis
    add("--outage", type=float, default=None, help="redis: seconds Redis is down (20; quick 5)")
    add("--load", type=int, default=int(_env("LOAD", "3")), help="redis: purchase loops running throughout")
    add("--around", type=float, default=float(_env("AROUND", "15")), help="redis: seconds of load before and after")
    add(
        "--load-pause",
        type=float,
        default=float(_env("LOAD_PAUSE", "10")),
        help="redis: seconds between one loop's purchases (a load the renders keep up with, so the figure is "
        "the outage's, not a backlog's)",
    )
    add("--settle", type=float, default=float(_env("SETTLE", "300")), help="redis, throttle: wait at most this long")
    # stream
    add("--stream-seconds", type=float, default=None, help="stream: seconds of load (600; quick 60)")
    add("--stream-load", type=int, default=int(_env("STREAM_LOAD", "2")), help="stream: purchase loops")
    add(
        "--stream-pause",
        type=float,
        default=float(_env("STREAM_PAUSE", "10")),
        help="stream: seconds between one loop's purchases (a steady load, not a backlog)",
    )
    # throttle
    add("--throttle-seconds", type=float, default=None, help="throttle: seconds of 429s (300; quick 30)")
    add("--throttle-orders", type=int, default=None, help="throttle: orders paid during the 429s (20; quick 6)")
    add("--retry-after", type=int, default=int(_env("RETRY_AFTER", "10")), help="throttle: the 429s' Retry-After")
    options = parser.parse_args(argv)
    quick = options.quick
    sizes = {
        "orders": ("ORDERS", 100, 10),
        "kills": ("KILLS", 50, 5),
        "outage": ("OUTAGE", 20.0, 5.0),
        "stream_seconds": ("STREAM_SECONDS", 600.0, 60.0),
        "throttle_seconds": ("THROTTLE_SECONDS", 300.0, 30.0),
        "throttle_orders": ("THROTTLE_ORDERS", 20, 6),
    }
    for name, (variable, full, reduced) in sizes.items():
        if getattr(options, name) is None:
            setattr(options, name, type(full)(_env(variable, str(reduced if quick else full))))
    options.scenarios = [name.strip() for name in options.scenarios.split(",") if name.strip()]
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return options


# ----------------------------------------------------------------------------------------------- report


@dataclass
class Figure:
    name: str
    goal: str
    measured: str
    passed: bool | None  # None: for information, no goal


@dataclass
class Outcome:
    scenario: str
    title: str
    figures: list[Figure] = field(default_factory=list)

    def add(self, name: str, goal: str, measured: object, passed: bool | None = None) -> None:
        self.figures.append(Figure(name, goal, str(measured), passed))

    def print(self) -> None:
        print(f"\n{self.scenario}: {self.title}")
        width = max(len(f.name) for f in self.figures)
        goal_width = max(4, *(len(f.goal) for f in self.figures))
        measured_width = max(8, *(len(f.measured) for f in self.figures))
        print(f"  {'figure':<{width}}  {'goal':<{goal_width}}  {'measured':<{measured_width}}  result")
        for f in self.figures:
            result = "" if f.passed is None else ("pass" if f.passed else "FAIL")
            print(f"  {f.name:<{width}}  {f.goal:<{goal_width}}  {f.measured:<{measured_width}}  {result}")

    @property
    def missed(self) -> bool:
        return any(f.passed is False for f in self.figures)


# -------------------------------------------------------------------------------------------- processes


def _pids_with_mark(mark: str) -> list[int]:
    """Every process whose environment carries this run's mark (zombies have none, and are not counted)."""
    needle = f"{RUN_MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: the fields after the last ")" are fixed.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _command(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    return "?"


class Cluster:
    """One scenario's processes: a private redis-server, `carpulse serve` and `carpulse worker`s, on a
    fresh database. `close` (also at exit) stops them all, and any process that carries the run's mark."""

    def __init__(self, folder: Path, database_url: str, workers: int) -> None:
        self.folder = folder
        self.mark = uuid.uuid4().hex
        self.redis = RedisServer()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.queue = os.environ.get("CARPULSE_JOBS__QUEUE_NAME", "carpulse-jobs")
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes] | None] = [None] * workers
        self.incarnations: Counter[int] = Counter()
        self.env = os.environ | {
            RUN_MARK: self.mark,
            "CARPULSE_DATABASE__URL": database_url,
            "CARPULSE_STORAGE__URL": str(folder / "storage"),
            "CARPULSE_REDIS__URL": self.redis.url,
            "CARPULSE_JOBS__BROKER": "redis",
            "CARPULSE_JOBS__IN_PROCESS_WORKER": "false",
            "CARPULSE_JOBS__HEARTBEAT_PATH": str(folder / "worker.heartbeat"),
            "CARPULSE_PUBLIC_BASE_URL": self.base_url,
            "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(folder / "keys" / "public.pem"),
            "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(folder / "keys" / "private.pem"),
            # Measured here: the jobs. Not the sandbox cars' wake-up, not our own rate limits.
            "CARPULSE_SANDBOX__WAKE_DELAY_SECONDS": "0",
            "CARPULSE_RATE_LIMIT__ENABLED": "false",
            "CARPULSE_LOG__LEVEL": "INFO",
            "CARPULSE_LOG__JSON_LINES": "true",
        }
        atexit.register(self.close)

    def _spawn(self, log: Path, *args: str) -> subprocess.Popen[bytes]:
        with log.open("ab") as sink:
            return subprocess.Popen(
                [sys.executable, "-m", "carpulse.cli", *args],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches the harness only, which stops them in order
            )

    async def start(self) -> None:
        self.redis.start()
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "carpulse.cli", "migrate"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.server = self._spawn(self.folder / "serve.log", "serve", "--host", "127.0.0.1", "--port", str(self.port))
        for slot in range(len(self.workers)):
            self.start_worker(slot)
        await self._wait_live()

    def start_worker(self, slot: int) -> None:
        self.incarnations[slot] += 1
        self.workers[slot] = self._spawn(self.folder / f"worker-{slot}.{self.incarnations[slot]}.log", "worker")

    def kill_worker(self, slot: int) -> list[int]:
        """SIGKILL a worker (not its children) and start another in its place; the children it had."""
        worker = self.workers[slot]
        assert worker is not None
        children = self._descendants({worker.pid})
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        self.start_worker(slot)
        return sorted(children - {worker.pid})

    def started_workers(self) -> list[int]:
        """Slots whose current worker has logged `worker.started` (it consumes jobs)."""
        return [
            slot
            for slot in range(len(self.workers))
            if b'"worker.started"' in (self.folder / f"worker-{slot}.{self.incarnations[slot]}.log").read_bytes()
        ]

    async def any_worker_started(self) -> bool:
        return bool(self.started_workers())

    async def _wait_live(self) -> None:
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            while time.monotonic() < deadline:
                assert self.server is not None
                if self.server.poll() is not None:
                    raise RuntimeError(f"carpulse serve exited; see {self.folder / 'serve.log'}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/health/live")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError("carpulse serve did not come up in 120 s")

    def _descendants(self, roots: set[int]) -> set[int]:
        parents = {pid: _parent(pid) for pid in _pids_with_mark(self.mark)}
        found = set(roots)
        grew = True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in found and pid not in found:
                    found.add(pid)
                    grew = True
        return found

    def orphans(self) -> list[int]:
        """Processes of this run outside the live server's and workers' trees: left behind by a kill."""
        live = {p.pid for p in (self.server, *self.workers) if p is not None and p.poll() is None}
        return sorted(set(_pids_with_mark(self.mark)) - self._descendants(live))

    def worker_events(self, event: str) -> list[dict[str, Any]]:
        lines = []
        for log in sorted(self.folder.glob("worker-*.log")):
            for line in log.read_bytes().splitlines():
                if line.startswith(b"{") and event.encode() in line:
                    with contextlib.suppress(ValueError):
                        record = json.loads(line)
                        if record.get("message", record.get("event")) == event:
                            lines.append(record)
        return lines

    def close(self) -> None:
        processes = [p for p in (*self.workers, self.server) if p is not None]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        # Whatever a killed worker left behind (render processes, a resource tracker): this run's only.
        for pid in _pids_with_mark(self.mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.redis.stop()


# ------------------------------------------------------------------------------------------- the client


@dataclass
class Traffic:
    """Every answer the harness got from the API, by status; transport failures apart."""

    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    transport_errors: int = 0

    async def record(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code == 500 and len(self.server_errors) < 5:
            await response.aread()
            self.server_errors.append(f"{response.request.method} {response.request.url.path}: {response.text[:200]}")


@contextlib.asynccontextmanager
async def api_client(cluster: Cluster, traffic: Traffic) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=cluster.base_url,
        timeout=60,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        event_hooks={"response": [traffic.record]},
    ) as client:
        yield client


def _quiet(_: str) -> None:
    return None


async def buy(
    client: httpx.AsyncClient, traffic: Traffic, number: int, package: str, *, attempts: int = 8
) -> str | None:
    """One paid order (its id), retried on a failed step; None when every attempt failed."""
    for attempt in range(attempts):
        order_id = await _purchase(client, traffic, number, package)
        if order_id is not None:
            return order_id
        await asyncio.sleep(min(5.0, 0.5 * 2**attempt))
    return None


async def _purchase(client: httpx.AsyncClient, traffic: Traffic, number: int, package: str) -> str | None:
    """Check out and pay one order (its id); None when a step failed."""
    try:
        order = await checkout(
            client,
            locale=LOCALES[number % len(LOCALES)],
            package=package,
            account=ACCOUNTS[number % len(ACCOUNTS)],
            echo=_quiet,
        )
        await pay(client, order, _quiet)
    except (DemoFailed, httpx.TransportError) as exc:
        if isinstance(exc, httpx.TransportError):
            traffic.transport_errors += 1
        return None
    return order.order_id


async def buy_many(
    client: httpx.AsyncClient, traffic: Traffic, count: int, package: str, concurrency: int
) -> list[str]:
    gate = asyncio.Semaphore(concurrency)

    async def one(number: int) -> str | None:
        async with gate:
            return await buy(client, traffic, number, package)

    return [order for order in await asyncio.gather(*(one(n) for n in range(count))) if order]


async def keep_buying(
    client: httpx.AsyncClient,
    traffic: Traffic,
    stop: asyncio.Event,
    package: str,
    first: int,
    orders: list[str],
    pause: float = 0.0,
) -> None:
    """Purchases one after the other (`pause` seconds apart) until `stop`; a failed step pauses briefly
    and starts a new purchase."""
    number = first
    while not stop.is_set():
        if pause and number != first:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            if stop.is_set():
                return
        number += 1000
        order_id = await _purchase(client, traffic, number, package)
        if order_id is None:
            await asyncio.sleep(0.5)
        else:
            orders.append(order_id)


# ------------------------------------------------------------------------------------------ measurement


def _epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass
class OrderState:
    id: str
    status: str
    paid_at: float | None
    fulfilled_at: float | None


class Database:
    """Read-only questions to the scenario's database, in plain SQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def orders(self, ids: Iterable[str] | None = None) -> dict[str, OrderState]:
        rows = await self.pool.fetch(
            """
            SELECT o.id, o.status, o.paid_at,
                   (SELECT min(t.created_at) FROM order_transition t
                     WHERE t.order_id = o.id AND t.to_status = 'fulfilled') AS fulfilled_at
              FROM "order" o
             WHERE $1::text[] IS NULL OR o.id = ANY($1::text[])
            """,
            None if ids is None else list(ids),
        )
        return {
            row["id"]: OrderState(row["id"], row["status"], _epoch(row["paid_at"]), _epoch(row["fulfilled_at"]))
            for row in rows
        }

    async def fulfilled(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM \"order\" WHERE status = 'fulfilled'"))

    async def reports(self) -> list[asyncpg.Record]:
        return list(await self.pool.fetch("SELECT id, order_id, status, attempts, failure_reason FROM report"))

    async def in_flight(self) -> int:
        """Work a job exists for: open reports, paid orders without their reports, unhandled webhooks."""
        return int(
            await self.pool.fetchval(
                """
                SELECT (SELECT count(*) FROM report WHERE status = ANY($1::text[]))
                     + (SELECT count(*) FROM "order" o WHERE o.status = 'paid' AND NOT EXISTS
                          (SELECT 1 FROM report r WHERE r.order_id = o.id AND r.origin = 'order'))
                     + (SELECT count(*) FROM inbound_event WHERE handled_at IS NULL)
                """,
                list(OPEN_STATUSES),
            )
        )


@contextlib.asynccontextmanager
async def fresh_database(url: str, number: int) -> AsyncIterator[tuple[str, Database]]:
    """`<database>_<number>` dropped and created on the server of `url` (kept afterwards, to look into);
    its SQLAlchemy URL and a reader."""
    async with own_database(url, f"{make_url(url).database}_{number}", drop=False) as (target, pool):
        yield target, Database(pool)


@dataclass
class StreamSample:
    length: int
    pending: int
    streams: int


async def sample_streams(redis: Redis, queue: str) -> StreamSample:
    """XLEN and XPENDING summed over every stream whose key starts with the queue name."""
    length = pending = streams = 0
    async for key in redis.scan_iter(match=f"{queue}*", _type="stream"):
        streams += 1
        length += int(await redis.xlen(key))
        with contextlib.suppress(RedisError):  # a stream without the group yet
            for group in await redis.xinfo_groups(key):
                pending += int(group["pending"])
    return StreamSample(length, pending, streams)


async def until(predicate: Callable[[], Any], patience: float, every: float = 0.5) -> float | None:
    """Seconds until `await predicate()` is true, None after `patience`."""
    started = time.monotonic()
    while time.monotonic() - started < patience:
        if await predicate():
            return time.monotonic() - started
        await asyncio.sleep(every)
    return None


def _seconds(value: float | None, limit: float | None = None) -> str:
    if value is None:
        return f"> {limit:.0f} s" if limit is not None else "never"
    return f"{value:.1f} s"


# ------------------------------------------------------------------------------------------- scenarios


async def scenario_kills(options: argparse.Namespace, cluster: Cluster, db: Database) -> Outcome:
    outcome = Outcome(
        "kills",
        f"{options.orders} paid orders ({options.package}), {options.kills} SIGKILLs of {options.workers} "
        f"workers spread over the work (≤ {options.kill_gap_max:g} s + {options.kill_jitter:g} s apart), "
        "each restarted at once",
    )
    rng = random.Random(options.seed)
    traffic = Traffic()
    await cluster.start()
    async with api_client(cluster, traffic) as client:
        buying = asyncio.create_task(buy_many(client, traffic, options.orders, options.package, options.concurrency))
        killed_children: list[int] = []
        kills_with_work = 0
        previous = time.monotonic()
        for k in range(1, options.kills + 1):
            # Spread over the work: kill k once k/(kills+1) of the orders are fulfilled, or once the
            # longest gap has passed (stranded renders can stall progress for a lease), then at a random
            # moment within the jitter, so that a kill lands anywhere in a render.
            threshold = math.ceil(k * options.orders / (options.kills + 1))

            async def reached(threshold: int = threshold) -> bool:
                return await db.fulfilled() >= threshold

            await until(reached, options.kill_gap_max - (time.monotonic() - previous), every=0.25)
            await asyncio.sleep(rng.uniform(0, options.kill_jitter))
            if not (buying.done() and await _all_fulfilled(db, buying.result())):
                kills_with_work += 1
            # A worker still importing has nothing to lose: the victim is one that has started consuming.
            await until(cluster.any_worker_started, 120, every=0.25)
            killed_children += cluster.kill_worker(rng.choice(cluster.started_workers() or [0]))
            previous = time.monotonic()
        open_at_last_kill = options.orders - await db.fulfilled()
        last_kill = time.time()
        orders = await buying

        async def drained() -> bool:
            return await _all_fulfilled(db, orders)

        waited = await until(drained, options.drain_timeout)
        states = await db.orders(orders)
        if waited is not None:
            done = max((s.fulfilled_at or 0.0) for s in states.values()) if states else last_kill
            drain: float | None = max(0.0, done - last_kill)
        else:
            drain = None
        await asyncio.sleep(5)  # a render process notices its parent's death within a second
        orphans = cluster.orphans()

    fulfilled = sum(1 for s in states.values() if s.status == "fulfilled")
    completions = Counter(record.get("report") for record in cluster.worker_events("report.completed"))
    duplicates = sum(1 for count in completions.values() if count > 1)
    reports = await db.reports()
    outcome.add("orders paid", f"{options.orders}", f"{len(orders)}/{options.orders}", len(orders) == options.orders)
    outcome.add("orders fulfilled", "all", f"{fulfilled}/{len(orders)}", fulfilled == len(orders) and bool(orders))
    outcome.add("reports completed more than once", "0", duplicates, duplicates == 0)
    outcome.add(
        "orphan processes (no live worker above)",
        "0",
        f"{len(orphans)}" + (f" ({_command(orphans[0])[:40]}…)" if orphans else ""),
        not orphans,
    )
    outcome.add(
        "drain after the last kill", "≤ 30 s", _seconds(drain, options.drain_timeout), drain is not None and drain <= 30
    )
    outcome.add("kills while orders were open", "", f"{kills_with_work}/{options.kills}")
    outcome.add("orders open at the last kill", "", open_at_last_kill)
    outcome.add("render processes a killed worker had", "", len(killed_children))
    outcome.add("reports claimed more than once", "", sum(1 for r in reports if r["attempts"] > 1))
    outcome.add("failed reports", "", sum(1 for r in reports if r["status"] == "failed"))
    outcome.add("HTTP 500 / transport errors", "", f"{traffic.statuses[500]} / {traffic.transport_errors}")
    return outcome


async def _all_fulfilled(db: Database, orders: list[str]) -> bool:
    states = await db.orders(orders)
    return bool(states) and all(s.status == "fulfilled" for s in states.values())


async def scenario_redis(options: argparse.Namespace, cluster: Cluster, db: Database) -> Outcome:
    outcome = Outcome(
        "redis",
        f"Redis stopped {options.outage:g} s under {options.load} purchase loops ({options.load_pause:g} s pauses, "
        f"{options.around:g} s before and after), then started empty",
    )
    traffic = Traffic()
    await cluster.start()
    async with api_client(cluster, traffic) as client:
        stop = asyncio.Event()
        loose: list[str] = []
        loops = [
            asyncio.create_task(keep_buying(client, traffic, stop, options.package, n, loose, options.load_pause))
            for n in range(options.load)
        ]
        await asyncio.sleep(options.around)
        # Orders created before the outage and paid in the middle of it: their jobs cannot be queued.
        prepared: list[Checkout] = list(
            await asyncio.gather(
                *(
                    checkout(client, locale="en", package=options.package, account=ACCOUNTS[n % 4], echo=_quiet)
                    for n in range(4)
                )
            )
        )
        down_at = time.time()
        cluster.redis.stop()
        await asyncio.sleep(options.outage / 2)
        paid_in_outage = await asyncio.gather(
            *(pay(client, order, _quiet) for order in prepared), return_exceptions=True
        )
        await asyncio.sleep(max(0.0, down_at + options.outage - time.time()))
        cluster.redis.start()
        up_at = time.time()
        await asyncio.sleep(options.around)
        stop.set()
        await asyncio.gather(*loops)

        ours = set(loose) | {order.order_id for order in prepared}

        async def settled() -> bool:
            states = await db.orders(ours)
            return all(s.status == "fulfilled" for s in states.values() if s.paid_at is not None)

        await until(settled, max(0.0, up_at + options.settle - time.time()))
        states = await db.orders(ours)

    paid = [s for s in states.values() if s.paid_at is not None]
    before = [s for s in paid if s.paid_at is not None and s.paid_at < down_at]
    later = [s for s in paid if s.paid_at is not None and s.paid_at >= down_at]
    during = [s for s in later if s.paid_at is not None and s.paid_at <= up_at]
    lateness = [(s.fulfilled_at - max(s.paid_at or 0.0, up_at)) if s.fulfilled_at is not None else None for s in later]
    late = [value for value in lateness if value is None or value > 60]
    known = [value for value in lateness if value is not None]
    five_hundreds = traffic.statuses[500]
    outcome.add("HTTP 500", "0", five_hundreds, five_hundreds == 0)
    outcome.add(
        "paid during/after the outage, fulfilled ≤ 60 s after recovery",
        "all",
        f"{len(later) - len(late)}/{len(later)}",
        not late and bool(later),
    )
    worst = "not all fulfilled" if None in lateness else (_seconds(max(known)) if known else "-")
    outcome.add("slowest of those, from recovery (or payment)", "≤ 60 s", worst)
    outcome.add(
        "of those, paid during the outage",
        "",
        f"{len(during)} ({sum(1 for r in paid_in_outage if r is None)} of 4 prepared)",
    )
    outcome.add("paid before the outage, fulfilled", "", f"{sum(1 for s in before if s.fulfilled_at)}/{len(before)}")
    # The backlog's share: how long an order waited when Redis had nothing to do with it.
    unaffected = [
        s.fulfilled_at - (s.paid_at or 0.0) for s in before if s.fulfilled_at is not None and s.fulfilled_at < down_at
    ]
    outcome.add(
        "slowest order done before the outage, from payment", "", _seconds(max(unaffected)) if unaffected else "-"
    )
    other = {status: count for status, count in sorted(traffic.statuses.items()) if status >= 500 and status != 500}
    outcome.add("other 5xx answers / transport errors", "", f"{other or 0} / {traffic.transport_errors}")
    for line in traffic.server_errors:
        outcome.add("  a 500", "", line[:100])
    return outcome


async def scenario_stream(options: argparse.Namespace, cluster: Cluster, db: Database) -> Outcome:
    period = float(os.environ.get("CARPULSE_JOBS__RECONCILE_EVERY_SECONDS") or JobSettings().reconcile_every_seconds)
    outcome = Outcome(
        "stream",
        f"{options.stream_seconds:g} s of {options.stream_load} purchase loops ({options.stream_pause:g} s pauses), "
        "reconciler every "
        f"{period:g} s",
    )
    traffic = Traffic()
    await cluster.start()
    redis = Redis.from_url(cluster.redis.url)
    samples: list[tuple[StreamSample, int]] = []
    try:
        async with api_client(cluster, traffic) as client:
            stop = asyncio.Event()
            orders: list[str] = []
            loops = [
                asyncio.create_task(
                    keep_buying(client, traffic, stop, options.package, n, orders, options.stream_pause)
                )
                for n in range(options.stream_load)
            ]
            deadline = time.monotonic() + options.stream_seconds
            while time.monotonic() < deadline:
                samples.append((await sample_streams(redis, cluster.queue), await db.in_flight()))
                await asyncio.sleep(1)
            stop.set()
            await asyncio.gather(*loops)
            samples.append((await sample_streams(redis, cluster.queue), await db.in_flight()))
            states = await db.orders(orders)
    finally:
        await redis.aclose()

    over = [(s, flight) for s, flight in samples if s.length > 2 * max(1, flight)]
    worst_ratio = max(s.length / max(1, flight) for s, flight in samples)
    end, end_flight = samples[-1]
    outcome.add("samples with stream length > 2× in flight", "0", f"{len(over)}/{len(samples)}", not over)
    outcome.add("largest length / in flight", "≤ 2", f"{worst_ratio:.1f}")
    outcome.add("largest stream length", "", max(s.length for s, _ in samples))
    outcome.add("largest jobs in flight", "", max(flight for _, flight in samples))
    outcome.add("at the end: length, pending, in flight", "", f"{end.length}, {end.pending}, {end_flight}")
    outcome.add("streams under the queue name", "", max(s.streams for s, _ in samples))
    fulfilled = sum(1 for s in states.values() if s.status == "fulfilled")
    outcome.add("orders paid / fulfilled by the end", "", f"{len(orders)} / {fulfilled}")
    outcome.add("HTTP 500", "", traffic.statuses[500])
    return outcome


async def scenario_throttle(options: argparse.Namespace, cluster: Cluster, db: Database) -> Outcome:
    outcome = Outcome(
        "throttle",
        f"every Tesla Fleet call 429 (Retry-After {options.retry_after} s) for {options.throttle_seconds:g} s; "
        f"{options.throttle_orders} orders paid during it, half at its start, half halfway",
    )
    traffic = Traffic()
    await cluster.start()
    async with api_client(cluster, traffic) as client:
        # Checkout reads the vehicle list from Tesla, so the orders are created before the 429s start.
        prepared: list[Checkout] = list(
            await asyncio.gather(
                *(
                    checkout(
                        client,
                        locale=LOCALES[n % len(LOCALES)],
                        package=options.package,
                        account=ACCOUNTS[n % len(ACCOUNTS)],
                        echo=_quiet,
                    )
                    for n in range(options.throttle_orders)
                )
            )
        )
        switched = await client.post(FAULTS, json={"rate_limit_retry_after": options.retry_after})
        switched.raise_for_status()
        started = time.time()
        half = len(prepared) // 2
        await asyncio.gather(*(pay(client, order, _quiet) for order in prepared[:half]))
        failed_during: set[str] = set()

        async def watch(until_moment: float) -> None:
            while time.time() < until_moment:
                failed_during.update(r["id"] for r in await db.reports() if r["status"] == "failed")
                await asyncio.sleep(2)

        await watch(started + options.throttle_seconds / 2)
        await asyncio.gather(*(pay(client, order, _quiet) for order in prepared[half:]))
        await watch(started + options.throttle_seconds)
        (await client.delete(FAULTS)).raise_for_status()
        ended = time.time()
        ids = [order.order_id for order in prepared]

        async def settled() -> bool:
            states = await db.orders(ids)
            reports = await db.reports()
            return all(s.status == "fulfilled" for s in states.values()) or all(
                r["status"] not in OPEN_STATUSES for r in reports
            )

        await until(settled, options.settle)
        states = await db.orders(ids)
        reports = await db.reports()
        calls = (await client.get("/_sandbox/tesla/_control/calls")).json()

    failed = [r for r in reports if r["status"] == "failed"]
    reasons = Counter((r["failure_reason"] or "?")[:60] for r in failed)
    in_time = [s for s in states.values() if s.fulfilled_at is not None and s.fulfilled_at - ended <= 60]
    done = [s.fulfilled_at - ended for s in states.values() if s.fulfilled_at is not None]
    outcome.add("reports failed", "0", f"{len(failed)} (during the 429s: {len(failed_during)})", not failed)
    outcome.add(
        "orders fulfilled ≤ 60 s after the 429s end", "all", f"{len(in_time)}/{len(ids)}", len(in_time) == len(ids)
    )
    slowest = _seconds(max(done)) if len(done) == len(ids) and done else f"{len(ids) - len(done)} never"
    outcome.add("slowest, from the end of the 429s", "≤ 60 s", slowest)
    outcome.add("reports claimed more than once", "", sum(1 for r in reports if r["attempts"] > 1))
    outcome.add("Fleet calls answered 429", "", sum(1 for c in calls if c.get("status") == 429))
    for reason, count in reasons.most_common(3):
        outcome.add("  failure reason", "", f"{count}× {reason}")
    outcome.add("HTTP 500", "", traffic.statuses[500])
    return outcome


RUNNERS = {"kills": scenario_kills, "redis": scenario_redis, "stream": scenario_stream, "throttle": scenario_throttle}


async def run_scenario(options: argparse.Namespace, name: str, folder: Path) -> Outcome:
    number = SCENARIOS.index(name) + 1
    async with fresh_database(options.database_url, number) as (url, db):
        cluster = Cluster(folder, url, options.workers)
        try:
            return await RUNNERS[name](options, cluster, db)
        finally:
            await asyncio.to_thread(cluster.close)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    root = Path(tempfile.mkdtemp(prefix="carpulse-soak-"))
    print(f"soak: {', '.join(options.scenarios)}{' (quick)' if options.quick else ''}; logs in {root}")
    # A SIGTERM (a CI timeout) unwinds like Ctrl-C, so every `finally` stops its processes.
    signal.signal(signal.SIGTERM, _interrupt)
    outcomes = []
    for name in options.scenarios:
        folder = root / name
        folder.mkdir()
        started = time.monotonic()
        try:
            outcome = asyncio.run(run_scenario(options, name, folder))
        except KeyboardInterrupt:
            print(f"\ninterrupted in {name}; every process stopped; logs in {root}")
            return 130
        outcome.add("wall time", "", _seconds(time.monotonic() - started))
        outcome.print()
        outcomes.append(outcome)
    missed = [o.scenario for o in outcomes if o.missed]
    print(f"\ngoals missed in: {', '.join(missed)}" if missed else "\nevery goal met")
    print(f"logs: {root}")
    return 1 if options.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
