"""Reports through HTTP: payment starts them, customers poll and download, and nobody else gets in."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.kit.i18n import LOCALES
from tests.payment.flow import checkout
from tests.report.flow import REPORTS_ON, local, paid_order, reports_of, settle_reports

pytestmark = pytest.mark.usefixtures("committed_app")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return REPORTS_ON


class TestPaymentStartsReports:
    async def test_paid_order_gets_a_complete_report_and_is_fulfilled(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="pro")

        listing = await reports_of(committed_client, intent["order_id"])
        assert listing["status"] == "complete"
        assert listing["order_status"] == "fulfilled"
        (vehicle,) = listing["vehicles"]
        (task,) = vehicle["reports"]
        facts = vehicle["facts"]
        assert facts["odometer_km"] > 0
        assert 0 <= facts["battery_level_percent"] <= 100
        assert facts["gaps"] == []
        assert (task["status"], task["progress"]) == ("complete", 100)
        assert (task["locale"], task["package"]) == ("fi", "pro")
        pdf = await committed_client.get(local(task["download_url"]))
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        html = await committed_client.get(local(task["html_url"]))
        assert html.status_code == 200
        assert vehicle["vin"] in html.text
        assert "report." not in html.text.replace("carpulse-report", "")  # no raw message keys

    async def test_the_session_id_lists_the_same_reports(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")

        by_session = await reports_of(committed_client, intent["session_id"])
        by_order = await reports_of(committed_client, intent["order_id"])

        assert by_session["order_id"] == by_order["order_id"] == intent["order_id"]
        assert by_session["vehicles"][0]["reports"][0]["task_id"] == by_order["vehicles"][0]["reports"][0]["task_id"]

    async def test_generate_is_idempotent(self, committed_client: httpx.AsyncClient, committed_app: FastAPI) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        first = await committed_client.post("/api/v1/tesla/reports/generate", json={"order_id": intent["order_id"]})
        second = await committed_client.post(
            "/api/v1/tesla/reports/generate", json={"session_id": intent["session_id"]}
        )

        assert first.status_code == second.status_code == 200
        ids = [[r["task_id"] for v in body.json()["vehicles"] for r in v["reports"]] for body in (first, second)]
        assert ids[0] == ids[1]
        assert len(ids[0]) == 1


class TestAsyncReports:
    async def test_nine_languages_at_once_each_its_own_task(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]

        responses = await asyncio.gather(
            *(
                committed_client.post(
                    "/api/v1/tesla/vehicle-report/pdf/async",
                    json={"order_id": intent["order_id"], "vin": vin, "locale": locale},
                )
                for locale in LOCALES
            )
        )
        assert [r.status_code for r in responses] == [202] * len(LOCALES)
        tasks = [r.json() for r in responses]
        # The order's own language is the paid-for report, finished on fresh data: that task is the answer.
        paid_for = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["reports"][0]
        assert [t["status"] for t in tasks] == [
            "complete" if loc == paid_for["locale"] else "queued" for loc in LOCALES
        ]
        assert tasks[LOCALES.index(paid_for["locale"])]["task_id"] == paid_for["task_id"]
        assert len({t["task_id"] for t in tasks}) == len(LOCALES)

        await settle_reports(committed_app)
        for task, locale in zip(tasks, LOCALES, strict=True):
            status = (await committed_client.get(f"/api/v1/tesla/reports/status/{task['task_id']}")).json()
            assert (status["status"], status["progress"], status["locale"]) == ("complete", 100, locale)
            assert status["download_url"].startswith("http://testserver/files/reports/")
            assert f"{vin}-{locale}-" in status["download_url"]

    async def test_progress_is_uploading_70_while_the_files_are_stored(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]
        state = committed_app.state.carpulse
        seen: list[tuple[str, int]] = []
        storage = state.storage

        class Watching:
            """The real storage, noting the task's status whenever a file is stored."""

            def __getattr__(self, name: str) -> Any:
                return getattr(storage, name)

            async def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
                status = (await committed_client.get(f"/api/v1/tesla/reports/status/{task_id}")).json()
                seen.append((status["status"], status["progress"]))
                await storage.put(key, data, content_type)

        state.storage = Watching()
        try:
            queued = await committed_client.post(
                "/api/v1/tesla/vehicle-report/pdf/async", json={"session_id": intent["session_id"], "vin": vin}
            )
            assert queued.status_code == 202
            task_id = queued.json()["task_id"]
            await settle_reports(committed_app)
        finally:
            state.storage = storage

        assert seen == [("uploading", 70), ("uploading", 70)]
        final = (await committed_client.get(f"/api/v1/tesla/reports/status/{task_id}")).json()
        assert (final["status"], final["progress"]) == ("complete", 100)

    async def test_synchronous_pdf(self, committed_client: httpx.AsyncClient, committed_app: FastAPI) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]

        response = await committed_client.post(
            "/api/v1/tesla/vehicle-report/pdf", json={"order_id": intent["order_id"], "vin": vin, "locale": "de"}
        )

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert f"{vin}-de-basic.pdf" in response.headers["content-disposition"]


