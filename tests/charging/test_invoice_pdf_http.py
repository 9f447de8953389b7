"""`GET …/charging-invoices/{invoice_id}`: the vehicle's own invoice as Tesla issued it, and nothing else."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from fakes.tesla_fleet import invoice_pdf
from tests.charging.flow import PROBLEM, fake_of, session_for, vehicle_path


class TestInvoicePdf:
    async def test_the_pdf_with_a_safe_dated_file_name(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        account = fake.accounts["solo"]
        vehicle = account.vehicles[0]
        session = next(s for s in reversed(account.charging.sessions) if s.invoices)
        invoice = session.invoices[0]
        session_id = await session_for(client, "solo")

        response = await client.get(f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices/{invoice.content_id}")

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        name = f"{session.local(session.start):%Y-%m-%d}_{invoice.file_name}"
        assert response.headers["content-disposition"] == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == invoice_pdf.render(
            session, invoice, customer=account.full_name, vehicle_name=vehicle.display_name
        )

    async def test_an_old_invoice_is_found_beyond_the_first_page(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        account = fake.accounts["charger"]
        oldest = next(s for s in account.charging.sessions if s.invoices)
        session_id = await session_for(client, "charger")

        response = await client.get(
            f"{vehicle_path(session_id, account.vehicles[0].vin)}/charging-invoices/{oldest.invoices[0].content_id}"
        )

        assert response.status_code == 200
        assert oldest.invoices[0].number.encode() in response.content

    async def test_a_second_invoice_reads_no_history(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        account = fake.accounts["charger"]
        newest, older = [s for s in reversed(account.charging.sessions) if s.invoices][:2]
        base = vehicle_path(await session_for(client, "charger"), account.vehicles[0].vin)
        await client.get(f"{base}/charging-invoices/{newest.invoices[0].content_id}")
        before = len(fake.calls)

        response = await client.get(f"{base}/charging-invoices/{older.invoices[0].content_id}")

        assert response.status_code == 200
        paths = [call.path for call in fake.calls[before:]]
        assert [path.rsplit("/", 3)[-3:] for path in paths] == [["charging", "invoice", older.invoices[0].content_id]]


class TestNotThisVehiclesInvoice:
    async def test_a_sibling_vehicles_invoice_is_404(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        vehicles = fake.accounts["family"].vehicles
        invoice, (charged, _) = next(iter(fake.accounts["family"].charging.invoices.items()))
        owner = next(vehicle for vehicle in vehicles if vehicle.vin == charged.vin)
        other = next(vehicle for vehicle in vehicles if vehicle is not owner)
        session_id = await session_for(client, "family")

        wrong = await client.get(f"{vehicle_path(session_id, other.vin)}/charging-invoices/{invoice}")
        right = await client.get(f"{vehicle_path(session_id, owner.vin)}/charging-invoices/{invoice}")

        assert wrong.status_code == 404
        assert wrong.headers["content-type"].startswith(PROBLEM)
        assert wrong.json()["type"] == "/problems/charging-invoice-not-found"
        assert b"%PDF" not in wrong.content
        assert right.status_code == 200

    @pytest.mark.parametrize(
        ("invoice_id", "status"),
        [
            ("00000000-0000-4000-8000-000000000000", 404),
            ("a" * 129, 422),
            ("..%2F..%2Fetc%2Fpasswd", 404),  # decoded to slashes: no route matches
            ("x%00y", 422),
        ],
    )
    async def test_unknown_or_malformed_ids(
        self, app: FastAPI, client: httpx.AsyncClient, invoice_id: str, status: int
    ) -> None:
        vehicle = fake_of(app).accounts["solo"].vehicles[0]
        session_id = await session_for(client, "solo")

        response = await client.get(f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices/{invoice_id}")

        assert response.status_code == status
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_an_invoice_tesla_lists_but_no_longer_serves_is_404(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        account = fake.accounts["solo"]
        content_id = next(iter(account.charging.invoices))
        session_id = await session_for(client, "solo")
        del account.charging.invoices[content_id]  # still in the history, gone from the invoice endpoint

        response = await client.get(
            f"{vehicle_path(session_id, account.vehicles[0].vin)}/charging-invoices/{content_id}"
        )

        assert response.status_code == 404
        assert response.json()["type"] == "/problems/charging-invoice-not-found"
        assert response.json()["detail"] == "Tesla no longer serves this invoice."
