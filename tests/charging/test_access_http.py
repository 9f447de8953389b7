"""Who reads which vehicle's charging: another session's VIN, an unknown session or order, an unpaid VIN of an
order, all answer 404 with nothing of the vehicle in it; a paid order reads what it paid for."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.charging.flow import PROBLEM, TESLA, fake_of, session_for, vehicle_path
from tests.payment.flow import act_on_hosted_page
from tests.pricing.test_pricing_http import selected_session

VEHICLE_ENDPOINTS = (
    "charging-invoices",
    "charging-invoices.zip",
    "charging-history.csv",
    "charging-invoices/5c2e9a1b-7f3d-4e6a-9b8c-0d1e2f3a4b5c",
)


def assert_not_found(response: httpx.Response, slug: str, *secrets: str) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"] == f"/problems/{slug}"
    for secret in secrets:
        assert secret not in response.text


class TestAnotherSessionsVehicle:
    @pytest.mark.parametrize("endpoint", VEHICLE_ENDPOINTS)
    async def test_is_404_and_tesla_is_not_asked(self, app: FastAPI, client: httpx.AsyncClient, endpoint: str) -> None:
        fake = fake_of(app)
        mine = await session_for(client, "solo")
        await session_for(client, "charger")
        foreign = fake.accounts["charger"].vehicles[0]
        calls = len(fake.calls)

        response = await client.get(f"{vehicle_path(mine, foreign.vin)}/{endpoint}")

        assert_not_found(response, "vehicle-not-found", foreign.display_name, "charger")
        assert len(fake.calls) == calls

    async def test_another_accounts_invoice_under_my_vehicle_is_404(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        mine = await session_for(client, "solo")
        foreign_invoice = next(iter(fake.accounts["charger"].charging.invoices))
        invoice_calls = sum("/dx/charging/invoice/" in call.path for call in fake.calls)

        response = await client.get(
            f"{vehicle_path(mine, fake.accounts['solo'].vehicles[0].vin)}/charging-invoices/{foreign_invoice}"
        )

        assert_not_found(response, "charging-invoice-not-found")
        assert sum("/dx/charging/invoice/" in call.path for call in fake.calls) == invoice_calls

    async def test_an_unknown_session_is_404_for_every_endpoint(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        vin = fake_of(app).accounts["solo"].vehicles[0].vin
        unknown = "x" * 43

        for endpoint in VEHICLE_ENDPOINTS:
            assert_not_found(await client.get(f"{vehicle_path(unknown, vin)}/{endpoint}"), "connect-session-not-found")
        assert_not_found(
            await client.get(f"{TESLA}/session/{unknown}/charging-invoices.zip"), "connect-session-not-found"
        )


async def paid_order_for(client: httpx.AsyncClient, account: str, count: int) -> dict[str, Any]:
    """Select the first `count` vehicles of `account`, pay on the Stripe fake, verify: a paid order."""
    session_id = await selected_session(client, account, "basic", count=count)
    quote = (await client.post("/api/v1/pricing/quote", json={"session_id": session_id})).json()
    intent = (
        await client.post(
            "/api/v1/payment/create-intent",
            json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": "stripe", "locale": "fi"},
        )
    ).json()
    assert (await act_on_hosted_page(client, intent["redirect_url"], "pay")).status_code < 400
    verified = await client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})
    assert verified.json()["status"] == "paid", verified.text
    return {"session_id": session_id, "order_id": intent["order_id"]}


def without_paths(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        for invoice in row["invoices"]:
            invoice.pop("download_path")
    return rows


class TestPaidOrder:
    """Paying commits in several transactions (webhook inbox, verify): these run on committed data."""

    async def test_reads_the_same_as_its_session(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        vin = fake_of(committed_app).accounts["solo"].vehicles[0].vin
        paid = await paid_order_for(committed_client, "solo", 1)
        by_order = f"{TESLA}/orders/{paid['order_id']}/vehicles/{vin}"

        via_order = await committed_client.get(f"{by_order}/charging-invoices")
        via_session = await committed_client.get(f"{vehicle_path(paid['session_id'], vin)}/charging-invoices")
        csv_file = await committed_client.get(f"{by_order}/charging-history.csv")

        assert via_order.status_code == 200, via_order.text
        assert without_paths(via_order.json()["sessions"]) == without_paths(via_session.json()["sessions"])
        assert via_order.json()["totals"] == via_session.json()["totals"]
        assert csv_file.status_code == 200
        invoice = via_order.json()["sessions"][0]["invoices"][0]
        assert invoice["download_path"].startswith(f"{by_order}/charging-invoices/")
        pdf = await committed_client.get(invoice["download_path"])
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF-")

    async def test_reads_only_the_vehicles_paid_for(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        paid_vehicle, unpaid_vehicle, _ = fake_of(committed_app).accounts["family"].vehicles
        paid = await paid_order_for(committed_client, "family", 1)
        order = f"{TESLA}/orders/{paid['order_id']}"

        unpaid = await committed_client.get(f"{order}/vehicles/{unpaid_vehicle.vin}/charging-invoices")
        archive = await committed_client.get(f"{order}/charging-invoices.zip", params={"months": 24})
        via_session = await committed_client.get(
            f"{vehicle_path(paid['session_id'], unpaid_vehicle.vin)}/charging-invoices"
        )

        assert_not_found(unpaid, "vehicle-not-found", unpaid_vehicle.display_name)
        assert archive.status_code == 200
        folders = {name for name in zipfile.ZipFile(io.BytesIO(archive.content)).namelist() if name.endswith("/")}
        assert folders == {f"{paid_vehicle.display_name}-{paid_vehicle.vin[-6:]}/"}
        assert via_session.status_code == 200  # the connect session itself reads its whole account

    async def test_an_unknown_order_is_404(self, committed_app: FastAPI, committed_client: httpx.AsyncClient) -> None:
        vin = fake_of(committed_app).accounts["solo"].vehicles[0].vin
        order = f"{TESLA}/orders/{'o' * 32}"

        assert_not_found(
            await committed_client.get(f"{order}/vehicles/{vin}/charging-invoices"), "paid-order-not-found"
        )
        assert_not_found(await committed_client.get(f"{order}/charging-invoices.zip"), "paid-order-not-found")
