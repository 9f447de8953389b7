"""Connect a sandbox Tesla account through HTTP and read its charging endpoints, as the frontend would."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI

from fakes.tesla_fleet import TeslaFleetFake
from tests.connect.flow import connect_account, sandbox_fake

TESLA = "/api/v1/tesla"
PROBLEM = "application/problem+json"


def fake_of(app: FastAPI) -> TeslaFleetFake:
    fake: TeslaFleetFake = sandbox_fake(app)
    return fake


async def session_for(client: httpx.AsyncClient, account: str) -> str:
    return str((await connect_account(client, account))["session_id"])


def vehicle_path(session_id: str, vin: str) -> str:
    return f"{TESLA}/session/{session_id}/vehicles/{vin}"


def rows_of(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8")
    assert not text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def header_of(content: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def open_zip(content: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    return archive


def invoices_in_window(fake: TeslaFleetFake, account: str, vin: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The fake's own invoices of a vehicle whose session started in the window, by content id."""
    return {
        invoice.content_id: (session, invoice)
        for session in fake.accounts[account].charging.sessions
        if session.vin == vin and start <= session.start <= end
        for invoice in session.invoices
    }
