"""The capability model (README, "What each id opens"): every cell, through HTTP, on both backends.

An id is a capability: whoever holds it gets what the table says, for as long as the table says, and
nothing that a lower or shorter-lived id could not already read. Time moves by a shifted clock.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader
from sqlalchemy import func, select

from carpulse.models import VehicleConnection
from carpulse.report.tasks import forget_connections, revoke_refunded
from tests.conftest import CLIENT_ADDRESS
from tests.connect.flow import JSON, authorize, connect_account
from tests.payment.flow import act_on_hosted_page, checkout, settle
from tests.report.flow import REPORTS_ON, local, paid_order, reports_of, settle_reports

pytestmark = pytest.mark.usefixtures("committed_app")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return REPORTS_ON


class ShiftedClock:
    """The system clock, moved forward on demand: sessions, orders and windows age without waiting."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset.total_seconds()

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock(committed_app: FastAPI) -> ShiftedClock:
    shifted = ShiftedClock()
    committed_app.state.carpulse.clock = shifted
    return shifted


async def connections(app: FastAPI, connection_id: str | None = None) -> int:
    async with app.state.carpulse.sessionmaker() as db:
        statement = select(func.count()).select_from(VehicleConnection)
        if connection_id is not None:
            statement = statement.where(VehicleConnection.id == connection_id)
        return int((await db.execute(statement)).scalar_one())


def invoices(scope: str, vin: str) -> str:
    return f"/api/v1/tesla/{scope}/vehicles/{vin}/charging-invoices?months=3"


def assert_404(response: httpx.Response, slug: str) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(f"/{slug}")


async def refund(client: httpx.AsyncClient, app: FastAPI, intent: dict[str, Any]) -> None:
    session = app.state.carpulse.sandbox.stripe.sessions[intent["provider_payment_id"]]
    payment_intent = session["payment_intent"]
    form = {"payment_intent": payment_intent if isinstance(payment_intent, str) else payment_intent["id"]}
    response = await client.post(
        "/_sandbox/stripe/v1/refunds", data=form, headers={"Authorization": "Bearer sk_test_sandbox"}
    )
    assert response.status_code == 200, response.text
    await settle(app)
    await settle(app)  # the refund's webhook job, then the revocation job it queued


