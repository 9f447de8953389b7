"""`carpulse demo`: the whole sandbox flow through the HTTP API, as a customer's browser would walk it.

connect (fake Tesla) → select → quote → pay (fake Stripe) → report → receipt; the report PDF, the
report HTML and the receipt PDF are written to a folder. Runs against a server (`--base-url`) or an
in-process app on the embedded defaults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from carpulse.config import Settings
from carpulse.kit.i18n import format_money

JSON = {"Accept": "application/json"}
# The sandbox account a package is shown with unless `--account` names another: Bulk needs several cars.
DEFAULT_ACCOUNTS = {"bulk": "family"}
DEFAULT_ACCOUNT = "solo"
MAX_BULK_VEHICLES = 25
Echo = Callable[[str], None]


class DemoFailed(RuntimeError):
    """A step of the demo did not answer as the sandbox should."""


@dataclass(frozen=True)
class DemoResult:
    vin: str
    order_id: str
    report_pdf: Path
    report_html: Path
    receipt_pdf: Path
    session_id: str = ""
    receipt_id: str = ""
    # Every vehicle's report (a Bulk order has one per vehicle), the first one included.
    reports: tuple[Path, ...] = ()


def account_for(package: str, account: str | None = None) -> str:
    """The sandbox account to walk: the one asked for, else one with enough cars for the package."""
    return account or DEFAULT_ACCOUNTS.get(package, DEFAULT_ACCOUNT)


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _ok(response: httpx.Response, step: str, *expected: int) -> Any:
    if response.status_code not in (expected or (200,)):
        raise DemoFailed(f"{step}: HTTP {response.status_code}: {response.text[:300]}")
    return response.json() if "json" in response.headers.get("content-type", "") else response


@asynccontextmanager
async def in_process_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app on these settings, its vendor calls routed to its own sandbox, driven without a socket."""
    from carpulse.app import create_app

    app = create_app(settings, vendor_transport=lambda app: httpx.ASGITransport(app=app))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.base_url, timeout=120) as client,
    ):
        yield client


@dataclass(frozen=True)
class Checkout:
    """An order created and waiting for its payment: what the customer has before the checkout page."""

    order_id: str
    vins: list[str]
    redirect_url: str
    provider: str = "stripe"
    session_id: str = ""


async def checkout(
    client: httpx.AsyncClient,
    *,
    locale: str,
    package: str,
    account: str = "solo",
    provider: str = "stripe",
    echo: Echo = print,
) -> Checkout:
    """Connect the sandbox Tesla account, select its vehicle(s) and the package, quote, and create the order.
    The vendors' pages are opened where the API sent the browser, which is another host when the sandbox
    is (`CARPULSE_SANDBOX__URL`)."""
    echo(f"1/7 connect: signing in to the sandbox Tesla account '{account}'")
    initiated = _ok(await client.post("/api/v1/tesla/oauth/initiate", json={"locale": locale}), "initiate")
    consent = await client.get(
        _page(initiated["authorization_url"]),
        params=_query(initiated["authorization_url"]) | {"sandbox_account": account},
    )
    if consent.status_code not in (302, 303):
        raise DemoFailed(f"consent: HTTP {consent.status_code}")
    callback = urlsplit(consent.headers["location"])
    # As an API client: the sign-in's own binding, so walks sharing one client never mix their cookies.
    bound = JSON | {"X-Connect-Binding": initiated["binding"]}
    session = _ok(
        await client.get(callback.path, params=_query(consent.headers["location"]), headers=bound), "callback"
    )
    session_id = session["session_id"]

    vehicles = _ok(await client.get(f"/api/v1/tesla/session/{session_id}/vehicles"), "vehicles")["vehicles"]
    count = min(len(vehicles), MAX_BULK_VEHICLES) if package == "bulk" else 1
    needed = 2 if package == "bulk" else 1
    if len(vehicles) < needed:
        needs = "at least 2" if package == "bulk" else "one"
        raise DemoFailed(
            f"the account '{account}' has {len(vehicles)} vehicle(s); {package} needs {needs}"
            f" (try --account {DEFAULT_ACCOUNTS['bulk']})"
        )
    vins = [vehicle["vin"] for vehicle in vehicles[:count]]
    echo(f"2/7 select: {', '.join(vins)} · {package}")
    _ok(
        await client.post(f"/api/v1/tesla/session/{session_id}/select", json={"vins": vins, "package": package}),
        "select",
    )

    quote = _ok(await client.post("/api/v1/pricing/quote", json={"session_id": session_id}), "quote")
    price = format_money(quote["gross_cents"], quote["currency"], locale)
    echo(f"3/7 quote: {price} (VAT included) · quote {quote['quote_id']}")

    intent = _ok(
        await client.post(
            "/api/v1/payment/create-intent",
            json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": provider, "locale": locale},
        ),
        "create-intent",
    )
    echo(f"     session {session_id} · order {intent['order_id']}")
    return Checkout(
        order_id=intent["order_id"],
        vins=vins,
        redirect_url=intent["redirect_url"],
        provider=provider,
        session_id=session_id,
    )


