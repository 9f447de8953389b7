"""A second brand, through HTTP: it signs in with credentials, lists its car, and gets a Basic report with
what it reads (odometer, battery level) and honest gaps for what it never gives."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.provider.registry import BrandPlugin, builtin_brands
from tests.kit.page_box import Layout
from tests.payment.flow import act_on_hosted_page
from tests.provider.fake_brand import ACCOUNTS, PASSWORD, VOLTRA, VOLTRA_VIN
from tests.report.flow import REPORTS_ON, local, settle_reports

OWNER = "owner@example.com"
# Set to a directory to keep the Voltra report's pages as PNGs to look at.
PAGE_IMAGES = os.environ.get("CARPULSE_TEST_PAGE_IMAGES")


@pytest.fixture
def brands() -> tuple[BrandPlugin, ...]:
    return (*builtin_brands(), VOLTRA)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return REPORTS_ON


async def sign_in(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/voltra/sign-in", json={"username": OWNER, "password": password, "locale": "en"})


class TestConnect:
    async def test_signs_in_with_credentials_and_lists_its_car(self, client: httpx.AsyncClient) -> None:
        response = await sign_in(client)
        assert response.status_code == 200, response.text
        assert response.json()["vehicle_count"] == 1
        session_id = response.json()["session_id"]

        listed = await client.get(f"/api/v1/voltra/session/{session_id}/vehicles")
        assert listed.status_code == 200
        (car,) = listed.json()["vehicles"]
        assert (car["vin"], car["display_name"]) == (VOLTRA_VIN, "Blue Voltra")
        state = (await client.get(f"/api/v1/voltra/session/{session_id}/state")).json()
        assert state["provider"] == "voltra"

    async def test_a_wrong_password_is_a_clear_400_and_connects_nothing(self, client: httpx.AsyncClient) -> None:
        response = await sign_in(client, password="wrong")
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("/sign-in-failed")
        assert "password" not in response.text.replace("user name and password", "")

    async def test_its_session_is_not_on_another_brands_mount(self, client: httpx.AsyncClient) -> None:
        session_id = (await sign_in(client)).json()["session_id"]
        other = await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")
        assert other.status_code == 404
        assert other.json()["type"].endswith("/connect-session-not-found")

    async def test_it_has_no_oauth_routes_and_tesla_has_no_credentials_route(self, client: httpx.AsyncClient) -> None:
        assert (await client.post("/api/v1/voltra/oauth/initiate", json={})).status_code == 404
        tesla = await client.post("/api/v1/tesla/sign-in", json={"username": OWNER, "password": PASSWORD})
        assert tesla.status_code == 404

    async def test_the_api_document_lists_its_mount(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert "/api/v1/voltra/sign-in" in paths
        assert "/api/v1/voltra/vehicle-report/pdf/async" in paths
        # It reads no charging history: no charging mount.
        assert not [path for path in paths if path.startswith("/api/v1/voltra/") and "charging" in path]


class TestBasicReport:
    async def test_a_paid_basic_report_shows_what_it_reads_and_says_what_it_never_gives(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        client = committed_client
        session_id = (await sign_in(client)).json()["session_id"]
        selected = await client.post(
            f"/api/v1/voltra/session/{session_id}/select", json={"vins": [VOLTRA_VIN], "package": "basic"}
        )
        assert selected.status_code == 200, selected.text
        quote = (await client.post("/api/v1/pricing/quote", json={"session_id": session_id})).json()
        intent = await client.post(
            "/api/v1/payment/create-intent",
            json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": "stripe", "locale": "en"},
        )
        assert intent.status_code == 200, intent.text
        order_id = intent.json()["order_id"]
        reads_before = ACCOUNTS.reads  # the in-process worker may render as soon as the payment lands
        paid = await act_on_hosted_page(client, intent.json()["redirect_url"], "pay")
        assert paid.status_code < 400, paid.text
        assert (await client.post("/api/v1/payment/verify", json={"order_id": order_id})).status_code == 200
        await settle_reports(committed_app)

        listing = await client.get(f"/api/v1/voltra/report/{order_id}")
        assert listing.status_code == 200, listing.text
        body = listing.json()
        assert body["status"] == "complete", body
        (vehicle,) = body["vehicles"]
        assert vehicle["facts"]["odometer_km"] == pytest.approx(48_211)
        assert vehicle["facts"]["battery_level_percent"] == pytest.approx(76)
        assert ACCOUNTS.reads > reads_before  # read from Voltra, not from any Tesla fixture
        (task,) = vehicle["reports"]
        html = (await client.get(local(task["html_url"]))).text
        assert "48,211" in html
        assert "76" in html
        assert "Voltra API" in html
        for part in ("service status", "alert history", "warranty details"):
            assert f"Not offered by Voltra: {part}" in html
        # What the brand never gives is said as such, never as "none recorded" or "could not be read".
        assert "Voltra does not give the alert history." in html
        assert "Voltra does not give warranty details" in html
        assert "reported no recent alerts" not in html
        assert "could not be read" not in html
        assert "service visits" not in html  # no service data at all: nothing to say about its odometer
        assert html.count("Not offered by Voltra: alert history") == 2  # the gaps list and the empty alerts table
        assert "charging history" not in html  # a Basic report has none, offered or not
        assert "Tesla" not in html
        assert not re.search(r"\b(report|verdict|battery)\.[a-z_]+\.[a-z_]", html)  # no raw message keys
        pdf = await client.get(local(task["download_url"]))
        assert pdf.content.startswith(b"%PDF")
        if PAGE_IMAGES:
            Layout.read(pdf.content).save_images(pdf.content, Path(PAGE_IMAGES), "report-voltra-basic")
