"""Billing through HTTP: usage closed into gap-free invoices with the VAT rule per buyer, never twice; JSON
and PDF; a client reads only its own; an admin reads every client's."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from tests.data_api.flow import MODEL_3_VIN, DataClient, data_client
from tests.kit.page_box import Layout
from tests.kit.test_documents import pdf_text

STATIC = f"/api/v1/vehicle/static/{MODEL_3_VIN}"
HELSINKI = ZoneInfo("Europe/Helsinki")
# Set to a directory to keep the invoices' pages as PNGs to look at.
PAGE_IMAGES = os.environ.get("CARPULSE_TEST_PAGE_IMAGES")

FINNISH = {"country": "FI", "vat_number": "FI20774740", "company_name": "Autotalo Virtanen Oy"}
GERMAN = {"country": "DE", "vat_number": "DE136695976", "company_name": "Flottenleasing GmbH"}
AMERICAN = {"country": "US", "vat_number": None, "company_name": "Fleet Insight Inc."}
SWEDISH_UNREGISTERED = {"country": "SE", "vat_number": None, "company_name": "Elbilsfirman"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"data_api": {"key_cache_seconds": 0}, "rate_limit": {"enabled": False}}


async def calls(client: httpx.AsyncClient, owner: DataClient, count: int, path: str = STATIC) -> None:
    for _ in range(count):
        response = await client.get(path, headers=owner.by_key)
        assert response.status_code == 200, response.text


async def pay(client: httpx.AsyncClient, owner: DataClient, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/billing/pay", json=body, headers=owner.by_key)


class TestVat:
    @pytest.mark.parametrize(
        ("buyer", "treatment", "rate", "vat", "note"),
        [
            (FINNISH, "finnish_vat", "25.5", 8, None),  # 30 c × 25.5 % = 7.65 c → 8 c
            (GERMAN, "reverse_charge", "0", 0, "Reverse charge"),
            (AMERICAN, "outside_eu", "0", 0, "outside the EU"),
            (SWEDISH_UNREGISTERED, "finnish_vat", "25.5", 8, None),
        ],
        ids=["finnish", "german-vat-registered", "non-eu", "eu-not-registered"],
    )
    async def test_three_calls_make_an_invoice_with_the_buyers_vat(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        buyer: dict[str, Any],
        treatment: str,
        rate: str,
        vat: int,
        note: str | None,
    ) -> None:
        owner = await data_client(app, client, **buyer)
        await calls(client, owner, 3)

        response = await pay(client, owner)
        assert response.status_code == 201, response.text
        invoice = response.json()
        year = datetime.now(HELSINKI).year  # the series follows the Finnish calendar year
        assert invoice["number"] == f"DAT-{year}-000001"
        assert invoice["lines"] == [
            {"plan": "basic", "endpoint": "vehicle.static", "quantity": 3, "unit_price_minor": 10, "net_minor": 30}
        ]
        assert (invoice["net_minor"], invoice["vat_minor"], invoice["gross_minor"]) == (30, vat, 30 + vat)
        assert (invoice["vat_treatment"], float(invoice["vat_rate"])) == (treatment, float(rate))
        assert invoice["buyer"]["company_name"] == buyer["company_name"]
        assert invoice["buyer"]["vat_number"] == buyer["vat_number"]
        assert invoice["usage_count"] == 3
        if note is None:
            assert invoice["vat_note"] is None
        else:
            assert note in invoice["vat_note"]

        pdf = await client.get(invoice["pdf_path"], headers=owner.by_key)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content)
        assert invoice["number"] in text
        assert buyer["company_name"] in text
        assert "Car Pulse Oy" in text
        if buyer["vat_number"]:
            assert buyer["vat_number"] in text
        if note is not None:
            assert note in text
        layout = Layout.read(pdf.content)
        assert len(layout.pages) == 1
        if PAGE_IMAGES:
            layout.save_images(pdf.content, Path(PAGE_IMAGES), f"invoice-{treatment}-{buyer['country']}")


class TestOnce:
    async def test_paid_usage_is_stamped_and_paying_again_bills_nothing(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await data_client(app, client, **FINNISH)
        await calls(client, owner, 2)
        first = await pay(client, owner)
        assert first.status_code == 201

        usage = (await client.get("/api/v1/billing/usage", headers=owner.by_key)).json()
        assert usage["totals"][0]["billed_amount_minor"] == 20
        assert usage["totals"][0]["unbilled_amount_minor"] == 0

        again = await pay(client, owner)
        assert again.status_code == 409
        assert again.json()["type"].endswith("/nothing-to-bill")
        same_cutoff = await pay(client, owner, cutoff=first.json()["period_end"])
        assert same_cutoff.status_code == 200
        assert same_cutoff.json()["id"] == first.json()["id"]
        listed = (await client.get("/api/v1/billing/invoices", headers=owner.by_key)).json()["invoices"]
        assert [item["id"] for item in listed] == [first.json()["id"]]

    async def test_later_calls_go_on_the_next_invoice_numbered_next(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        alice = await data_client(app, client, "alice@leasing.example", **FINNISH)
        bob = await data_client(app, client, "bob@flotte.example", **GERMAN)
        await calls(client, alice, 1)
        one = (await pay(client, alice)).json()
        await calls(client, bob, 1)
        two = (await pay(client, bob)).json()
        await calls(client, alice, 4)
        three = (await pay(client, alice)).json()
        year = datetime.now(HELSINKI).year  # the series follows the Finnish calendar year
        assert [one["number"], two["number"], three["number"]] == [f"DAT-{year}-00000{n}" for n in (1, 2, 3)]
        assert three["period_start"] == one["period_end"]
        assert three["lines"][0]["quantity"] == 4

    @pytest.mark.parametrize(
        ("cutoff", "why"),
        [(lambda now: now + timedelta(minutes=5), "future"), (lambda now: now.replace(tzinfo=None), "offset")],
        ids=["future", "naive"],
    )
    async def test_a_bad_cutoff_is_422(self, app: FastAPI, client: httpx.AsyncClient, cutoff: Any, why: str) -> None:
        owner = await data_client(app, client, **FINNISH)
        await calls(client, owner, 1)
        response = await pay(client, owner, cutoff=cutoff(datetime.now(UTC)).isoformat())
        assert response.status_code == 422
        assert why in response.json()["detail"]

    async def test_nothing_used_nothing_to_bill(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await data_client(app, client, **FINNISH)
        response = await pay(client, owner)
        assert response.status_code == 409


class TestWhoReads:
    async def test_a_client_never_reads_another_clients_invoice(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        alice = await data_client(app, client, "alice@leasing.example", **FINNISH)
        bob = await data_client(app, client, "bob@flotte.example", **GERMAN)
        await calls(client, alice, 1)
        invoice = (await pay(client, alice)).json()
        for path in (f"/api/v1/billing/invoices/{invoice['id']}", invoice["pdf_path"]):
            response = await client.get(path, headers=bob.by_key)
            assert response.status_code == 404
            assert response.json()["type"].endswith("/invoice-not-found")
        assert (await client.get("/api/v1/billing/invoices", headers=bob.by_key)).json()["invoices"] == []
        bobs_usage = (await client.get("/api/v1/billing/usage", headers=bob.by_key)).json()
        assert bobs_usage["groups"] == []

    async def test_an_admin_reads_every_clients_usage_and_invoices(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        admin = {"Authorization": f"Bearer {admin_token}"}
        alice = await data_client(app, client, "alice@leasing.example", **FINNISH)
        await calls(client, alice, 2)
        invoice = (await pay(client, alice)).json()

        clients = (await client.get("/api/v1/admin/data-clients", headers=admin)).json()["clients"]
        assert [(item["username"], item["plan"]) for item in clients] == [("alice@leasing.example", "basic")]
        usage = await client.get(f"/api/v1/admin/data-clients/{alice.account_id}/usage", headers=admin)
        assert usage.json()["totals"][0]["billed_amount_minor"] == 20
        listed = await client.get(f"/api/v1/admin/data-clients/{alice.account_id}/invoices", headers=admin)
        assert [item["number"] for item in listed.json()["invoices"]] == [invoice["number"]]
        pdf = await client.get(f"/api/v1/admin/invoices/{invoice['id']}/pdf", headers=admin)
        assert pdf.content.startswith(b"%PDF")
        # A client's key is no admin's.
        assert (await client.get("/api/v1/admin/data-clients", headers=alice.by_token)).status_code == 403
