"""`GET …/vehicles/{vin}/charging-invoices`: the sessions of the window, their fees and invoices, and totals
that are exactly the sums of the rows, per currency, never across currencies."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.charging.flow import PROBLEM, TESLA, fake_of, session_for, vehicle_path

ENDPOINTS = ("charging-invoices", "charging-invoices.zip", "charging-history.csv")


async def metadata(client: httpx.AsyncClient, session_id: str, vin: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{vehicle_path(session_id, vin)}/charging-invoices", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestTotals:
    async def test_every_total_is_the_sum_of_the_rows_per_currency(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        vin = fake_of(app).accounts["charger"].vehicles[0].vin
        body = await metadata(client, await session_for(client, "charger"), vin)

        rows = body["sessions"]
        by_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_currency[row["currency"]].append(row)
        totals = {total["currency"]: total for total in body["totals"]}
        assert set(totals) == set(by_currency)
        assert len(totals) >= 3  # Norwegian owner charging in Sweden, Denmark and Germany too
        for currency, members in by_currency.items():
            total = totals[currency]
            assert Decimal(total["total"]) == sum((Decimal(row["total"]) for row in members), Decimal(0))
            assert total["total_minor"] == sum(row["total_minor"] for row in members)
            assert Decimal(total["credit"]) == sum((Decimal(row["credit"]) for row in members), Decimal(0))
            assert Decimal(total["energy_kwh"]) == sum((Decimal(row["energy_kwh"]) for row in members), Decimal(0))
            for fee_type, amount in total["fees_by_type"].items():
                assert Decimal(amount) == sum(
                    (Decimal(row["fees_by_type"].get(fee_type, "0")) for row in members), Decimal(0)
                )
            assert total["sessions"] == len(members)
            assert total["invoices"] == sum(len(row["invoices"]) for row in members)
        for row in rows:
            fees = sum((Decimal(amount) for amount in row["fees_by_type"].values()), Decimal(0))
            assert fees - Decimal(row["credit"]) == Decimal(row["total"])
            assert Decimal(row["total"]) * 100 == row["total_minor"]  # all of these currencies have cents
        assert body["invoice_count"] == 500
        assert body["session_count"] == len(rows)

    async def test_monthly_totals_add_up_to_the_currency_totals(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        vin = fake_of(app).accounts["charger"].vehicles[0].vin
        body = await metadata(client, await session_for(client, "charger"), vin, months=6)

        months = body["monthly"]
        assert len(months) == 7  # the start's month, five whole months, the current one
        assert [month["month"] for month in months] == sorted(month["month"] for month in months)
        assert sum(month["sessions"] for month in months) == body["session_count"]
        for total in body["totals"]:
            in_months = [t for month in months for t in month["totals"] if t["currency"] == total["currency"]]
            assert sum((Decimal(t["total"]) for t in in_months), Decimal(0)) == Decimal(total["total"])
            assert sum(t["total_minor"] for t in in_months) == total["total_minor"]
        for month in months:
            rows = [row for row in body["sessions"] if row["started_at_site"][:7] == month["month"]]
            assert month["sessions"] == len(rows)
            assert Decimal(month["energy_kwh"]) == sum((Decimal(row["energy_kwh"]) for row in rows), Decimal(0))


class TestRows:
    async def test_rows_are_the_fakes_sessions_of_the_window(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        vehicle = fake.accounts["charger"].vehicles[0]
        body = await metadata(client, await session_for(client, "charger"), vehicle.vin, months=3)

        window = body["window"]
        start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
        assert window["months"] == 3
        assert timedelta(days=89) <= end - start <= timedelta(days=92)
        assert abs(end - datetime.now(UTC)) < timedelta(minutes=1)
        expected = {
            str(session.session_id): session
            for session in fake.accounts["charger"].charging.sessions
            if start <= session.start <= end
        }
        rows = body["sessions"]
        assert [row["session_id"] for row in rows] == sorted(
            expected, key=lambda session_id: expected[session_id].start, reverse=True
        )
        for row in rows:
            session = expected[row["session_id"]]
            assert Decimal(row["total"]) == session.net_due
            assert Decimal(row["credit"]) == session.total_due - session.net_due
            assert row["currency"] == session.currency
            assert row["site"] == session.site.name
            assert Decimal(row["energy_kwh"]) == session.energy_kwh
            assert datetime.fromisoformat(row["started_at"]) == session.start.replace(microsecond=0)  # Tesla: seconds
            assert row["started_at"].endswith("Z")
            assert datetime.fromisoformat(row["started_at_site"]) == datetime.fromisoformat(row["started_at"])
            assert datetime.fromisoformat(row["started_at_site"]).utcoffset() in (
                timedelta(hours=1),
                timedelta(hours=2),
            )
            assert {fee["fee_type"] for fee in row["fees"]} == {"CHARGING", "PARKING"}
            assert [invoice["invoice_id"] for invoice in row["invoices"]] == [i.content_id for i in session.invoices]

    async def test_invoices_name_their_file_and_download_path(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        vin = fake_of(app).accounts["solo"].vehicles[0].vin
        session_id = await session_for(client, "solo")
        body = await metadata(client, session_id, vin)

        invoices = [(row, invoice) for row in body["sessions"] for invoice in row["invoices"]]
        assert invoices
        for row, invoice in invoices:
            assert invoice["file_name"] == f"{row['started_at_site'][:10]}_{invoice['tesla_file_name'][:-4]}.pdf"
            assert (
                invoice["download_path"] == f"{vehicle_path(session_id, vin)}/charging-invoices/{invoice['invoice_id']}"
            )
            assert invoice["invoice_type"] == "IMMEDIATE"

    async def test_a_vehicle_that_never_supercharged_has_an_empty_statement(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        idle = next(v for v in fake_of(app).accounts["family"].vehicles if v.charging_months == 0)
        body = await metadata(client, await session_for(client, "family"), idle.vin)

        assert (body["sessions"], body["totals"], body["session_count"], body["invoice_count"]) == ([], [], 0, 0)
        assert len(body["monthly"]) == 25
        assert all(month["totals"] == [] and month["sessions"] == 0 for month in body["monthly"])


class TestMonthsParameter:
    @pytest.mark.parametrize("months", ["0", "25", "abc", "-1", "1.5", "", "99999999999999999999"])
    @pytest.mark.parametrize("endpoint", ENDPOINTS)
    async def test_outside_1_to_24_or_not_an_integer_is_a_422_problem(
        self, app: FastAPI, client: httpx.AsyncClient, months: str, endpoint: str
    ) -> None:
        vin = fake_of(app).accounts["solo"].vehicles[0].vin
        session_id = await session_for(client, "solo")
        calls_before = len(fake_of(app).calls)

        response = await client.get(f"{vehicle_path(session_id, vin)}/{endpoint}", params={"months": months})

        assert response.status_code == 422
        assert response.headers["content-type"].startswith(PROBLEM)
        body = response.json()
        assert body["type"] == "/problems/validation-failed"
        assert [error["loc"] for error in body["errors"]] == [["query", "months"]]
        assert len(fake_of(app).calls) == calls_before  # Tesla is not asked

    async def test_the_session_zip_checks_months_too(self, client: httpx.AsyncClient) -> None:
        session_id = await session_for(client, "solo")

        response = await client.get(f"{TESLA}/session/{session_id}/charging-invoices.zip", params={"months": 25})

        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "months"]

    @pytest.mark.parametrize("months", [1, 24])
    async def test_the_bounds_are_accepted(self, app: FastAPI, client: httpx.AsyncClient, months: int) -> None:
        vin = fake_of(app).accounts["solo"].vehicles[0].vin

        body = await metadata(client, await session_for(client, "solo"), vin, months=months)

        assert body["window"]["months"] == months
