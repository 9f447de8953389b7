"""The web app's pages: server-side p50/p99 per page on the sandbox (goal: p99 < 50 ms), against a bare
FastAPI route answering the same bytes in the same process, and the script each page loads.

An in-process app on the embedded defaults (SQLite, in-process stores, the sandbox vendors) with one paid,
finished Pro order (`carpulse.demo.walk`), the local Logbook driver with a 60-fix trip, a confirmed Data API
client and the admin, each signed in through the pages' own sign-in; every page is
asked for 300 times in sequence after 20 warm-up requests, through the ASGI transport (no socket: the time
is the server's, plus the transport's few microseconds the baseline pays too).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from carpulse.config import Settings
from carpulse.demo import account_for, checkout, in_process_client, walk
from carpulse.kit.passwords import hash_password
from carpulse.web.assets import manifest

ROUNDS = 300
WARM_UP = 20
GOAL_MS = 50.0
ADMIN_PASSWORD = "bench admin password"
CLIENT_PASSWORD = "bench client password 1"
_SIGN_IN_ORDER = ("nobody", "driver", "client", "admin")


def _sign_in_order(page: tuple[str, str, str]) -> int:
    return _SIGN_IN_ORDER.index(page[0])


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
        # The Logbook's pages as the one local driver (development's sign-in off), so no Google round trip.
        logbook_auth={"enabled": False},
        tesla={"public_key_path": str(folder / "public.pem"), "private_key_path": str(folder / "private.pem")},
        log={"level": "WARNING", "json_lines": True},
    )


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    client.cookies.pop("cp_session", None)
    page = await client.get("/login", headers=HTML)
    token = _CSRF.search(page.text)
    assert token, "the sign-in page carries no CSRF token"
    response = await client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": username, "password": password, "next": "/"},
        headers=HTML | {"origin": str(client.base_url).rstrip("/")},
    )
    assert response.status_code == 303, response.text


async def _data_client(client: httpx.AsyncClient, app: object) -> None:
    """A confirmed Data API client with a key and one metered call, signed in to the pages."""
    email = "bench@dealer.example"
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": CLIENT_PASSWORD, "company_name": "Bench Oy", "country": "FI"},
    )
    assert registered.status_code == 202, registered.text
    await app.state.carpulse.jobs.drain()  # type: ignore[attr-defined]
    [message] = (await client.get("/_sandbox/mail", params={"to": email})).json()["messages"]
    link = next(link for link in message["links"] if "/confirm" in link)
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert (await client.post("/api/v1/auth/confirm", json={"token": token})).status_code == 200
    await _sign_in(client, email, CLIENT_PASSWORD)


def _pages(order_id: str, session_id: str, trip_id: str) -> list[tuple[str, str, str]]:
    """(who, name, path): who is signed in — nobody, the local driver (Logbook sign-in off), a client, the admin."""
    return [
        ("nobody", "landing", "/"),
        ("nobody", "sign-in", "/login"),
        ("nobody", "reports: start", "/reports"),
        ("nobody", "reports: fleet's vehicles", f"/reports/session/{session_id}"),
        ("nobody", "order: 1 report, done", f"/orders/{order_id}"),
        ("nobody", "order: progress fragment", f"/orders/{order_id}/progress"),
        ("nobody", "order: receipt", f"/orders/{order_id}/receipt"),
        ("nobody", "order: charging invoices", f"/orders/{order_id}/charging"),
        ("driver", "logbook: day", "/logbook"),
        ("driver", "logbook: trip on a map", f"/logbook/trips/{trip_id}"),
        ("driver", "logbook: cars", "/logbook/cars"),
        ("driver", "logbook: places", "/logbook/places"),
        ("nobody", "console: register", "/console/register"),
        ("client", "console", "/console"),
        ("client", "console: try it", "/console/try"),
        ("admin", "admin", "/admin"),
        ("admin", "admin: vouchers", "/admin/vouchers"),
        ("admin", "admin: orders", "/admin/orders"),
        ("admin", "admin: an order", f"/admin/orders/{order_id}"),
        ("admin", "admin: clients", "/admin/clients"),
        ("admin", "admin: reconciler", "/admin/reconciler"),
        ("nobody", "API docs (Swagger UI)", "/docs"),
    ]


async def _a_trip(client: httpx.AsyncClient) -> str:
    """One trip of the local driver: a phone's start, 58 pings and end through the car's webhook (~7 km)."""
    car = await client.post("/api/v1/logbook/cars", json={"name": "Bench car"})
    assert car.status_code == 201, car.text
    created = await client.post(f"/api/v1/logbook/cars/{car.json()['id']}/webhook-tokens", json={"name": "phone"})
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    started = datetime.now(UTC) - timedelta(hours=1)
    for i, kind in enumerate(["start"] + ["ping"] * 58 + ["end"]):
        fix = {"lat": 60.17 + i * 0.001, "lon": 24.94 + i * 0.001, "accuracy": 8}
        fix["timestamp"] = (started + timedelta(seconds=20 * i)).isoformat()
        answer = await client.post(f"/webhook/{kind}/{secret}", json=fix)
        assert answer.status_code in (200, 202), answer.text
    for _ in range(100):
        await client._transport.app.state.carpulse.jobs.drain()  # type: ignore[attr-defined]
        trips = (await client.get("/api/v1/logbook/trips")).json()["trips"]
        if trips and trips[0].get("distance_km"):
            return str(trips[0]["id"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no closed trip: {trips}")


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
        # A second customer mid-checkout: a Bulk selection of every vehicle of the sandbox's fleet account.
        fleet = await checkout(client, locale="fi", package="bulk", account=account_for("bulk"), echo=lambda _: None)
        trip_id = await _a_trip(client)
        landing = await client.get("/", headers=HTML)
        baseline = await _baseline(landing.content)
        base_p99 = _percentile(baseline, 0.99)
        lines.append(
            f"  {'bare FastAPI, same HTML':<26} p50 {statistics.median(baseline):6.2f} ms  p99 {base_p99:6.2f} ms"
        )
        worst = 0.0
        signed_in = "nobody"
        app = client._transport.app  # type: ignore[attr-defined]
        pages = _pages(result.order_id, fleet.session_id, trip_id)
        for who, name, path in sorted(pages, key=_sign_in_order):
            if who != signed_in:
                if who == "client":
                    await _data_client(client, app)
                elif who == "admin":
                    await _sign_in(client, "admin", ADMIN_PASSWORD)
                signed_in = who
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
