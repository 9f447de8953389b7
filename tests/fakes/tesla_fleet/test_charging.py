from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta
from time import perf_counter
from typing import Any

import httpx
import pytest

from fakes.tesla_fleet import TeslaFleetFake
from tests.fakes.tesla_fleet.flows import bearer, login

HISTORY = "/eu/api/1/dx/charging/history"


async def all_pages(http: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = []
    page = 1
    while True:
        body = (await http.get(HISTORY, headers=headers, params={**params, "pageNo": page, "pageSize": 50})).json()
        sessions += body["data"]
        if len(body["data"]) < 50:
            return sessions
        page += 1


class TestChargingHistoryPaging:
    async def test_pages_add_up_to_total_results(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "charger"))

        first = (await http.get(HISTORY, headers=headers, params={"pageNo": 1, "pageSize": 50})).json()
        sessions = await all_pages(http, headers)

        ids = [session["sessionId"] for session in sessions]
        assert set(first) == {"data", "totalResults"}
        assert first["totalResults"] == len(ids) == len(set(ids)) == len(fake.accounts["charger"].charging.sessions)

    async def test_page_zero_and_one_are_the_first_page(self, http: httpx.AsyncClient) -> None:
        headers = bearer(await login(http, "charger"))

        zero = (await http.get(HISTORY, headers=headers, params={"pageNo": 0, "pageSize": 10})).json()
        one = (await http.get(HISTORY, headers=headers, params={"pageNo": 1, "pageSize": 10})).json()
        two = (await http.get(HISTORY, headers=headers, params={"pageNo": 2, "pageSize": 10})).json()

        assert zero == one
        assert not {s["sessionId"] for s in one["data"]} & {s["sessionId"] for s in two["data"]}

    @pytest.mark.parametrize("size", [0, 51, "ten"])
    async def test_page_size_is_1_to_50(self, http: httpx.AsyncClient, size: int | str) -> None:
        response = await http.get(HISTORY, headers=bearer(await login(http, "charger")), params={"pageSize": size})

        assert response.status_code == 400

    async def test_sorted_newest_first_by_default_and_ascending_on_request(self, http: httpx.AsyncClient) -> None:
        headers = bearer(await login(http, "charger"))

        default = (await http.get(HISTORY, headers=headers, params={"pageSize": 50})).json()["data"]
        ascending = (
            await http.get(
                HISTORY, headers=headers, params={"pageSize": 50, "sortBy": "chargeStartDateTime", "sortOrder": "ASC"}
            )
        ).json()["data"]

        def starts(data: list[dict[str, Any]]) -> list[datetime]:
            return [datetime.fromisoformat(session["chargeStartDateTime"]) for session in data]

        assert starts(default) == sorted(starts(default), reverse=True)
        assert starts(ascending) == sorted(starts(ascending))
        assert starts(ascending)[0] < starts(default)[-1]

    async def test_filters_by_vin_and_time_window(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        history = fake.accounts["fleet"].charging
        end = datetime.combine(fake.anchor, time(), tzinfo=UTC)
        start = end - timedelta(days=90)
        vehicle = max(
            fake.accounts["fleet"].vehicles,
            key=lambda v: sum(s.vin == v.vin and start <= s.start for s in history.sessions),
        )
        headers = bearer(await login(http, "fleet"))

        sessions = await all_pages(http, headers, vin=vehicle.vin, startTime=start.isoformat(), endTime=end.isoformat())

        expected = [s for s in history.sessions if s.vin == vehicle.vin and start <= s.start <= end]
        assert len(sessions) == len(expected) > 0
        assert {session["vin"] for session in sessions} == {vehicle.vin}

    async def test_another_accounts_vin_is_404(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        foreign = fake.accounts["charger"].vehicles[0].vin

        response = await http.get(HISTORY, headers=bearer(await login(http, "solo")), params={"vin": foreign})

        assert response.status_code == 404
        assert response.json()["error"] == f"{foreign} not_found"

    async def test_bad_time_is_400(self, http: httpx.AsyncClient) -> None:
        response = await http.get(
            HISTORY, headers=bearer(await login(http, "charger")), params={"startTime": "yesterday"}
        )

        assert response.status_code == 400


class TestChargerAccount:
    def test_two_years_and_exactly_500_invoices(self, fake: TeslaFleetFake) -> None:
        history = fake.accounts["charger"].charging
        span = history.sessions[-1].start - history.sessions[0].start

        assert len(fake.accounts["charger"].vehicles) == 1
        assert len(history.invoices) == 500
        assert len(history.sessions) > 500  # free, too recent or never invoiced: a few have none
        assert span > timedelta(days=700)
        assert len({session.currency for session in history.sessions}) >= 3

    @pytest.mark.parametrize("seed", [1, 2, 3, 42, 2026])
    def test_500_whatever_the_seed(self, seed: int) -> None:
        assert len(TeslaFleetFake(seed=seed).accounts["charger"].charging.invoices) == 500


class TestFees:
    def test_sessions_carry_charging_and_parking_fees(self, fake: TeslaFleetFake) -> None:
        sessions = [session for account in fake.accounts.values() for session in account.charging.sessions]
        fees = [fee.to_json() for session in sessions for fee in session.fees]

        assert {session.to_json()["fees"][0]["feeType"] for session in sessions} == {"CHARGING"}
        assert {(fee["feeType"], fee["pricingType"]) for fee in fees} >= {
            ("CHARGING", "PAYMENT"),
            ("PARKING", "PAYMENT"),
            ("PARKING", "NO_CHARGE"),
        }
        for fee in fees:
            assert fee["uom"] == ("kwh" if fee["feeType"] == "CHARGING" else "min")
            assert fee["totalDue"] == pytest.approx(round(fee["rateBase"] * fee["usageBase"], 2))
            assert fee["netDue"] <= fee["totalDue"]

    def test_currencies_across_sites(self, fake: TeslaFleetFake) -> None:
        by_region: dict[str, set[str]] = {}
        for account in fake.accounts.values():
            by_region.setdefault(account.region, set()).update(s.currency for s in account.charging.sessions)

        assert by_region["eu"] >= {"EUR", "SEK", "NOK", "DKK", "CHF", "GBP"}
        assert by_region["na"] >= {"USD", "CAD"}

    def test_some_sessions_have_no_invoice(self, fake: TeslaFleetFake) -> None:
        sessions = [session for account in fake.accounts.values() for session in account.charging.sessions]

        assert any(not session.invoices for session in sessions)
        assert any(session.invoices for session in sessions)

    def test_times_carry_the_sites_offset(self, fake: TeslaFleetFake) -> None:
        session = fake.accounts["solo"].charging.sessions[0].to_json()

        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", session["chargeStartDateTime"])
        assert session["chargeStartDateTime"] < session["chargeStopDateTime"] <= session["unlatchDateTime"]


def xref_offsets_point_at_objects(pdf: bytes) -> bool:
    startxref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    lines = pdf[startxref:].split(b"\n")
    count = int(lines[1].split()[1])
    for number, line in enumerate(lines[3 : 2 + count], start=1):
        offset = int(line.split()[0])
        if not pdf[offset:].startswith(b"%d 0 obj" % number):
            return False
    return pdf[startxref:].startswith(b"xref")


class TestInvoices:
    async def test_invoice_is_a_small_valid_pdf_about_the_session(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        session = next(s for s in fake.accounts["solo"].charging.sessions if s.invoices)
        invoice = session.invoices[0]

        response = await http.get(
            f"/eu/api/1/dx/charging/invoice/{invoice.content_id}", headers=bearer(await login(http, "solo"))
        )

        pdf = response.content
        assert response.headers["content-type"] == "application/pdf"
        assert pdf.startswith(b"%PDF-")
        assert pdf.endswith(b"%%EOF")
        assert 40_000 < len(pdf) < 50_000  # about as heavy as Tesla's own (logo, fonts)
        assert xref_offsets_point_at_objects(pdf)
        assert invoice.number.encode() in pdf
        assert session.site.name.encode("cp1252").replace(b"(", b"\\(").replace(b")", b"\\)") in pdf
        assert f"Energy: {session.energy_kwh} kWh".encode() in pdf
        assert f"Total: {session.net_due} {session.currency}".encode() in pdf
        assert session.local(session.start).date().isoformat().encode() in pdf

    async def test_same_invoice_same_bytes(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        content_id = next(iter(fake.accounts["charger"].charging.invoices))
        headers = bearer(await login(http, "charger"))

        first = await http.get(f"/eu/api/1/dx/charging/invoice/{content_id}", headers=headers)
        second = await http.get(f"/eu/api/1/dx/charging/invoice/{content_id}", headers=headers)

        assert first.content == second.content

    async def test_every_listed_invoice_downloads(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        headers = bearer(await login(http, "charger"))
        sessions = await all_pages(http, headers)
        content_ids = [invoice["contentId"] for session in sessions for invoice in session["invoices"]]

        statuses = {
            (await http.get(f"/eu/api/1/dx/charging/invoice/{content_id}", headers=headers)).status_code
            for content_id in content_ids
        }

        assert len(content_ids) >= 500
        assert statuses == {200}

    async def test_unknown_or_foreign_invoice_is_404_json(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        foreign = next(iter(fake.accounts["charger"].charging.invoices))
        headers = bearer(await login(http, "solo"))

        responses = [
            await http.get(f"/eu/api/1/dx/charging/invoice/{content_id}", headers=headers)
            for content_id in (foreign, "00000000-0000-4000-8000-000000000000")
        ]

        for response in responses:
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/json"
            assert response.json()["response"] is None
            assert response.json()["error"].endswith("not_found")


class TestFailingInvoices:
    async def test_named_invoices_answer_500_every_time_the_others_200(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        broken, fine = list(fake.accounts["charger"].charging.invoices)[:2]
        headers = bearer(await login(http, "charger"))
        fake.set_fault("charger", failing_invoices=[broken])

        answers = [await http.get(f"/eu/api/1/dx/charging/invoice/{broken}", headers=headers) for _ in range(3)]
        other = await http.get(f"/eu/api/1/dx/charging/invoice/{fine}", headers=headers)

        assert [answer.status_code for answer in answers] == [500, 500, 500]
        assert answers[0].json()["error"] == "upstream internal error"
        assert other.status_code == 200
        assert fake.billing.count("charger") == 1  # answers of 500 and above are never billed

    async def test_switched_over_http_and_cleared(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        broken = next(iter(fake.accounts["solo"].charging.invoices))
        headers = bearer(await login(http, "solo"))

        switched = await http.post("/_control/faults", json={"account": "solo", "failing_invoices": [broken]})
        failing = await http.get(f"/eu/api/1/dx/charging/invoice/{broken}", headers=headers)
        fake.set_fault("solo", failing_invoices=[])
        working = await http.get(f"/eu/api/1/dx/charging/invoice/{broken}", headers=headers)

        assert switched.json()["accounts"]["solo"] == {"failing_invoices": [broken]}
        assert failing.status_code == 500
        assert working.status_code == 200


class TestLatency:
    async def test_every_fleet_answer_waits(self, http: httpx.AsyncClient, fake: TeslaFleetFake) -> None:
        content_id = next(iter(fake.accounts["charger"].charging.invoices))
        headers = bearer(await login(http, "charger"))
        fake.set_fault("charger", latency_seconds=0.05)

        started = perf_counter()
        responses = await asyncio.gather(
            *(http.get(f"/eu/api/1/dx/charging/invoice/{content_id}", headers=headers) for _ in range(10))
        )
        elapsed = perf_counter() - started

        assert {response.status_code for response in responses} == {200}
        assert 0.05 <= elapsed < 0.45  # concurrent calls wait side by side, not one after the other
