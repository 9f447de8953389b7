"""The web app's pages: server-side p50/p99 per page on the sandbox (goal: p99 < 50 ms), against a bare
FastAPI route answering the same bytes in the same process, and the script each page loads.

An in-process app on the embedded defaults (SQLite, in-process stores, the sandbox vendors) with one paid,
finished Pro order (`carpulse.demo.walk`), a signed-in admin and the local Logbook driver; every page is
asked for 300 times in sequence after 20 warm-up requests, through the ASGI transport (no socket: the time
is the server's, plus the transport's few microseconds the baseline pays too).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from carpulse.config import Settings
from carpulse.demo import in_process_client, walk
from carpulse.kit.passwords import hash_password
from carpulse.web.assets import manifest

ROUNDS = 300
WARM_UP = 20
GOAL_MS = 50.0
ADMIN_PASSWORD = "bench admin password"
HTML = {"accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "accept-language": "fi-FI,fi;q=0.9"}
_SCRIPT = re.compile(r'<script src="(/static/[^"]+)"')
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _timings(client: httpx.AsyncClient, path: str) -> tuple[list[float], httpx.Response]:
    response = await client.get(path, headers=HTML)
    for _ in range(WARM_UP):
        await client.get(path, headers=HTML)
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = await client.get(path, headers=HTML)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, response


def _script_kb(html: str) -> tuple[float, float]:
    by_url = {asset.url: asset for asset in manifest()}
    assets = [by_url[url] for url in _SCRIPT.findall(html) if url in by_url]
    return sum(len(a.body) for a in assets) / 1024, sum(len(a.gzipped) for a in assets) / 1024


def _settings(folder: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database={"url": f"sqlite+aiosqlite:///{folder / 'bench.db'}"},
        storage={"url": str(folder / "storage")},
        rate_limit={"enabled": False},
        sandbox={"wake_delay_seconds": 0},
        admin={"password_hash": hash_password(ADMIN_PASSWORD)},
        tesla={"public_key_path": str(folder / "public.pem"), "private_key_path": str(folder / "private.pem")},
        log={"level": "WARNING", "json_lines": True},
    )


async def _sign_in_admin(client: httpx.AsyncClient) -> None:
    page = await client.get("/login", headers=HTML)
    token = _CSRF.search(page.text)
    assert token, "the sign-in page carries no CSRF token"
    response = await client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": "admin", "password": ADMIN_PASSWORD, "next": "/"},
        headers=HTML | {"origin": str(client.base_url).rstrip("/")},
    )
    assert response.status_code == 303, response.text


def _pages(order_id: str, session_id: str) -> list[tuple[str, str]]:
    return [
        ("landing", "/"),
        ("sign-in", "/login"),
        ("reports: start", "/reports"),
        ("reports: vehicles", f"/reports/session/{session_id}"),
        ("order", f"/orders/{order_id}"),
        ("logbook: day", "/logbook"),
        ("logbook: cars", "/logbook/cars"),
        ("logbook: places", "/logbook/places"),
        ("API docs (Swagger UI)", "/docs"),
        # Signed in as the admin from here on.
        ("admin", "/admin"),
        ("admin: vouchers", "/admin/vouchers"),
        ("admin: orders", "/admin/orders"),
    ]


async def _baseline(body: bytes) -> list[float]:
    bare = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @bare.get("/")
    async def page() -> HTMLResponse:
        return HTMLResponse(body)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://bench") as client:
        samples, _ = await _timings(client, "/")
    return samples


async def _run(folder: Path, settings: Settings) -> list[str]:
    lines = []
    async with in_process_client(settings) as client:
        result = await walk(client, locale="fi", package="pro", out=folder / "out", echo=lambda _: None)
        landing = await client.get("/", headers=HTML)
        baseline = await _baseline(landing.content)
        base_p99 = _percentile(baseline, 0.99)
        lines.append(
            f"  {'bare FastAPI, same HTML':<26} p50 {statistics.median(baseline):6.2f} ms  p99 {base_p99:6.2f} ms"
        )
        worst = 0.0
        for name, path in _pages(result.order_id, result.session_id):
            if path.startswith("/admin") and "cp_session" not in client.cookies:
                await _sign_in_admin(client)
            samples, response = await _timings(client, path)
            if response.status_code != 200:
                lines.append(f"  {name:<26} {path}: HTTP {response.status_code} (not measured)")
                continue
            p99 = _percentile(samples, 0.99)
            worst = max(worst, p99)
            raw, compressed = _script_kb(response.text)
            lines.append(
                f"  {name:<26} p50 {statistics.median(samples):6.2f} ms  p99 {p99:6.2f} ms  ×{p99 / base_p99:5.1f} bare"
                f"  script {raw:5.1f} KB ({compressed:4.1f} KB gzip)"
            )
        lines.append(
            f"  worst page p99 {worst:.2f} ms (goal < {GOAL_MS:.0f} ms): {'met' if worst < GOAL_MS else 'MISSED'}"
        )
    return lines


def run() -> None:
    from alembic import command

    from carpulse.cli import alembic_config

    print("pages (bench/pages.py)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        settings = _settings(folder)
        command.upgrade(alembic_config(settings.database.url), "head")
        for line in asyncio.run(_run(folder, settings)):
            print(line)


if __name__ == "__main__":
    run()
