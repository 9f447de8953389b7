"""The Pro report's charging section, the invoice API's JSON and the history CSV tell one story: the same
sessions of the same window, credits applied the same way, totals equal to the cent, for every sandbox account."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.connect.dependencies import connect_context
from carpulse.kit.i18n import format_money
from carpulse.report.pipeline import document_inputs
from carpulse.report.view import ReportView, build_view
from carpulse.vehicle.service import vehicle_access
from fakes.tesla_fleet import NAMED_ACCOUNTS
from tests.charging.flow import rows_of, session_for, vehicle_path
from tests.report.flow import REPORTS_ON, local, paid_order, reports_of


async def report_view(app: FastAPI, session_id: str, vin: str, locale: str = "en") -> ReportView:
    """The view model of a Pro report of this vehicle, built from the data the render pipeline acquires (as a
    partial delivery: the `sleepy` car gives no headline facts, yet its charging history is the same story)."""
    state = app.state.carpulse
    async with state.sessionmaker() as db:
        access = await vehicle_access.for_session(db, connect_context(state), session_id)
        inputs, _ = await document_inputs(db, state, access, vin, "pro", locale, "test", partial=True)
    return build_view(inputs)


def csv_totals(content: bytes) -> tuple[int, dict[str, Decimal], dict[str, Decimal]]:
    rows = rows_of(content)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["currency"]] += Decimal(row["total"])
        credits[row["currency"]] += Decimal(row["credit"])
    return len({row["session_id"] for row in rows}), dict(totals), dict(credits)


def json_totals(listing: dict[str, Any]) -> tuple[int, dict[str, Decimal], dict[str, Decimal]]:
    totals = {total["currency"]: Decimal(total["total"]) for total in listing["totals"]}
    credits = {total["currency"]: Decimal(total["credit"]) for total in listing["totals"]}
    return listing["session_count"], totals, credits


def view_totals(view: ReportView) -> tuple[int, dict[str, Decimal], dict[str, Decimal]]:
    assert view.charging is not None
    totals = {str(total.currency): total.total for total in view.charging.totals}
    credits = {str(total.currency): total.credit for total in view.charging.totals}
    return view.charging.sessions, totals, credits


@pytest.mark.usefixtures("committed_app")
class TestChargingTotalsAgree:
    @pytest.mark.parametrize("account", NAMED_ACCOUNTS)
    async def test_report_json_and_csv_agree_to_the_cent(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, account: str
    ) -> None:
        app, client = committed_app, committed_client
        session_id = await session_for(client, account)
        vehicles = (await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"]
        for vehicle in vehicles:
            path = vehicle_path(session_id, vehicle["vin"])
            listing = await client.get(f"{path}/charging-invoices")
            history = await client.get(f"{path}/charging-history.csv")
            assert listing.status_code == history.status_code == 200, listing.text
            view = await report_view(app, session_id, vehicle["vin"])

            from_json = json_totals(listing.json())
            assert view_totals(view) == from_json == csv_totals(history.content), (account, vehicle["vin"])
            # The figures printed are those totals, formatted.
            assert view.charging is not None
            printed = {row[0]: row for row in view.charging.by_currency.rows}
            for total in listing.json()["totals"]:
                row = printed[total["currency"]]
                assert row[1] == str(total["sessions"])
                assert row[3] == format_money(total["total_minor"], total["currency"], "en")

    async def test_charger_shows_the_invoice_totals_after_credits(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        app, client = committed_app, committed_client
        session_id = await session_for(client, "charger")
        vin = (await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"][0]["vin"]
        listing = (await client.get(f"{vehicle_path(session_id, vin)}/charging-invoices")).json()
        assert any(Decimal(total["credit"]) > 0 for total in listing["totals"])  # the account that disagreed

        view = await report_view(app, session_id, vin, "da")

        assert view.charging is not None
        assert "24" in view.charging.window
        assert view.charging.sessions == listing["session_count"]
        rows = [row[1:] for row in view.charging.by_currency.rows]
        assert rows == [
            [
                str(total["sessions"]),
                format_money(round(Decimal(total["credit"]) * 100), total["currency"], "da"),
                format_money(total["total_minor"], total["currency"], "da"),
            ]
            for total in listing["totals"]
        ]


@pytest.mark.usefixtures("committed_app")
class TestRenderedReport:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return REPORTS_ON

    async def test_the_rendered_report_prints_the_invoice_total(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="pro", account="charger")
        (vehicle,) = (await reports_of(committed_client, intent["order_id"]))["vehicles"]
        (task,) = vehicle["reports"]
        orders = f"/api/v1/tesla/orders/{intent['order_id']}/vehicles/{vehicle['vin']}"
        listing = (await committed_client.get(f"{orders}/charging-invoices")).json()

        page = await committed_client.get(local(task["html_url"]))
        html = page.text

        # The status API's `html_url` opens as a web page, not as a download.
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["content-disposition"].startswith("inline;")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

        for total in listing["totals"]:
            cells = f"<td>{total['currency']}</td><td>{total['sessions']}</td>"
            assert cells in html
            assert format_money(total["total_minor"], total["currency"], task["locale"]) in html