async def pay(client: httpx.AsyncClient, order: Checkout, echo: Echo = print) -> None:
    """Pay on the sandbox's hosted page (Stripe: a test card; PayPal: approve, then capture)."""
    if order.provider == "paypal":
        echo("4/7 pay: the sandbox PayPal approval page, approved, then captured")
        outcome = "approve"
    else:
        echo("4/7 pay: the sandbox Stripe checkout, paid with a test card")
        outcome = "pay"
    paid = await client.get(_page(order.redirect_url), params=_query(order.redirect_url) | {"sandbox_outcome": outcome})
    if paid.status_code >= 400:
        raise DemoFailed(f"hosted checkout: HTTP {paid.status_code}")
    if order.provider == "paypal":
        _ok(await client.post(f"/api/v1/payment/capture/paypal/{order.order_id}"), "capture")
    else:
        _ok(await client.post("/api/v1/payment/verify", json={"order_id": order.order_id}), "verify")


async def walk(
    client: httpx.AsyncClient,
    *,
    locale: str,
    package: str,
    out: Path,
    account: str = "solo",
    provider: str = "stripe",
    echo: Echo = print,
    patience_seconds: float = 180.0,
) -> DemoResult:
    order = await checkout(client, locale=locale, package=package, account=account, provider=provider, echo=echo)
    order_id = order.order_id
    await pay(client, order, echo)

    echo("5/7 report: waiting for the report to render")
    reports = await _wait_for_reports(client, order_id, echo, patience_seconds)
    tasks = [report for vehicle in reports["vehicles"] for report in vehicle["reports"]]

    echo("6/7 download: report PDF and HTML" + (f" of {len(tasks)} vehicles" if len(tasks) > 1 else ""))
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    saved: list[Path] = []
    for task in tasks:
        stem = f"carpulse-report-{task['vin']}-{locale}-{task['package']}"
        echo(f"     report {task['task_id']} · VIN {task['vin']}")
        pdf, html = out / f"{stem}.pdf", out / f"{stem}.html"
        await _save(pdf, _ok(await client.get(_local(task["download_url"])), "report pdf").content)
        await _save(html, _ok(await client.get(_local(task["html_url"])), "report html").content)
        saved += [pdf, html]
    vin = tasks[0]["vin"]
    report_pdf, report_html = saved[0], saved[1]

    echo("7/7 receipt: the VAT receipt PDF")
    receipt = _ok(await client.get(f"/api/v1/payment/receipt/{order_id}"), "receipt")
    receipt_pdf = out / f"carpulse-receipt-{receipt['number']}.pdf"
    await _save(receipt_pdf, _ok(await client.get(f"/api/v1/payment/receipt/{order_id}/pdf"), "receipt pdf").content)
    return DemoResult(
        vin=vin,
        order_id=order_id,
        report_pdf=report_pdf,
        report_html=report_html,
        receipt_pdf=receipt_pdf,
        session_id=order.session_id,
        receipt_id=str(receipt.get("id", "")),
        reports=tuple(saved),
    )


async def _save(path: Path, data: bytes) -> None:
    await asyncio.to_thread(path.write_bytes, data)


def _page(url: str) -> str:
    """A vendor page's address without its query (the query goes in as parameters)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _local(url: str) -> str:
    """A signed link made for the public base URL, fetched through this client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def _wait_for_reports(client: httpx.AsyncClient, order_id: str, echo: Echo, patience: float) -> dict[str, Any]:
    deadline = time.monotonic() + patience
    last = None
    while True:
        listing = _ok(await client.get(f"/api/v1/tesla/report/{order_id}"), "reports")
        progress = [(r["status"], r["progress"]) for v in listing["vehicles"] for r in v["reports"]]
        if progress != last:
            echo("     " + ", ".join(f"{status} {value}%" for status, value in progress) if progress else "     queued")
            last = progress
        if listing["status"] == "complete":
            return dict(listing)
        if listing["status"] == "failed":
            reasons = [r.get("failure_reason") for v in listing["vehicles"] for r in v["reports"]]
            raise DemoFailed(f"the report failed: {reasons}")
        if time.monotonic() > deadline:
            raise DemoFailed(f"no report after {patience:.0f} s")
        await asyncio.sleep(0.5)


async def run_demo(
    *,
    base_url: str | None,
    settings: Settings,
    locale: str,
    package: str,
    out: Path,
    account: str | None = None,
    echo: Echo = print,
) -> DemoResult:
    account = account_for(package, account)
    if base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            return await walk(client, locale=locale, package=package, out=out, account=account, echo=echo)
    async with in_process_client(settings) as client:
        return await walk(client, locale=locale, package=package, out=out, account=account, echo=echo)
