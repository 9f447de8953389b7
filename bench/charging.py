"""Charging invoices ZIP: 500 invoices from the Tesla fake with 50 ms added latency per call.

Goals: the streamed ZIP takes ≤ 1/6 of the time of fetching the same invoices one by one, the
serving process grows by ≤ 30 MB at its peak, and the first byte arrives within 0.5 s.

The API runs as `carpulse serve` in its own process on the embedded defaults (SQLite, in-process
stores) with the sandbox mounted, so Tesla is the bundled fake behind real loopback HTTP, and the
ZIP is read from the socket as it streams. Baseline, same run: the same 500 invoices fetched one
after the other by our own Tesla client from the same fake. Memory: the server's resident set
(`/proc/<pid>/status`), sampled every 10 ms while the ZIP streams, against its size just before.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bench.server import StaticTokens, free_port, serving, wait_live
from carpulse.cli import alembic_config
from carpulse.config import DEVELOPMENT_TESLA_CLIENT_SECRET
from carpulse.kit.logs import configure_logging
from carpulse.kit.passwords import hash_password
from carpulse.kit.resilience import CircuitBreakers
from carpulse.provider.tesla.client import TeslaApi, TeslaAuthClient, TeslaEndpoints, pkce_pair

ACCOUNT = "charger"  # the heavy user: exactly 500 invoices over two years
LATENCY_SECONDS = 0.05
SCOPES = "openid offline_access user_data vehicle_device_data vehicle_location vehicle_charging_cmds"


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class _RssSampler:
    """The peak resident set of a process, sampled from another thread while something runs."""

    def __init__(self, pid: int, every_seconds: float = 0.01) -> None:
        self.pid, self.every = pid, every_seconds
        self.peak = _rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes(self.pid))


def _environment(tmp: Path, port: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CARPULSE_")}
    env.update(
        {
            "CARPULSE_ENVIRONMENT": "test",
            "CARPULSE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
            "CARPULSE_RATE_LIMIT__ENABLED": "false",
            "CARPULSE_LOG__LEVEL": "WARNING",
            "CARPULSE_ADMIN__PASSWORD_HASH": hash_password("bench-password"),
            "CARPULSE_STORAGE__URL": str(tmp / "storage"),
            "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(tmp / "pub.pem"),
            "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(tmp / "priv.pem"),
            "CARPULSE_SANDBOX__WAKE_DELAY_SECONDS": "0",
            "CARPULSE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
    )
    return env


async def _connect(client: httpx.AsyncClient) -> str:
    """The connect flow a browser goes through, with the sandbox's consent page answering for `charger`."""
    initiated = (await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "en"})).json()
    url = urlsplit(initiated["authorization_url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()} | {"sandbox_account": ACCOUNT}
    consent = await client.get(url.path, params=query)
    callback = urlsplit(consent.headers["location"])
    done = await client.get(callback.path, params=parse_qs(callback.query), headers={"Accept": "application/json"})
    return str(done.json()["session_id"])


async def _sequential(base: str, invoice_ids: list[str]) -> float:
    """Our own Tesla client, straight at the fake, one invoice after the other."""
    root = f"{base}/_sandbox/tesla"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        endpoints = TeslaEndpoints(
            f"{root}/oauth2/v3/authorize", f"{root}/oauth2/v3/token", {r: f"{root}/{r}" for r in ("na", "eu", "cn")}
        )
        auth = TeslaAuthClient(
            http,
            endpoints,
            client_id="carpulse-sandbox",
            client_secret=DEVELOPMENT_TESLA_CLIENT_SECRET,
            redirect_uri=f"{base}/api/v1/tesla/oauth/callback",
            scopes=SCOPES,
        )
        url = urlsplit(auth.authorization_url("bench", pkce_pair("v" * 64)))
        query = {k: v[0] for k, v in parse_qs(url.query).items()} | {"sandbox_account": ACCOUNT}
        code = parse_qs(urlsplit((await http.get(url.path, params=query)).headers["location"]).query)["code"][0]
        tokens = await auth.exchange_code(code, "v" * 64, endpoints.fleet_base_urls["eu"])
        api = TeslaApi(http=http, endpoints=endpoints, auth=auth, breakers=CircuitBreakers(), default_region="eu")
        fleet = api.fleet(endpoints.fleet_base_urls["eu"], StaticTokens(tokens.access_token))
        started = time.perf_counter()
        for invoice_id in invoice_ids:
            assert (await fleet.invoice(invoice_id)).startswith(b"%PDF-")
        return time.perf_counter() - started


async def _measure(base: str, pid: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await wait_live(client)
        session_id = await _connect(client)
        vin = (await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"][0]["vin"]
        path = f"/api/v1/tesla/session/{session_id}/vehicles/{vin}"
        # Warm-up: imports, the fake's history, connection pools. Then the latency switch goes on.
        assert (await client.get(f"{path}/charging-invoices.zip", params={"months": 1})).status_code == 200
        listing = (await client.get(f"{path}/charging-invoices")).json()
        invoice_ids = [invoice["invoice_id"] for line in listing["sessions"] for invoice in line["invoices"]]
        faults = {"account": ACCOUNT, "latency_seconds": LATENCY_SECONDS}
        assert (await client.post("/_sandbox/tesla/_control/faults", json=faults)).status_code == 200

        baseline = await _sequential(base, invoice_ids)

        before = _rss_bytes(pid)
        body = bytearray()
        first_byte = headers_at = 0.0
        with _RssSampler(pid) as sampler:
            started = time.perf_counter()
            async with client.stream("GET", f"{path}/charging-invoices.zip") as response:
                headers_at = time.perf_counter() - started
                assert response.status_code == 200, await response.aread()
                async for chunk in response.aiter_raw():
                    if not body:
                        first_byte = time.perf_counter() - started
                    body += chunk
            streamed = time.perf_counter() - started
        return {
            "invoices": len(invoice_ids),
            "baseline": baseline,
            "streamed": streamed,
            "headers": headers_at,
            "first_byte": first_byte,
            "rss_growth": sampler.peak - before,
            "body": bytes(body),
        }


def _check(body: bytes) -> str:
    """What the archive holds, checked by Python's zipfile and by `unzip -t`."""
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    rows = list(csv.DictReader(io.StringIO(archive.read("ledger.csv").decode())))
    tested = "skipped (no unzip)"
    if shutil.which("unzip"):
        with tempfile.NamedTemporaryFile(suffix=".zip") as file:
            file.write(body)
            file.flush()
            check = subprocess.run(["unzip", "-tqq", file.name], capture_output=True, check=False)
            tested = "OK" if check.returncode == 0 else f"FAILED ({check.stdout!r})"
    return f"{len(pdfs)} PDFs, ledger.csv with {len(rows)} rows, {len(body) / 2**20:.1f} MB, unzip -t {tested}"


def run() -> None:
    from alembic import command

    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        command.upgrade(alembic_config(f"sqlite+aiosqlite:///{tmp / 'bench.db'}"), "head")
        port = free_port()
        with serving(_environment(tmp, port), port) as server:
            figures = asyncio.run(_measure(f"http://127.0.0.1:{port}", server.pid))
    baseline, streamed = float(figures["baseline"]), float(figures["streamed"])
    growth = float(figures["rss_growth"]) / 2**20
    print(
        f"Charging invoices ZIP: {figures['invoices']} invoices from the Tesla fake, "
        f"{LATENCY_SECONDS * 1000:.0f} ms added latency per call"
    )
    print(f"  sequential fetch, same client (baseline)    {baseline:7.2f} s")
    print(
        f"  streamed ZIP through the API                {streamed:7.2f} s   ×{streamed / baseline:5.3f} of baseline "
        "(goal ≤ 0.167)"
    )
    print(
        f"  time to first byte                          {float(figures['first_byte']):7.3f} s   (goal ≤ 0.5 s; "
        f"headers after {float(figures['headers']):.3f} s)"
    )
    print(f"  peak RSS growth of the serving process      {growth:7.1f} MB  (goal ≤ 30 MB)")
    print(f"  archive: {_check(figures['body'])}")