class TestOAuthStateIsBoundToItsBrowser:
    async def test_a_callback_forwarded_to_another_browser_connects_nobody(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        _, callback = await authorize(committed_client, "solo")
        transport = httpx.ASGITransport(app=committed_app, client=CLIENT_ADDRESS)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as victim:
            response = await victim.get("/api/v1/tesla/oauth/callback", params=callback, headers=JSON)

        assert response.status_code == 400, response.text
        assert response.json()["type"].endswith("/oauth-browser-mismatch")
        # The state is spent: the link cannot be replayed, not even by the browser that started it.
        again = await committed_client.get("/api/v1/tesla/oauth/callback", params=callback, headers=JSON)
        assert again.json()["type"].endswith("/oauth-state-invalid")

    async def test_the_cookie_is_http_only_lax_and_scoped_to_the_oauth_routes(
        self, committed_client: httpx.AsyncClient
    ) -> None:
        response = await committed_client.post("/api/v1/tesla/oauth/initiate", json={})

        cookie = response.headers["set-cookie"].lower()
        assert cookie.startswith("carpulse_connect=")
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "path=/api/v1/tesla/oauth" in cookie
        assert response.json()["binding"] in response.headers["set-cookie"]

    async def test_an_api_client_without_cookies_sends_the_binding_header(
        self, committed_client: httpx.AsyncClient
    ) -> None:
        initiated = (await committed_client.post("/api/v1/tesla/oauth/initiate", json={})).json()
        committed_client.cookies.clear()
        url = urlsplit(initiated["authorization_url"])
        query = {key: values[0] for key, values in parse_qs(url.query).items()} | {"sandbox_account": "solo"}
        consent = await committed_client.get(url.path, params=query)
        callback = {key: values[0] for key, values in parse_qs(urlsplit(consent.headers["location"]).query).items()}

        response = await committed_client.get(
            "/api/v1/tesla/oauth/callback",
            params=callback,
            headers={**JSON, "X-Connect-Binding": initiated["binding"]},
        )

        assert response.status_code == 200, response.text
        assert response.json()["vehicle_count"] == 1

    async def test_a_plain_link_starts_a_bound_flow_for_a_browser(self, committed_client: httpx.AsyncClient) -> None:
        started = await committed_client.get("/api/v1/tesla/oauth/start", params={"locale": "de"})

        assert started.status_code == 303
        assert "carpulse_connect=" in started.headers["set-cookie"]
        url = urlsplit(started.headers["location"])
        query = {key: values[0] for key, values in parse_qs(url.query).items()} | {"sandbox_account": "solo"}
        consent = await committed_client.get(url.path, params=query)
        callback = {key: values[0] for key, values in parse_qs(urlsplit(consent.headers["location"]).query).items()}
        response = await committed_client.get(
            "/api/v1/tesla/oauth/callback", params=callback, headers={"Accept": "text/html"}
        )
        assert response.status_code == 303, response.text
        assert "session_id=" in response.headers["location"]

    async def test_a_plain_link_refuses_a_foreign_return_url(self, committed_client: httpx.AsyncClient) -> None:
        response = await committed_client.get(
            "/api/v1/tesla/oauth/start", params={"return_url": "https://evil.example/steal"}
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_concurrent_first_sign_ins_of_one_api_client_each_use_their_own_binding(
        self, committed_client: httpx.AsyncClient
    ) -> None:
        first, second = [
            (await committed_client.post("/api/v1/tesla/oauth/initiate", json={})).json() for _ in range(2)
        ]
        committed_client.cookies.clear()
        late = (await committed_client.post("/api/v1/tesla/oauth/initiate", json={})).json()  # the jar's cookie now
        assert late["binding"] != first["binding"]
        url = urlsplit(first["authorization_url"])
        query = {key: values[0] for key, values in parse_qs(url.query).items()} | {"sandbox_account": "solo"}
        consent = await committed_client.get(url.path, params=query)
        callback = {key: values[0] for key, values in parse_qs(urlsplit(consent.headers["location"]).query).items()}

        response = await committed_client.get(
            "/api/v1/tesla/oauth/callback", params=callback, headers={**JSON, "X-Connect-Binding": first["binding"]}
        )

        assert response.status_code == 200, response.text
        assert second["binding"] == first["binding"]

    async def test_a_second_sign_in_in_the_same_browser_keeps_its_binding(
        self, committed_client: httpx.AsyncClient
    ) -> None:
        first = (await committed_client.post("/api/v1/tesla/oauth/initiate", json={})).json()
        second = (await committed_client.post("/api/v1/tesla/oauth/initiate", json={})).json()
        # Two tabs, one browser: both callbacks must work, so the browser's secret stays the same.
        assert first["binding"] == second["binding"]


class TestTheSessionLivesThirtyMinutesOnce:
    async def test_every_session_route_closes_when_the_session_ends(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, clock: ShiftedClock
    ) -> None:
        intent = await checkout(committed_client, "stripe", account="solo", package="basic")
        session_id = intent["session_id"]
        vin = (await committed_client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"][0]["vin"]
        assert (await committed_client.get(invoices(f"session/{session_id}", vin))).status_code == 200

        clock.advance(minutes=30, seconds=1)

        # The store may still hold it (a TTL is not exact); the session's own end decides.
        base = f"/api/v1/tesla/session/{session_id}"
        for response in (
            await committed_client.get(f"{base}/vehicles"),
            await committed_client.get(f"{base}/state"),
            await committed_client.post(f"{base}/select", json={"vins": [vin], "package": "basic"}),
            await committed_client.get(invoices(f"session/{session_id}", vin)),
            await committed_client.get(f"{base}/vehicles/{vin}/charging-history.csv"),
            await committed_client.get(f"{base}/photos"),
            await committed_client.post("/api/v1/pricing/quote", json={"session_id": session_id}),
            await committed_client.post(
                "/api/v1/payment/create-intent",
                json={"session_id": session_id, "quote_id": intent["quote"]["quote_id"], "provider": "stripe"},
            ),
        ):
            assert_404(response, "connect-session-not-found")

    async def test_an_unpaid_expired_session_takes_no_photos(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, clock: ShiftedClock
    ) -> None:
        intent = await checkout(committed_client, "stripe", account="solo", package="basic")
        await committed_app.state.carpulse.ephemeral.delete("connect:session:" + intent["session_id"])

        response = await committed_client.post(
            f"/api/v1/tesla/session/{intent['session_id']}/photos",
            files=[("files", ("car.png", b"\x89PNG\r\n\x1a\n", "image/png"))],
        )

        assert_404(response, "connect-session-not-found")

    async def test_changes_never_extend_the_session(
        self, committed_client: httpx.AsyncClient, clock: ShiftedClock
    ) -> None:
        session_id = (await connect_account(committed_client, "family"))["session_id"]
        before = (await committed_client.get(f"/api/v1/tesla/session/{session_id}/state")).json()
        vins = [
            v["vin"]
            for v in (await committed_client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"]
        ]
        clock.advance(minutes=20)

        selected = await committed_client.post(
            f"/api/v1/tesla/session/{session_id}/select", json={"vins": vins[:1], "package": "basic"}
        )

        assert selected.status_code == 200, selected.text
        assert selected.json()["expires_at"] == before["expires_at"]
        assert 590 <= selected.json()["expires_in"] <= 600
        clock.advance(minutes=10, seconds=1)
        assert_404(await committed_client.get(f"/api/v1/tesla/session/{session_id}/state"), "connect-session-not-found")

    async def test_a_session_id_lists_reports_only_while_it_lives(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, clock: ShiftedClock
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        assert (await committed_client.get(f"/api/v1/tesla/report/{intent['session_id']}")).status_code == 200

        clock.advance(minutes=31)

        assert_404(await committed_client.get(f"/api/v1/tesla/report/{intent['session_id']}"), "paid-order-not-found")
        generate = await committed_client.post(
            "/api/v1/tesla/reports/generate", json={"session_id": intent["session_id"]}
        )
        assert_404(generate, "paid-order-not-found")
        assert (await committed_client.get(f"/api/v1/tesla/report/{intent['order_id']}")).status_code == 200


class TestTheOrderOpensWhatItPaidFor:
    async def test_the_order_tells_nothing_of_its_session(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")

        response = await committed_client.get(f"/api/v1/orders/{intent['order_id']}")

        assert response.status_code == 200
        assert "session_id" not in response.json()
        assert intent["session_id"] not in response.text
        listing = await committed_client.get(f"/api/v1/tesla/report/{intent['order_id']}")
        assert intent["session_id"] not in listing.text

    async def test_the_order_reads_only_the_vehicles_it_paid_for(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await checkout(committed_client, "stripe", account="family", package="basic", count=1)
        await act_on_hosted_page(committed_client, intent["redirect_url"], "pay")
        await settle_reports(committed_app)
        vehicles = (await committed_client.get(f"/api/v1/tesla/session/{intent['session_id']}/vehicles")).json()
        paid_vin, *others = [vehicle["vin"] for vehicle in vehicles["vehicles"]]
        scope = f"orders/{intent['order_id']}"

        assert (await committed_client.get(invoices(scope, paid_vin))).status_code == 200
        assert others
        for vin in others:
            assert_404(await committed_client.get(invoices(scope, vin)), "vehicle-not-found")
            csv = await committed_client.get(f"/api/v1/tesla/{scope}/vehicles/{vin}/charging-history.csv")
            assert_404(csv, "vehicle-not-found")
        archive = await committed_client.get(f"/api/v1/tesla/{scope}/charging-invoices.zip")
        assert archive.status_code == 200
        assert all(vin[-6:].encode() not in archive.content for vin in others)

    async def test_an_unpaid_order_opens_no_vehicle_data(self, committed_client: httpx.AsyncClient) -> None:
        intent = await checkout(committed_client, "stripe", account="solo", package="basic")
        vin = intent["quote"]["vins"][0]
        scope = f"orders/{intent['order_id']}"

        assert_404(await committed_client.get(invoices(scope, vin)), "paid-order-not-found")
        assert_404(await committed_client.get(f"/api/v1/tesla/{scope}/photos"), "paid-order-not-found")
        assert_404(await committed_client.get(f"/api/v1/tesla/report/{intent['order_id']}"), "paid-order-not-found")
        assert (await committed_client.get(f"/api/v1/orders/{intent['order_id']}")).status_code == 200

    async def test_the_order_closes_when_its_window_ends(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, clock: ShiftedClock
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        read = (await committed_client.get(f"/api/v1/orders/{intent['order_id']}")).json()
        paid_at = datetime.fromisoformat(read["paid_at"])
        assert datetime.fromisoformat(read["data_until"]) == paid_at + timedelta(days=30)
        listing = await reports_of(committed_client, intent["order_id"])
        task = listing["vehicles"][0]["reports"][0]
        vin = listing["vehicles"][0]["vin"]

        clock.advance(days=30, seconds=1)

        scope = f"orders/{intent['order_id']}"
        assert_404(await committed_client.get(invoices(scope, vin)), "paid-order-not-found")
        assert_404(await committed_client.get(f"/api/v1/tesla/report/{intent['order_id']}"), "paid-order-not-found")
        assert_404(await committed_client.get(f"/api/v1/tesla/reports/status/{task['task_id']}"), "report-not-found")
        assert_404(await committed_client.get(f"/api/v1/tesla/{scope}/photos"), "paid-order-not-found")
        # The money record stays readable: the order and its receipt.
        assert (await committed_client.get(f"/api/v1/orders/{intent['order_id']}")).status_code == 200
        assert (await committed_client.get(f"/api/v1/payment/receipt/{intent['order_id']}")).status_code == 200


class TestReceiptsOpenTheirReceipt:
    async def test_a_receipt_names_no_id_that_opens_more(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        listing = await reports_of(committed_client, intent["order_id"])
        receipt_url = local(listing["receipt_url"])
        receipt_id = receipt_url.rsplit("/", 1)[1]

        receipt = await committed_client.get(receipt_url)
        pdf = await committed_client.get(f"{receipt_url}/pdf")

        assert receipt.status_code == pdf.status_code == 200
        assert receipt_id != intent["order_id"]
        pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert receipt.json()["order_reference"] in pdf_text
        for secret in (intent["order_id"], intent["session_id"]):
            assert secret not in receipt.text
            assert secret not in pdf_text
        assert receipt.json()["order_reference"].startswith("CP-")
        # The receipt id itself opens nothing but the receipt.
        assert_404(await committed_client.get(f"/api/v1/orders/{receipt_id}"), "order-not-found")
        assert_404(await committed_client.get(f"/api/v1/tesla/report/{receipt_id}"), "paid-order-not-found")
        assert_404(
            await committed_client.get(invoices(f"orders/{receipt_id}", intent["quote"]["vins"][0])),
            "paid-order-not-found",
        )


class TestReturnUrlsCarryNoIds:
    async def test_the_provider_sees_a_reference_not_the_session(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await checkout(committed_client, "stripe", account="solo", package="basic")

        returned = await act_on_hosted_page(committed_client, intent["redirect_url"], "pay")
        await settle_reports(committed_app)

        # The provider sends the browser to our return endpoint (an encrypted token), which sends it to the front end.
        to_us = returned.headers["location"]
        location = (await committed_client.get(local(to_us))).headers["location"]
        query = parse_qs(urlsplit(location).query)
        assert query["checkout"] == [intent["reference"]]
        for url in (to_us, location):
            assert intent["session_id"] not in url
            assert intent["order_id"] not in url
        session = committed_app.state.carpulse.sandbox.stripe.sessions[intent["provider_payment_id"]]
        assert intent["session_id"] not in str(session)


class TestARefundedOrderOpensNothing:
    async def test_reports_links_data_and_tokens_go(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        listing = await reports_of(committed_client, intent["order_id"])
        task = listing["vehicles"][0]["reports"][0]
        vin = listing["vehicles"][0]["vin"]
        assert (await committed_client.get(local(task["download_url"]))).status_code == 200
        assert await connections(committed_app, intent["session_id"]) == 1

        await refund(committed_client, committed_app, intent)

        scope = f"orders/{intent['order_id']}"
        assert_404(await committed_client.get(f"/api/v1/tesla/reports/status/{task['task_id']}"), "report-not-found")
        assert_404(await committed_client.get(f"/api/v1/tesla/reports/{task['task_id']}/html"), "report-not-found")
        assert_404(await committed_client.get(f"/api/v1/tesla/report/{intent['order_id']}"), "paid-order-not-found")
        assert_404(await committed_client.get(invoices(scope, vin)), "paid-order-not-found")
        vehicle_report = await committed_client.post(
            "/api/v1/tesla/vehicle-report/pdf/async", json={"order_id": intent["order_id"], "vin": vin}
        )
        assert_404(vehicle_report, "paid-order-not-found")
        # A link handed out before the refund stops working too: the file is gone.
        assert (await committed_client.get(local(task["download_url"]))).status_code == 404
        assert (await committed_client.get(local(task["html_url"]))).status_code == 404
        assert await connections(committed_app, intent["session_id"]) == 0
        order = (await committed_client.get(f"/api/v1/orders/{intent['order_id']}")).json()
        assert (order["status"], order["data_until"]) == ("refunded", None)

    async def test_the_sweep_revokes_a_refund_whose_job_was_lost(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        listing = await reports_of(committed_client, intent["order_id"])
        task = listing["vehicles"][0]["reports"][0]
        state = committed_app.state.carpulse
        original = state.jobs.enqueue

        async def lose_revocations(name: str, **ids: Any) -> None:
            if name != "report.order_refunded":
                await original(name, **ids)

        state.jobs.enqueue = lose_revocations
        await refund(committed_client, committed_app, intent)
        assert await connections(committed_app, intent["session_id"]) == 1

        assert await revoke_refunded(state) == 1

        assert await connections(committed_app, intent["session_id"]) == 0
        assert (await committed_client.get(local(task["download_url"]))).status_code == 404


class TestNoTokenSurvivesItsNeed:
    async def test_an_unpaid_checkout_forgets_its_tokens_when_it_expires(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, clock: ShiftedClock
    ) -> None:
        intent = await checkout(committed_client, "stripe", account="solo", package="basic")
        state = committed_app.state.carpulse
        assert await forget_connections(state) == 0  # still payable: its tokens will fulfil it
        assert await connections(committed_app, intent["session_id"]) == 1

        clock.advance(seconds=state.settings.pricing.order_ttl_seconds + 1)

        assert await forget_connections(state) == 1
        assert await connections(committed_app) == 0

    async def test_a_paid_order_keeps_its_tokens_for_its_window_only(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, clock: ShiftedClock
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        state = committed_app.state.carpulse
        clock.advance(days=29)
        assert await forget_connections(state) == 0
        assert await connections(committed_app, intent["session_id"]) == 1

        clock.advance(days=1, seconds=1)

        assert await forget_connections(state) == 1
        assert await connections(committed_app) == 0
