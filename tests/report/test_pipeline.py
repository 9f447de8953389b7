"""The report pipeline's guarantees: lost jobs are found again, a render runs once, failures say why,
and old files go."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from carpulse.consumer import reconcile_forever
from carpulse.kit.clock import FrozenClock
from carpulse.kit.i18n import translate
from carpulse.models import Observation, ObservationKind, Report, ReportStatus, VehicleSnapshotRecord
from carpulse.report.pipeline import run_render
from carpulse.report.tasks import delete_expired, requeue_lost
from carpulse.simulator.service import simulator
from tests.connect.flow import sandbox_fake
from tests.payment.flow import act_on_hosted_page, checkout
from tests.report.flow import REPORTS_ON, local, paid_order, reports_of, settle_reports


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return REPORTS_ON


def later(app: FastAPI, **delta: float) -> FrozenClock:
    """Move the app's clock forward (the reconciler judges 'lost' by age)."""
    state = app.state.carpulse
    clock = FrozenClock(state.clock.now() + timedelta(**delta))
    state.clock = clock
    return clock


async def first_task(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    task: dict[str, Any] = (await reports_of(client, order_id))["vehicles"][0]["reports"][0]
    return task


class TestReconciler:
    async def test_a_paid_order_whose_job_was_lost_gets_its_report(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        state.settings.report.start_on_payment = False  # the job runs, and does nothing: as if lost
        intent = await paid_order(committed_client, committed_app, package="basic")
        assert (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["reports"] == []
        state.settings.report.start_on_payment = True

        assert await requeue_lost(state) == 0  # paid just now: not lost yet
        later(committed_app, minutes=5)
        assert await requeue_lost(state) == 1
        await settle_reports(committed_app)

        listing = await reports_of(committed_client, intent["order_id"])
        assert listing["status"] == "complete"
        assert listing["order_status"] == "fulfilled"
        assert await requeue_lost(state) == 0

    async def test_a_worker_sweeps_at_start_not_a_period_later(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        state.settings.report.start_on_payment = False  # the job runs, and does nothing: as if lost
        intent = await paid_order(committed_client, committed_app, package="basic")
        state.settings.report.start_on_payment = True
        later(committed_app, minutes=5)

        # What `carpulse worker` runs: an hour between sweeps, the first one now.
        sweeping = asyncio.create_task(reconcile_forever(state, 3600, sweep_at_start=True))
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                await settle_reports(committed_app)
                if (await reports_of(committed_client, intent["order_id"]))["status"] == "complete":
                    break
        finally:
            sweeping.cancel()
        assert (await reports_of(committed_client, intent["order_id"]))["status"] == "complete"

    async def test_a_render_whose_worker_died_is_taken_over_after_its_lease(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        task = await first_task(committed_client, intent["order_id"])
        state = committed_app.state.carpulse
        # The worker claimed it, then died: processing, its lease still running, no files.
        async with state.sessionmaker() as db:
            await db.execute(
                update(Report)
                .where(Report.id == task["task_id"])
                .values(
                    status=ReportStatus.processing,
                    progress=10,
                    pdf_key=None,
                    lease_until=state.clock.now() + timedelta(minutes=5),
                )
            )
            await db.commit()

        assert await requeue_lost(state) == 0  # the lease still runs: the worker may be alive
        await run_render(state, task["task_id"])  # a duplicate delivery now does nothing
        assert (await first_task(committed_client, intent["order_id"]))["status"] == "processing"

        later(committed_app, minutes=6)
        assert await requeue_lost(state) == 1
        await settle_reports(committed_app)

        done = await first_task(committed_client, intent["order_id"])
        assert (done["status"], done["progress"]) == ("complete", 100)
        assert (await committed_client.get(local(done["download_url"]))).content.startswith(b"%PDF")


class TestRenderOnce:
    async def test_concurrent_deliveries_render_once(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        task = await first_task(committed_client, intent["order_id"])
        state = committed_app.state.carpulse
        async with state.sessionmaker() as db:
            await db.execute(
                update(Report).where(Report.id == task["task_id"]).values(status=ReportStatus.queued, attempts=0)
            )
            await db.commit()

        await asyncio.gather(*(run_render(state, task["task_id"]) for _ in range(4)))

        async with state.sessionmaker() as db:
            report = await db.get(Report, task["task_id"])
            assert report is not None
            assert (report.status, report.attempts) == (ReportStatus.complete, 1)

    async def test_nine_languages_cost_one_acquisition(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="pro")
        vin = (await first_task(committed_client, intent["order_id"]))["vin"]
        fake = sandbox_fake(committed_app)
        fake.billing.clear()

        for locale in ("en", "sv", "da"):
            response = await committed_client.post(
                "/api/v1/tesla/vehicle-report/pdf/async",
                json={"order_id": intent["order_id"], "vin": vin, "locale": locale},
            )
            assert response.status_code == 202
        await settle_reports(committed_app)

        assert sum(sum(counts.values()) for counts in fake.billing.snapshot().values()) == 0
        async with committed_app.state.carpulse.sessionmaker() as db:
            count = (await db.execute(select(func.count()).select_from(VehicleSnapshotRecord))).scalar_one()
        assert count == 1


class TestFailure:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return REPORTS_ON | {"report": {"start_on_payment": True, "max_attempts": 1}}

    async def test_tesla_down_fails_the_report_with_a_reason(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        fake = sandbox_fake(committed_app)
        intent = await paid_order(committed_client, committed_app, package="basic")
        vin = (await first_task(committed_client, intent["order_id"]))["vin"]
        committed_app.state.carpulse.settings.report.snapshot_max_age_seconds = 0  # read the car again
        fake.set_fault(error_rate=1.0)
        try:
            response = await committed_client.post(
                "/api/v1/tesla/vehicle-report/pdf/async",
                json={"order_id": intent["order_id"], "vin": vin, "locale": "en"},
            )
            await settle_reports(committed_app)
            task_id = response.json()["task_id"]
            # Tesla failing opens the breaker: the report waits for it (not an attempt) within its window...
            status = (await committed_client.get(f"/api/v1/tesla/reports/status/{task_id}")).json()
            assert (status["status"], status["failure_reason"]) == ("queued", None)
            # ... and fails with the reason once the window is over.
            later(committed_app, days=2)
            await run_render(committed_app.state.carpulse, task_id)
        finally:
            fake.set_fault(error_rate=0)

        status = (await committed_client.get(f"/api/v1/tesla/reports/status/{task_id}")).json()
        assert status["status"] == "failed"
        assert status["failure_reason"]
        assert status["download_url"] is None


class TestObservations:
    async def test_a_render_records_the_cars_readings_and_reads_its_history_from_them(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        intent = await checkout(committed_client, "stripe", account="solo", package="pro")
        listed = await committed_client.get(f"/api/v1/tesla/session/{intent['session_id']}/vehicles")
        vin = listed.json()["vehicles"][0]["vin"]
        # Recorded before the payment: the in-process worker may render as soon as the payment lands.
        async with state.sessionmaker() as db:
            # Three earlier readings of this car, from another provider's connection: the estimate's history.
            for days in (3, 4, 5):
                at = state.clock.now() - timedelta(days=days)
                for kind, value, unit in (
                    (ObservationKind.range, "400", "km"),
                    (ObservationKind.battery_level, "80", "%"),
                ):
                    db.add(
                        Observation(
                            vin=vin, kind=kind, value=value, unit=unit, captured_at=at, source="elsewhere", brand="b"
                        )
                    )
            await db.commit()
        paid = await act_on_hosted_page(committed_client, intent["redirect_url"], "pay")
        assert paid.status_code < 400, paid.text
        verified = await committed_client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})
        assert verified.status_code == 200, verified.text
        await settle_reports(committed_app)

        task = await first_task(committed_client, intent["order_id"])
        async with state.sessionmaker() as db:
            recorded = (await db.execute(select(Observation).where(Observation.source == "tesla_fleet"))).scalars()
            kinds = {row.kind for row in recorded if row.vin == vin and row.brand == "tesla" and row.connection_id}
        assert {ObservationKind.odometer, ObservationKind.battery_level, ObservationKind.range} <= kinds
        assert ObservationKind.software_version in kinds
        html = (await committed_client.get(local(task["html_url"]))).text
        pattern = re.escape(translate(task["locale"], "report.battery.samples", used="USED", rejected="SET"))
        counts = re.search(pattern.replace("USED", r"(\d+)").replace("SET", r"(\d+)"), html)
        assert counts is not None
        used, rejected = int(counts.group(1)), int(counts.group(2))
        assert used >= 3
        assert used + rejected == 4  # the three kept readings and the car's live one


class TestRetention:
    async def test_old_reports_photos_and_files_are_deleted(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        task = await first_task(committed_client, intent["order_id"])
        state = committed_app.state.carpulse
        key = local(task["download_url"]).split("/files/")[1].split("?")[0]
        assert await state.storage.exists(key)
        orphan = state.storage.path_for("reports/orphan-left-by-a-crash.pdf")
        orphan.write_bytes(b"%PDF-1.7")
        stale = (state.clock.now() - timedelta(days=40)).timestamp()
        os.utime(orphan, (stale, stale))

        assert await delete_expired(state) == 0
        later(committed_app, days=31)
        assert await delete_expired(state) == 1

        assert not await state.storage.exists(key)
        assert not orphan.exists()
        async with state.sessionmaker() as db:
            assert (await db.execute(select(func.count()).select_from(Observation))).scalar_one() == 0
        response = await committed_client.get(f"/api/v1/tesla/reports/status/{task['task_id']}")
        assert response.status_code == 404

    async def test_the_simulated_fleet_outlives_it(self, committed_app: FastAPI) -> None:
        state = committed_app.state.carpulse
        async with state.sessionmaker() as db:
            simulation = await simulator.simulate(db, vehicles=2, months=3, seed=5, until=state.clock.now().date())
            await db.commit()
        old = Observation.captured_at < state.clock.now() - timedelta(days=31)
        async with state.sessionmaker() as db:
            before = (await db.execute(select(func.count()).select_from(Observation).where(old))).scalar_one()

        await delete_expired(state)

        async with state.sessionmaker() as db:
            kept = (await db.execute(select(func.count()).select_from(Observation))).scalar_one()
            still_old = (await db.execute(select(func.count()).select_from(Observation).where(old))).scalar_one()
        assert before > 0
        assert still_old == before
        assert kept == simulation.written
