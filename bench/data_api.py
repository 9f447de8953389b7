"""Data API figures (issue 14) against real `carpulse serve` processes on PostgreSQL and Redis.

One database of its own on the server of `CARPULSE_TEST_DATABASE_URL` (`<database>_data_api`, created,
migrated and dropped), the Redis of `CARPULSE_TEST_REDIS_URL` under a key prefix of its own, the sandbox on
(sign-up mail, simulated data), a fleet written by `carpulse simulate`, and API clients set up through HTTP
as a business does it (register, confirm, log in, key), moved by the admin to plans made for the bench.

- P1: `GET /api/v1/vehicle/dynamic/{vin}` metered (key, burst limit, quota, usage record, kept answer, data)
  against the bare baseline of `bench/bare.py` (the same uvicorn options, one route answering a fixed copy
  of a real dynamic answer, byte for byte), rounds interleaved, 32 clients: req/s, ratio, p50/p99.
- Metering exactness: N calls (`--calls`, default 4,000; 20,000 with `--full` or BENCH_DATA_API_FULL=1)
  from 8 keys, ~5 % sent twice with one Idempotency-Key (half at once, half after the answer), ~1 % first
  sent with a timeout too short to answer, every timeout and connection error retried with its key, and
  the API SIGKILLed once halfway and restarted; then the answers the clients got against `usage_record`.
- Batch: one `POST /api/v1/vehicle/batch` of 100 VINs against the 100 single calls, sequential and 32 at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from tests.data_api.flow import DataClient

from bench.server import free_port, migrate, own_database, serving, wait_live
from carpulse.kit.passwords import hash_password
from carpulse.usage.meter import IDEMPOTENCY_HEADER, REPLAYED_HEADER, REQUEST_ID_HEADER

DATABASE_URL = os.environ.get("CARPULSE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CARPULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ADMIN_PASSWORD = "bench-admin-password"
PASSWORD = "a long enough bench passphrase"
DYNAMIC = "/api/v1/vehicle/dynamic/{vin}"
# Plans made by the admin for the bench: unlimited like Enterprise but with a burst the load never meets,
# and one with a daily quota no run reaches, so the quota counter in Redis is exercised (and measured).
UNLIMITED = "bench-unlimited"
COUNTED = "bench-counted"
PLANS: dict[str, tuple[str, int | None]] = {UNLIMITED: ("Bench, unlimited", None), COUNTED: ("Bench, counted", 10**8)}
RETRYABLE = frozenset({429, 500, 502, 503, 504})


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.data_api", description=__doc__.splitlines()[0])
    add = parser.add_argument
    full = os.environ.get("BENCH_DATA_API_FULL", "") not in ("", "0")
    add("--full", action="store_true", default=full, help="the issue's 20,000 metered calls (BENCH_DATA_API_FULL=1)")
    add("--calls", type=int, default=None, help="metered calls in the kill run (4,000; --full 20,000)")
    add("--keys", type=int, default=8, help="API clients (one key each) in the kill run")
    add("--concurrency", type=int, default=32, help="clients at once (P1 and the kill run)")
    add("--vehicles", type=int, default=200, help="simulated vehicles")
    add("--seconds", type=float, default=6.0, help="P1: each round at most this long")
    add("--requests", type=int, default=3000, help="P1: each round at most this many requests")
    add("--rounds", type=int, default=3, help="P1: interleaved rounds of bare and metered")
    add("--seed", type=int, default=14)
    add("--keep", action="store_true", help="keep the database and the logs folder")
    options = parser.parse_args(argv)
    if options.calls is None:
        options.calls = 20_000 if options.full else 4_000
    return options


# ---------------------------------------------------------------------------------------------- servers


def _environment(folder: Path, database_url: str, port: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CARPULSE_")}
    env.update(
        {
            "CARPULSE_ENVIRONMENT": "test",
            "CARPULSE_DATABASE__URL": database_url,
            "CARPULSE_REDIS__URL": REDIS_URL,
            "CARPULSE_REDIS__KEY_PREFIX": f"carpulse-bench-data-api:{uuid.uuid4().hex[:8]}:",
            "CARPULSE_ADMIN__PASSWORD_HASH": hash_password(ADMIN_PASSWORD),
            "CARPULSE_STORAGE__URL": str(folder / "storage"),
            "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(folder / "public.pem"),
            "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(folder / "private.pem"),
            "CARPULSE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "CARPULSE_LOG__LEVEL": "WARNING",
            # Setting up a dozen clients from one address is not what is measured; the Data API's own
            # per-plan burst limit stays on.
            "CARPULSE_RATE_LIMIT__POLICIES": json.dumps(
                {"register": "1000/hour", "login": "1000/minute", "confirm": "1000/minute"}
            ),
        }
    )
    return env


class Api:
    """The `carpulse serve` under test: started, SIGKILLed and started again on the same port."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.url = f"http://127.0.0.1:{port}"
        self._stack = contextlib.ExitStack()
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = self._stack.enter_context(serving(self.env, self.port, log=self.log))
        async with httpx.AsyncClient(base_url=self.url) as client:
            await wait_live(client, attempts=600)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def close(self) -> None:
        self._stack.close()


