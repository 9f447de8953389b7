"""The invoice ZIPs through HTTP: every PDF with a ledger row to tick it against, one folder per vehicle, safe
names whatever the vehicle is called, a failing invoice named in `errors.txt`, and bytes out before the end."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.charging.ledger import LEDGER_COLUMNS
from fakes.tesla_fleet import invoice_pdf
from tests.charging.flow import (
    TESLA,
    fake_of,
    header_of,
    invoices_in_window,
    open_zip,
    rows_of,
    session_for,
    vehicle_path,
)

ISO_LOCAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
AMOUNT = re.compile(r"-?\d+\.\d\d")


def unzip_test(tmp_path: Path, content: bytes) -> str:
    if shutil.which("unzip") is None:
        pytest.skip("unzip is not installed")
    archive = tmp_path / "archive.zip"
    archive.write_bytes(content)
    result = subprocess.run(["unzip", "-t", str(archive)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def download(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "private, no-store"
    return response


class TestVehicleArchive:
    async def test_500_invoices_500_pdfs_and_a_ledger_of_500_rows(
        self, app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        fake = fake_of(app)
        account = fake.accounts["charger"]
        vehicle = account.vehicles[0]
        session_id = await session_for(client, "charger")
        listing = (await client.get(f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices")).json()

        response = await download(client, f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices.zip")

        tested = unzip_test(tmp_path, response.content)
        assert "No errors detected" in tested
        archive = open_zip(response.content)
        pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
        assert len(pdfs) == len(set(pdfs)) == 500
        assert sorted(archive.namelist()) == sorted([*pdfs, "ledger.csv"])
        assert all("/" not in name for name in pdfs)
        ledger = archive.read("ledger.csv")
        assert header_of(ledger) == list(LEDGER_COLUMNS)
        rows = rows_of(ledger)
        assert len(rows) == 500
        assert sorted(row["invoice_file"] for row in rows) == sorted(pdfs)
        expected = invoices_in_window(fake, "charger", vehicle.vin, *window_of(listing))
        assert len(expected) == 500
        assert {row["invoice_id"] for row in rows} == set(expected)
        for row in rows:
            session, invoice = expected[row["invoice_id"]]
            pdf = archive.read(row["invoice_file"])
            assert pdf == invoice_pdf.render(
                session, invoice, customer=account.full_name, vehicle_name=vehicle.display_name
            )
            assert row["invoice_file"] == f"{row['start_local'][:10]}_{invoice.file_name}"
            assert (row["vehicle"], row["vin_suffix"]) == (vehicle.display_name, vehicle.vin[-6:])
            assert (row["pdf_status"], row["pdf_error"]) == ("included", "")
            assert Decimal(row["total"]) == session.net_due
            assert row["currency"] == session.currency
            assert row["site"] == session.site.name
            assert row["session_id"] == str(session.session_id)
            for column, pattern in (("start_local", ISO_LOCAL), ("end_local", ISO_LOCAL), ("start_utc", ISO_UTC)):
                assert pattern.fullmatch(row[column]), (column, row[column])
            assert ISO_UTC.fullmatch(row["end_utc"])
            for column in ("charging_fee", "parking_fee", "other_fees", "credit", "total"):
                assert AMOUNT.fullmatch(row[column]), (column, row[column])
            charged = sum(Decimal(row[c]) for c in ("charging_fee", "parking_fee", "other_fees"))
            assert charged - Decimal(row["credit"]) == Decimal(row["total"])
        assert [row["start_utc"] for row in rows] == sorted(row["start_utc"] for row in rows)
        # The ledger's money is the statement's money, to the cent, per currency.
        ledger_totals: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            ledger_totals[row["currency"]] += Decimal(row["total"])
        invoiced: dict[str, Decimal] = defaultdict(Decimal)
        for line in listing["sessions"]:
            if line["invoices"]:
                invoiced[line["currency"]] += Decimal(line["total"])
        assert ledger_totals == invoiced

    async def test_named_by_vehicle_and_window(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        vehicle = fake_of(app).accounts["solo"].vehicles[0]
        session_id = await session_for(client, "solo")

        response = await download(client, f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices.zip", months=2)

        disposition = response.headers["content-disposition"]
        name = rf"charging-invoices-Blue-{vehicle.vin[-6:]}-\d{{4}}-\d\d-\d\d-\d{{4}}-\d\d-\d\d\.zip"
        assert re.fullmatch(rf"attachment; filename=\"{name}\"; filename\*=UTF-8''{name}", disposition), disposition


def window_of(listing: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(listing["window"]["start"]), datetime.fromisoformat(listing["window"]["end"])


class TestSessionArchive:
    async def test_one_folder_per_vehicle_and_one_ledger(
        self, app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        vehicles = fake_of(app).accounts["family"].vehicles
        session_id = await session_for(client, "family")

        response = await download(client, f"{TESLA}/session/{session_id}/charging-invoices.zip")

        unzip_test(tmp_path, response.content)
        archive = open_zip(response.content)
        folders = {f"{vehicle.display_name}-{vehicle.vin[-6:]}/": vehicle for vehicle in vehicles}
        names = archive.namelist()
        assert {name for name in names if name.endswith("/")} == set(folders)
        rows = rows_of(archive.read("ledger.csv"))
        pdfs = [name for name in names if name.endswith(".pdf")]
        assert sorted(row["invoice_file"] for row in rows) == sorted(pdfs)
        for row in rows:
            folder = row["invoice_file"].split("/")[0] + "/"
            assert folders[folder].vin[-6:] == row["vin_suffix"]
            assert row["vehicle"] == folders[folder].display_name
        counts = {folder: sum(name.startswith(folder) for name in pdfs) for folder in folders}
        history = fake_of(app).accounts["family"].charging
        assert counts == {
            folder: sum(len(s.invoices) for s in history.sessions if s.vin == vehicle.vin)
            for folder, vehicle in folders.items()
        }
        assert 0 in counts.values()  # a car that never supercharged still has its (empty) folder
        assert response.headers["content-disposition"].startswith('attachment; filename="charging-invoices-')

    async def test_a_vehicle_named_like_a_path_stays_in_its_folder(
        self, app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        fake = fake_of(app)
        first, second, third = fake.accounts["family"].vehicles
        first.display_name = "../../etc/passwd"
        second.display_name = "..\\..\\Windows\\win.ini\x00\r\n"
        third.display_name = "/"
        session_id = await session_for(client, "family")

        response = await download(client, f"{TESLA}/session/{session_id}/charging-invoices.zip")

        archive = open_zip(response.content)
        names = archive.namelist()
        assert {name for name in names if name.endswith("/")} == {
            f"etc-passwd-{first.vin[-6:]}/",
            f"Windows-win.ini-{second.vin[-6:]}/",
            f"{third.model_name.replace(' ', '-')}-{third.vin[-6:]}/",  # nothing left of the name: the model instead
        }
        for name in names:
            assert ".." not in name
            assert "\\" not in name
            assert not name.startswith("/")
            assert not any(ord(char) < 32 for char in name)
        target = tmp_path / "extracted"
        archive.extractall(target)
        extracted = [path.resolve() for path in target.rglob("*")]
        assert all(path.is_relative_to(target.resolve()) for path in extracted)
        assert len([path for path in extracted if path.suffix == ".pdf"]) == len(rows_of(archive.read("ledger.csv")))
        unzip_test(tmp_path, response.content)
        rows = rows_of(archive.read("ledger.csv"))
        assert {row["vehicle"] for row in rows} <= {"../../etc/passwd", "..\\..\\Windows\\win.ini\x00\r\n", "/"}


class TestVehicleGoneFromTesla:
    async def test_its_folder_is_empty_and_errors_txt_says_why_the_others_are_complete(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        account = fake.accounts["family"]
        session_id = await session_for(client, "family")
        sold = next(vehicle for vehicle in account.vehicles if vehicle.display_name == "Blue")
        account.vehicles.remove(sold)  # sold since: Tesla no longer knows it for this account

        response = await download(client, f"{TESLA}/session/{session_id}/charging-invoices.zip")
        alone = await client.get(f"{vehicle_path(session_id, sold.vin)}/charging-invoices.zip")

        archive = open_zip(response.content)
        folder = f"Blue-{sold.vin[-6:]}/"
        assert folder in archive.namelist()
        assert not [name for name in archive.namelist() if name.startswith(folder) and name != folder]
        errors = archive.read("errors.txt").decode()
        assert errors.startswith(
            f"{folder} is empty: its charging history could not be read (Vehicle not found at Tesla"
        )
        rows = rows_of(archive.read("ledger.csv"))
        assert rows
        assert sold.vin[-6:] not in {row["vin_suffix"] for row in rows}
        assert {row["pdf_status"] for row in rows} == {"included"}
        assert alone.status_code == 404
        assert alone.json()["type"] == "/problems/tesla-vehicle-not-found"

    async def test_when_no_history_can_be_read_it_is_a_problem(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        session_id = await session_for(client, "family")
        fake.accounts["family"].vehicles.clear()

        response = await client.get(f"{TESLA}/session/{session_id}/charging-invoices.zip")

        assert response.status_code == 404
        assert response.json()["type"] == "/problems/tesla-vehicle-not-found"


class TestFailingInvoice:
    async def test_the_archive_completes_and_says_what_is_missing(
        self, app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        fake = fake_of(app)
        vehicle = fake.accounts["charger"].vehicles[0]
        session_id = await session_for(client, "charger")
        listing = (await client.get(f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices?months=2")).json()
        invoices = [invoice for line in listing["sessions"] for invoice in line["invoices"]]
        broken = invoices[len(invoices) // 2]
        fake.set_fault("charger", failing_invoices=[broken["invoice_id"]])

        response = await download(client, f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices.zip", months=2)

        unzip_test(tmp_path, response.content)
        archive = open_zip(response.content)
        pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
        assert len(pdfs) == len(invoices) - 1
        assert broken["file_name"] not in pdfs
        errors = archive.read("errors.txt").decode()
        assert errors.startswith(f"1 of {len(invoices)} invoices could not be fetched from Tesla")
        assert f"{broken['file_name']} (invoice {broken['invoice_id']}, session " in errors
        assert "Tesla is unavailable: Tesla answered 500 after 4 attempts." in errors
        rows = {row["invoice_id"]: row for row in rows_of(archive.read("ledger.csv"))}
        assert len(rows) == len(invoices)
        missing = rows[broken["invoice_id"]]
        assert (missing["pdf_status"], missing["invoice_file"]) == ("missing", "")
        assert missing["pdf_error"] == "Tesla is unavailable: Tesla answered 500 after 4 attempts."
        assert missing["total"]  # the money is still on the ledger
        assert {row["pdf_status"] for key, row in rows.items() if key != broken["invoice_id"]} == {"included"}
        attempts = [call for call in fake.calls if call.path.endswith(f"/dx/charging/invoice/{broken['invoice_id']}")]
        assert [call.status for call in attempts] == [500] * 4  # retried, then given up on

    async def test_history_failing_before_the_start_is_a_problem_not_a_broken_zip(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        vehicle = fake.accounts["solo"].vehicles[0]
        session_id = await session_for(client, "solo")
        fake.set_fault("solo", rate_limit_retry_after=3600)

        response = await client.get(f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices.zip")

        assert response.status_code == 503
        assert response.json()["type"] == "/problems/tesla-rate-limited"
        assert response.headers["retry-after"] == "3600"


class TestStreaming:
    async def test_bytes_leave_before_the_last_invoice_is_fetched(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        vehicle = fake.accounts["charger"].vehicles[0]
        session_id = await session_for(client, "charger")
        path = f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices.zip"

        def fetched() -> int:
            return sum("/dx/charging/invoice/" in call.path for call in fake.calls)

        done = asyncio.Event()
        messages: list[dict[str, Any]] = []
        fetched_at_first_byte: list[int] = []
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body") and not fetched_at_first_byte:
                fetched_at_first_byte.append(fetched())
            messages.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "client": ("203.0.113.7", 50000),
            "server": ("testserver", 80),
        }
        await app(scope, receive, send)
        done.set()

        assert (messages[0]["type"], messages[0]["status"]) == ("http.response.start", 200)
        chunks = [message["body"] for message in messages[1:] if message.get("body")]
        assert len(chunks) > 500  # one chunk per PDF, then the ledger and the directory
        assert 0 < fetched_at_first_byte[0] <= 30  # about one round of the workers, not all 500
        archive = open_zip(b"".join(chunks))
        assert len([name for name in archive.namelist() if name.endswith(".pdf")]) == 500
        assert messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