class TestOnlyThePayerGetsIn:
    async def test_unpaid_session_unknown_ids_and_foreign_vins_are_404(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        unpaid = await checkout(committed_client, "stripe", account="family", package="basic")
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]

        cases = [
            await committed_client.get(f"/api/v1/tesla/report/{unpaid['order_id']}"),
            await committed_client.get(f"/api/v1/tesla/report/{unpaid['session_id']}"),
            await committed_client.get("/api/v1/tesla/report/not-a-real-order-id-at-all"),
            await committed_client.post("/api/v1/tesla/reports/generate", json={"order_id": unpaid["order_id"]}),
            await committed_client.post(
                "/api/v1/tesla/vehicle-report/pdf/async", json={"order_id": unpaid["order_id"], "vin": vin}
            ),
            await committed_client.post(
                "/api/v1/tesla/vehicle-report/pdf/async",
                json={"order_id": intent["order_id"], "vin": "5YJ3E1EA0PF000000"},
            ),
            await committed_client.get("/api/v1/tesla/reports/status/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ]
        assert [r.status_code for r in cases] == [404] * len(cases)
        assert all(r.headers["content-type"] == "application/problem+json" for r in cases)

    async def test_a_basic_order_cannot_ask_for_pro(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]

        response = await committed_client.post(
            "/api/v1/tesla/vehicle-report/pdf/async",
            json={"order_id": intent["order_id"], "vin": vin, "package": "pro"},
        )

        assert response.status_code == 403
        assert response.json()["type"].endswith("/package-not-paid")

    @pytest.mark.parametrize(
        "body",
        [
            {"vin": "5YJ3E1EA0PF000000"},
            {"order_id": "x", "session_id": "y", "vin": "5YJ3E1EA0PF000000"},
            {"order_id": "abc", "vin": "../../etc/passwd"},
            {"order_id": "abc", "vin": "5YJ3E1EA0PF000000", "locale": "xx"},
            {"order_id": "abc", "vin": "5YJ3E1EA0PF000000", "package": "bulk"},
        ],
    )
    async def test_bad_requests_are_422(self, committed_client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        response = await committed_client.post("/api/v1/tesla/vehicle-report/pdf/async", json=body)

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


class TestSignedLinks:
    async def test_tampered_and_expired_links_are_403(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        task = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["reports"][0]
        url = local(task["download_url"])
        signature = url.split("signature=")[1].split("&")[0]
        flipped = ("1" if signature[0] == "0" else "0") + signature[1:]
        tampered = url.replace(f"signature={signature}", f"signature={flipped}")
        other_file = url.replace(f"{task['vin']}-", "XXXXXXXXXXXXXXXXX-")
        expired = committed_app.state.carpulse.storage.signed_url(
            url.split("/files/")[1].split("?")[0], ttl_seconds=-10
        )

        for link in (tampered, other_file, local(expired)):
            response = await committed_client.get(link)
            assert response.status_code == 403, link
            assert response.headers["content-type"] == "application/problem+json"