@contextlib.contextmanager
def bare_server(folder: Path, body: bytes, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`bench/bare.py` answering `body`; its base URL and process id."""
    port = free_port()
    path = folder / "bare-body.json"
    path.write_bytes(body)
    command = ["bench.bare", "--port", str(port), "--body", str(path)]
    with serving(env, port, command=command, log=folder / "bare.log") as server:
        yield f"http://127.0.0.1:{port}", server.pid


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (`/proc/<pid>/stat`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client(base_url: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30)


# ------------------------------------------------------------------------------------------ the clients


async def _until(call: Callable[[], Awaitable[Any]], what: str, attempts: int = 200) -> Any:
    """`call()` until it returns something, at most `attempts` times 50 ms apart."""
    for _ in range(attempts):
        found = await call()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise RuntimeError(f"gave up waiting for {what}")


async def admin_token(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/v1/auth/login/json", json={"username": "admin", "password": ADMIN_PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


async def make_plan(client: httpx.AsyncClient, admin: str, code: str) -> None:
    name, quota = PLANS[code]
    body = {"code": code, "name": name, "daily_quota": quota, "unit_price_minor": 3, "burst_per_second": 10_000}
    created = await client.post("/api/v1/admin/plans", json=body, headers={"Authorization": f"Bearer {admin}"})
    created.raise_for_status()


async def data_client(client: httpx.AsyncClient, admin: str, email: str, plan: str) -> DataClient:
    """A confirmed API client with one key on `plan`, set up through the HTTP API only."""
    registration = {"email": email, "password": PASSWORD, "company_name": "Bench Oy", "country": "FI"}
    (await client.post("/api/v1/auth/register", json=registration)).raise_for_status()

    async def link() -> str | None:
        messages = (await client.get("/_sandbox/mail", params={"to": email})).json()["messages"]
        # The mail's link opens the web console's page; the token goes to the API's confirm endpoint here.
        found = [url for message in messages for url in message["links"] if "/console/confirm?" in url]
        return found[0] if found else None

    token = (await _until(link, f"the confirmation mail to {email}")).partition("?")[2]
    (await client.get(f"/api/v1/auth/confirm?{token}")).raise_for_status()
    login = await client.post("/api/v1/auth/login/json", json={"username": email, "password": PASSWORD})
    login.raise_for_status()
    jwt = {"Authorization": f"Bearer {login.json()['access_token']}"}
    account_id = (await client.get("/api/v1/auth/me", headers=jwt)).json()["id"]
    key = await client.post("/api/v1/data/keys", json={"name": "bench"}, headers=jwt)
    key.raise_for_status()
    moved = await client.put(
        f"/api/v1/admin/data-clients/{account_id}/plan",
        json={"plan": plan},
        headers={"Authorization": f"Bearer {admin}"},
    )
    moved.raise_for_status()
    return DataClient(email, account_id, login.json()["access_token"], key.json()["key"], key.json()["id"])


async def simulate(env: dict[str, str], vehicles: int, seed: int) -> list[str]:
    """The VINs `carpulse simulate` wrote (12 months of weekly readings each)."""
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "carpulse.cli", "simulate", "--vehicles", str(vehicles), "--seed", str(seed), "--json"],
        env=env,
        check=True,
        capture_output=True,
    )
    return [str(vehicle["vin"]) for vehicle in json.loads(done.stdout)["vehicles"]]


# ---------------------------------------------------------------------------------------------- P1


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)  # ms
    elapsed: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    cpu: float = 0.0  # seconds the server process used meanwhile

    @property
    def cpu_per_call(self) -> float:
        """Milliseconds of the server's CPU per answer: what a machine shared with the client cannot blur."""
        return 1000 * self.cpu / len(self.latencies) if self.latencies else 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def add(self, other: Load) -> None:
        self.latencies += other.latencies
        self.elapsed += other.elapsed
        self.statuses += other.statuses
        self.cpu += other.cpu


async def load(
    client: httpx.AsyncClient,
    vins: list[str],
    headers: dict[str, str],
    concurrency: int,
    requests: int,
    seconds: float,
    pid: int | None = None,
) -> Load:
    """`concurrency` clients calling the dynamic path in a closed loop, until `requests` or `seconds`; with
    `pid`, the CPU time that server process used meanwhile. Each client has a connection of its own (as `client`
    is configured): 32 tasks sharing one httpx pool wait on the pool, which measured httpx, not the API."""
    result = Load()
    cpu = cpu_seconds(pid) if pid is not None else 0.0
    issued = 0
    deadline = time.monotonic() + seconds

    async def one_client() -> None:
        nonlocal issued
        async with httpx.AsyncClient(base_url=client.base_url, timeout=client.timeout) as own:
            while issued < requests and time.monotonic() < deadline:
                vin = vins[issued % len(vins)]
                issued += 1
                started = time.perf_counter()
                response = await own.get(DYNAMIC.format(vin=vin), headers=headers)
                result.latencies.append((time.perf_counter() - started) * 1000)
                result.statuses[response.status_code] += 1

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    result.cpu = cpu_seconds(pid) - cpu if pid is not None else 0.0
    return result


async def p1(options: argparse.Namespace, api: Api, bare: tuple[str, int], caller: DataClient, vins: list[str]) -> None:
    concurrency = options.concurrency
    bare_url, bare_pid = bare
    assert api.process is not None
    api_pid = api.process.pid
    async with _client(api.url, concurrency) as metered_client, _client(bare_url, concurrency) as bare_client:
        for client, headers in ((bare_client, {}), (metered_client, caller.by_key)):
            await load(client, vins, headers, concurrency, 300, 10)  # warm-up: connections, caches
        single = await load(metered_client, vins, caller.by_key, 1, 300, 10)
        baseline, metered = Load(), Load()
        # Interleaved, so drift in a shared machine's speed falls on both alike.
        for _ in range(options.rounds):
            baseline.add(
                await load(bare_client, vins, {}, concurrency, options.requests, options.seconds, pid=bare_pid)
            )
            metered.add(
                await load(
                    metered_client, vins, caller.by_key, concurrency, options.requests, options.seconds, pid=api_pid
                )
            )
    ratio = metered.rate / baseline.rate if baseline.rate else 0.0
    cpu_ratio = baseline.cpu_per_call / metered.cpu_per_call if metered.cpu_per_call else 0.0
    p99 = _p(metered.latencies, 0.99)
    print(f"Data API P1: GET {DYNAMIC}, {concurrency} concurrent clients, {options.rounds} interleaved rounds")
    print(
        f"  {'bare FastAPI (same answer bytes)':<42} {baseline.rate:7.0f} req/s   "
        f"p50 {_p(baseline.latencies, 0.5):6.1f} ms   server CPU {baseline.cpu_per_call:5.2f} ms/call"
    )
    print(
        f"  {'metered (key, quota, usage, data)':<42} {metered.rate:7.0f} req/s   ×{ratio:4.2f} of bare (goal ≥ 0.5)"
        f"   {'pass' if ratio >= 0.5 else 'FAIL'}"
    )
    print(
        f"  {'metered server CPU':<42} {metered.cpu_per_call:7.2f} ms/call ×{cpu_ratio:4.2f} of bare's calls per CPU "
        "second (the ratio with the client's share taken out)"
    )
    print(
        f"  {'metered latency':<42} p50 {_p(metered.latencies, 0.5):6.1f} ms   p99 {p99:6.1f} ms (goal < 20)"
        f"   {'pass' if p99 < 20 else 'FAIL'}"
    )
    print(
        f"  {'metered, 1 client (service time)':<42} p50 {_p(single.latencies, 0.5):6.1f} ms   "
        f"p99 {_p(single.latencies, 0.99):6.1f} ms"
    )
    odd = {status: n for status, n in (baseline.statuses + metered.statuses + single.statuses).items() if status != 200}
    if odd:
        print(f"  answers other than 200: {odd}")


# ---------------------------------------------------------------------------------- metering exactness


@dataclass
class Ledger:
    """What the clients saw: per Idempotency-Key, the request ids of the 200s they got."""

    answers: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    keys: dict[str, str] = field(default_factory=dict)  # idempotency key → account id
    replays: int = 0
    sends: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    gave_up: list[str] = field(default_factory=list)
    done: int = 0


async def send(
    client: httpx.AsyncClient,
    caller: DataClient,
    vin: str,
    idempotency_key: str,
    ledger: Ledger,
    deadline: float,
    *,
    first_timeout: float,
) -> None:
    """One call until it is answered, retried with its key after a timeout, a lost connection or a 5xx/429."""
    headers = {**caller.by_key, IDEMPOTENCY_HEADER: idempotency_key}
    for attempt in range(40):
        if attempt and time.monotonic() > deadline:
            break
        try:
            ledger.sends += 1
            response = await client.get(
                DYNAMIC.format(vin=vin), headers=headers, timeout=first_timeout if attempt == 0 else 10.0
            )
        except httpx.TransportError as exc:
            ledger.failures["timeout" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__] += 1
        else:
            ledger.statuses[response.status_code] += 1
            if response.status_code == 200:
                ledger.answers[idempotency_key].add(response.headers[REQUEST_ID_HEADER])
                ledger.replays += response.headers.get(REPLAYED_HEADER) == "true"
                return
            if response.status_code not in RETRYABLE:
                ledger.gave_up.append(idempotency_key)
                return
        await asyncio.sleep(min(1.0, 0.05 * 2**attempt))
    ledger.gave_up.append(idempotency_key)


async def kill_run(options: argparse.Namespace, api: Api, clients: list[DataClient], vins: list[str]) -> Ledger:
    """Every client's share of the calls, `concurrency` at once in all; the API SIGKILLed at half of them."""
    rng = random.Random(options.seed)
    ledger = Ledger()
    deadline = time.monotonic() + 600
    per_client = options.calls // len(clients)
    total = per_client * len(clients)
    workers = max(1, options.concurrency // len(clients))
    run = uuid.uuid4().hex[:8]
    halfway = asyncio.Event()
    # Drawn up front, so the calls are the same whatever the order they run in.
    plans = [[(vins[rng.randrange(len(vins))], rng.random(), rng.random()) for _ in range(per_client)] for _ in clients]

    async def one(client: httpx.AsyncClient, n: int, caller: DataClient, call: int) -> None:
        vin, duplicate, impatient = plans[n][call]
        key = f"bench-{run}-{n}-{call}"
        ledger.keys[key] = caller.account_id
        first_timeout = 0.002 if impatient < 0.01 else 10.0
        if duplicate < 0.025:  # the same key twice at once
            await asyncio.gather(
                send(client, caller, vin, key, ledger, deadline, first_timeout=first_timeout),
                send(client, caller, vin, key, ledger, deadline, first_timeout=10.0),
            )
        else:
            await send(client, caller, vin, key, ledger, deadline, first_timeout=first_timeout)
            if duplicate < 0.05:  # resent after its answer
                await send(client, caller, vin, key, ledger, deadline, first_timeout=10.0)
        ledger.done += 1
        if ledger.done >= total // 2:
            halfway.set()

    async def client_loop(n: int, caller: DataClient) -> None:
        queue = iter(range(per_client))
        async with _client(api.url, workers * 2) as client:

            async def worker() -> None:
                for call in queue:
                    await one(client, n, caller, call)

            await asyncio.gather(*(worker() for _ in range(workers)))

    async def killer() -> None:
        await halfway.wait()
        api.kill()
        killed = time.monotonic()
        api.close()
        await api.start()
        ledger.failures["downtime ms"] = int((time.monotonic() - killed) * 1000)

    kill = asyncio.create_task(killer())
    started = time.monotonic()
    await asyncio.gather(*(client_loop(n, caller) for n, caller in enumerate(clients)))
    ledger.failures["wall ms"] = int((time.monotonic() - started) * 1000)
    await kill
    return ledger


async def metering(
    options: argparse.Namespace, api: Api, pool: asyncpg.Pool, env: dict[str, str], vins: list[str]
) -> None:
    async with _client(api.url, 4) as client:
        admin = await admin_token(client)
        clients = [await data_client(client, admin, f"meter-{n}@bench.example", COUNTED) for n in range(options.keys)]
    ledger = await kill_run(options, api, clients, vins)
    accounts = [uuid.UUID(c.account_id) for c in clients]
    billed_rows = await pool.fetch(
        """
        SELECT u.request_id, u.units, r.key FROM usage_record u
          LEFT JOIN idempotent_response r ON r.account_id = u.account_id AND r.request_id = u.request_id
         WHERE u.account_id = ANY($1::uuid[])
        """,
        accounts,
    )
    billed = {row["request_id"] for row in billed_rows}
    answered = {request_id for ids in ledger.answers.values() for request_id in ids}
    twice = [key for key, ids in ledger.answers.items() if len(ids) > 1]
    keyless = [row["request_id"] for row in billed_rows if row["key"] is None]
    per_key = Counter(row["key"] for row in billed_rows if row["key"] is not None)
    billed_twice = [key for key, count in per_key.items() if count > 1]
    # Quota units reserved in Redis but never billed: what calls in flight at the kill took and never gave back.
    redis = Redis.from_url(REDIS_URL)
    try:
        prefix = env["CARPULSE_REDIS__KEY_PREFIX"]
        day = datetime.now(UTC).date().isoformat()
        counted = [await redis.get(f"{prefix}quota:{account}:{day}") for account in accounts]
    finally:
        await redis.aclose()
    units_today = await pool.fetch(
        "SELECT account_id, sum(units) AS units FROM usage_record WHERE account_id = ANY($1::uuid[]) AND day = $2 "
        "GROUP BY account_id",
        accounts,
        datetime.now(UTC).date(),
    )
    sql_units = {row["account_id"]: int(row["units"]) for row in units_today}
    lost_units = sum(
        int(value or 0) - sql_units.get(account, 0) for value, account in zip(counted, accounts, strict=True)
    )
    logical = len(ledger.keys)
    wall = ledger.failures.pop("wall ms", 0) / 1000
    downtime = ledger.failures.pop("downtime ms", 0) / 1000
    print(
        f"Data API metering under a SIGKILL: {logical} calls from {len(clients)} keys, {options.concurrency} at once, "
        f"~5 % sent twice with one Idempotency-Key, ~1 % first sent with a 2 ms timeout"
    )
    print(
        f"  sends {ledger.sends} ({ledger.replays} answered as replays) in {wall:.1f} s; API down {downtime:.1f} s; "
        f"statuses {dict(sorted(ledger.statuses.items()))}; failures {dict(ledger.failures)}"
    )
    print(f"  answered (distinct request ids with a 200)   {len(answered)} of {logical} keys")
    print(f"  billed usage records                         {len(billed)}")
    print(
        f"  answered, not billed                         {len(answered - billed)}   (goal 0)   "
        f"{'pass' if not answered - billed else 'FAIL'}"
    )
    print(
        f"  billed, never answered (every attempt lost)  {len(billed - answered)}   keys given up {len(ledger.gave_up)}"
    )
    double = len(twice) + len(billed_twice) + len(keyless)
    print(
        f"  double-billed (key with 2 request ids, 2 records, or a record without its key)  {double}   (goal 0)   "
        f"{'pass' if double == 0 else 'FAIL'}"
    )
    print(f"  quota units reserved at the kill, never billed (Redis − SQL today)  {lost_units}")


# ------------------------------------------------------------------------------------------------ batch


async def batch(api: Api, caller: DataClient, vins: list[str], concurrency: int, rounds: int = 3) -> None:
    hundred = vins[:100]
    batched: list[float] = []
    sequential: list[float] = []
    concurrent: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    statuses: Counter[int] = Counter()
    async with _client(api.url, concurrency) as client:

        async def single(vin: str) -> None:
            async with gate:
                statuses[(await client.get(DYNAMIC.format(vin=vin), headers=caller.by_key)).status_code] += 1

        for _ in range(rounds):
            started = time.perf_counter()
            answer = await client.post(
                "/api/v1/vehicle/batch", json={"vins": hundred, "include": ["dynamic"]}, headers=caller.by_key
            )
            batched.append(time.perf_counter() - started)
            statuses[answer.status_code] += 1
            billed = answer.json().get("billed_units")
            started = time.perf_counter()
            for vin in hundred:
                await single(vin)
            sequential.append(time.perf_counter() - started)
            started = time.perf_counter()
            await asyncio.gather(*(single(vin) for vin in hundred))
            concurrent.append(time.perf_counter() - started)
    b, s, c = (statistics.median(times) * 1000 for times in (batched, sequential, concurrent))
    print(f"Data API batch: 100 VINs (dynamic), median of {rounds} rounds; the batch billed {billed} units")
    print(f"  {'one POST /vehicle/batch':<42} {b:8.0f} ms")
    print(f"  {'100 GET /vehicle/dynamic, one after another':<42} {s:8.0f} ms   batch ×{b / s:4.2f} of their time")
    print(f"  {f'100 GET /vehicle/dynamic, {concurrency} at once':<42} {c:8.0f} ms   batch ×{b / c:4.2f} of their time")
    odd = {status: n for status, n in statuses.items() if status != 200}
    if odd:
        print(f"  answers other than 200: {odd}")


# ----------------------------------------------------------------------------------------------- runner


async def measure(options: argparse.Namespace, folder: Path) -> None:
    name = f"{make_url(DATABASE_URL).database}_data_api"
    async with own_database(DATABASE_URL, name, drop=not options.keep) as (url, pool):
        port = free_port()
        env = _environment(folder, url, port)
        await migrate(env)
        api = Api(env, port, folder / "serve.log")
        await api.start()
        try:
            vins = await simulate(env, options.vehicles, options.seed)
            async with _client(api.url, 4) as client:
                admin = await admin_token(client)
                await make_plan(client, admin, UNLIMITED)
                await make_plan(client, admin, COUNTED)
                caller = await data_client(client, admin, "load@bench.example", UNLIMITED)
                sample = await client.get(DYNAMIC.format(vin=vins[0]), headers=caller.by_key)
                sample.raise_for_status()
            with bare_server(folder, sample.content, env) as (bare_url, bare_pid):
                async with httpx.AsyncClient(base_url=bare_url) as probe:
                    await wait_live(probe, path=DYNAMIC.format(vin=vins[0]))
                await p1(options, api, (bare_url, bare_pid), caller, vins)
            await batch(api, caller, vins, options.concurrency)
            await metering(options, api, pool, env, vins)
        finally:
            api.close()


def run(argv: list[str] | None = None) -> None:
    options = parse_options(argv if argv is not None else [])
    folder = Path(tempfile.mkdtemp(prefix="carpulse-bench-data-api-"))
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
