"""Costly renders under demand: identical requests share one task, renders are budgeted per order and
per client IP, and a flooding order cannot starve another order's report."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from carpulse.kit.clock import FrozenClock
from carpulse.kit.i18n import LOCALES
from carpulse.models import Report, ReportStatus
from carpulse.report.repository import OPEN_STATES, ReportRepository
from carpulse.state import State
from tests.report.flow import REPORTS_ON, local, paid_order, reports_of

pytestmark = pytest.mark.usefixtures("committed_app")

ASYNC = "/api/v1/tesla/vehicle-report/pdf/async"
SYNC = "/api/v1/tesla/vehicle-report/pdf"
QUIET = {"report": {"start_on_payment": False}}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return QUIET


@pytest.fixture
async def paused(committed_app: FastAPI) -> AsyncIterator[State]:
    """No render slot is free: requested reports stay queued while the test looks at them. Afterwards the
    waiting jobs find nothing to claim and end."""
    state: State = committed_app.state.carpulse
    held = asyncio.Semaphore(0)
    original, state.render_slots = state.render_slots, held
    lane, state.render_lane = state.render_lane, asyncio.Semaphore(0)
    try:
        yield state
    finally:
        async with state.sessionmaker() as db:
            await db.execute(
                update(Report)
                .where(Report.status.in_(OPEN_STATES))
                .values(status=ReportStatus.failed, lease_until=None)
            )
            await db.commit()
        for _ in range(200):
            held.release()
        state.render_slots, state.render_lane = original, lane


async def order_and_vin(client: httpx.AsyncClient, app: FastAPI, account: str = "solo") -> tuple[str, str]:
    intent = await paid_order(client, app, package="pro", account=account)
    vin = (await reports_of(client, intent["order_id"]))["vehicles"][0]["vin"]
    return str(intent["order_id"]), vin


async def count_reports(state: State, order_id: str) -> int:
    async with state.sessionmaker() as db:
        statement = select(func.count()).select_from(Report).where(Report.order_id == order_id)
        return int((await db.execute(statement)).scalar_one())


def assert_limited(response: httpx.Response, policy: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Remaining"] == "0"
    assert f'comment="{policy}"' in response.headers["RateLimit-Policy"]
    assert f"'{policy}'" in response.json()["detail"]


class TestIdenticalRequestsShareATask:
    async def test_the_same_request_again_returns_the_queued_task(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        order_id, vin = await order_and_vin(committed_client, committed_app)
        body = {"order_id": order_id, "vin": vin, "locale": "de", "package": "pro"}

        responses = [await committed_client.post(ASYNC, json=body) for _ in range(5)]

        assert [r.status_code for r in responses] == [202] * 5
        assert len({r.json()["task_id"] for r in responses}) == 1
        assert {r.json()["status"] for r in responses} == {"queued"}
        assert await count_reports(paused, order_id) == 1

    async def test_by_session_or_by_order_it_is_one_task(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]

        by_order = await committed_client.post(ASYNC, json={"order_id": intent["order_id"], "vin": vin})
        by_session = await committed_client.post(ASYNC, json={"session_id": intent["session_id"], "vin": vin})
        # The order's package (Basic) named or not is the same report.
        named = await committed_client.post(
            ASYNC, json={"order_id": intent["order_id"], "vin": vin, "package": "basic"}
        )

        assert by_order.status_code == by_session.status_code == named.status_code == 202
        assert by_order.json()["task_id"] == by_session.json()["task_id"] == named.json()["task_id"]

    async def test_simultaneous_identical_requests_make_one_task(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        order_id, vin = await order_and_vin(committed_client, committed_app)
        body = {"order_id": order_id, "vin": vin, "locale": "sv"}

        responses = await asyncio.gather(*(committed_client.post(ASYNC, json=body) for _ in range(6)))

        assert [r.status_code for r in responses] == [202] * 6
        assert len({r.json()["task_id"] for r in responses}) == 1
        assert await count_reports(paused, order_id) == 1

    async def test_another_language_or_package_is_another_task(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        order_id, vin = await order_and_vin(committed_client, committed_app)
        bodies = [
            {"order_id": order_id, "vin": vin, "locale": "en"},
            {"order_id": order_id, "vin": vin, "locale": "fr"},
            {"order_id": order_id, "vin": vin, "locale": "en", "package": "basic"},
        ]

        responses = [await committed_client.post(ASYNC, json=body) for body in bodies]

        assert [r.status_code for r in responses] == [202] * 3
        assert len({r.json()["task_id"] for r in responses}) == 3

    async def test_a_failed_report_is_asked_for_anew(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        order_id, vin = await order_and_vin(committed_client, committed_app)
        body = {"order_id": order_id, "vin": vin, "locale": "it"}
        first = (await committed_client.post(ASYNC, json=body)).json()["task_id"]
        async with paused.sessionmaker() as db:
            await db.execute(update(Report).where(Report.id == first).values(status=ReportStatus.failed))
            await db.commit()

        again = await committed_client.post(ASYNC, json=body)

        assert again.status_code == 202
        assert again.json()["task_id"] != first
        assert again.json()["status"] == "queued"

    async def test_the_partial_unique_index_refuses_a_second_open_request(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state: State = committed_app.state.carpulse
        order_id, vin = await order_and_vin(committed_client, committed_app)
        now = state.clock.now()

        def row(report_id: str) -> dict[str, Any]:
            return {
                "id": report_id,
                "order_id": order_id,
                "connection_id": "connection",
                "vin": vin,
                "locale": "en",
                "package": "pro",
                "origin": "request",
                "status": ReportStatus.queued,
                "progress": 0,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }

        async with state.sessionmaker() as db:
            repository = ReportRepository(db)
            assert await repository.add_request(row("first-request-of-this-kind"))
            assert not await repository.add_request(row("second-request-same-kind"))
            await db.execute(
                update(Report).where(Report.id == "first-request-of-this-kind").values(status=ReportStatus.complete)
            )
            assert await repository.add_request(row("third-after-the-first-done"))
            await db.rollback()


class TestFinishedReports:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return REPORTS_ON

    async def test_a_finished_report_on_fresh_data_is_returned_then_renewed_once_stale(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")  # renders the fi report
        (vehicle,) = (await reports_of(committed_client, intent["order_id"]))["vehicles"]
        (paid_for,) = vehicle["reports"]
        assert paid_for["status"] == "complete"
        state: State = committed_app.state.carpulse
        held = asyncio.Semaphore(0)
        original, state.render_slots = state.render_slots, held
        lane, state.render_lane = state.render_lane, asyncio.Semaphore(0)
        body = {"order_id": intent["order_id"], "vin": vehicle["vin"], "locale": "fi"}
        try:
            again = await committed_client.post(ASYNC, json=body)
            assert again.status_code == 202
            assert (again.json()["task_id"], again.json()["status"]) == (paid_for["task_id"], "complete")
            assert "RateLimit-Policy" not in again.headers  # reusing cost no render budget

            # Past the snapshot reuse window a new render would read the car again: a new task.
            max_age = state.settings.report.snapshot_max_age_seconds
            state.clock = FrozenClock(state.clock.now() + timedelta(seconds=max_age + 1))
            stale = await committed_client.post(ASYNC, json=body)
            assert stale.status_code == 202
            assert stale.json()["task_id"] != paid_for["task_id"]
            assert stale.json()["status"] == "queued"
        finally:
            async with state.sessionmaker() as db:
                await db.execute(
                    update(Report).where(Report.status.in_(OPEN_STATES)).values(status=ReportStatus.failed)
                )
                await db.commit()
            for _ in range(10):
                held.release()
            state.render_slots, state.render_lane = original, lane

    async def test_the_synchronous_pdf_of_a_finished_report_is_sent_as_stored(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        (vehicle,) = (await reports_of(committed_client, intent["order_id"]))["vehicles"]
        stored = await committed_client.get(local(vehicle["reports"][0]["download_url"]))

        response = await committed_client.post(
            SYNC, json={"order_id": intent["order_id"], "vin": vehicle["vin"], "locale": "fi"}
        )

        assert response.status_code == 200
        assert response.content == stored.content
        assert "RateLimit-Policy" not in response.headers


class TestRenderBudget:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return QUIET | {"rate_limit": {"policies": {"render": "3/minute", "render_ip": "100/minute"}}}

    async def test_renders_are_limited_per_order_and_repeats_are_free(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        order_id, vin = await order_and_vin(committed_client, committed_app)
        other_order, other_vin = await order_and_vin(committed_client, committed_app, account="family")

        allowed = [
            await committed_client.post(ASYNC, json={"order_id": order_id, "vin": vin, "locale": loc})
            for loc in LOCALES[:3]
        ]
        repeats = [
            await committed_client.post(ASYNC, json={"order_id": order_id, "vin": vin, "locale": LOCALES[0]})
            for _ in range(5)
        ]
        refused = await committed_client.post(ASYNC, json={"order_id": order_id, "vin": vin, "locale": LOCALES[3]})
        elsewhere = await committed_client.post(ASYNC, json={"order_id": other_order, "vin": other_vin})

        assert [r.status_code for r in allowed] == [202] * 3
        assert [int(r.headers["RateLimit-Remaining"]) for r in allowed] == [2, 1, 0]
        assert all('comment="render"' in r.headers["RateLimit-Policy"] for r in allowed)
        assert [r.status_code for r in repeats] == [202] * 5
        assert_limited(refused, "render")
        assert elsewhere.status_code == 202
        assert await count_reports(paused, order_id) == 3

    async def test_the_synchronous_pdf_spends_the_same_budget(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        order_id, vin = await order_and_vin(committed_client, committed_app)
        for locale in LOCALES[:3]:
            assert (
                await committed_client.post(ASYNC, json={"order_id": order_id, "vin": vin, "locale": locale})
            ).status_code == 202

        response = await committed_client.post(SYNC, json={"order_id": order_id, "vin": vin, "locale": "da"})

        assert_limited(response, "render")


class TestRenderBudgetPerClient:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return QUIET | {"rate_limit": {"policies": {"render": "100/minute", "render_ip": "2/minute"}}}

    async def test_one_client_ip_is_limited_across_orders(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        order_id, vin = await order_and_vin(committed_client, committed_app)
        other_order, other_vin = await order_and_vin(committed_client, committed_app, account="family")

        first = await committed_client.post(ASYNC, json={"order_id": order_id, "vin": vin})
        second = await committed_client.post(ASYNC, json={"order_id": other_order, "vin": other_vin})
        third = await committed_client.post(ASYNC, json={"order_id": order_id, "vin": vin, "locale": "de"})

        assert first.status_code == second.status_code == 202
        assert 'comment="render_ip"' in second.headers["RateLimit-Policy"]
        assert_limited(third, "render_ip")


class TestFairOrder:
    async def test_a_flooding_order_does_not_keep_another_order_waiting(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        paused.rate_limiter.enabled = False
        flood, flood_vin = await order_and_vin(committed_client, committed_app)
        other, other_vin = await order_and_vin(committed_client, committed_app, account="family")
        backlog = [
            (
                await committed_client.post(
                    ASYNC, json={"order_id": flood, "vin": flood_vin, "locale": loc, "package": pkg}
                )
            ).json()["task_id"]
            for pkg in ("pro", "basic")
            for loc in LOCALES
        ]
        waiting = (await committed_client.post(ASYNC, json={"order_id": other, "vin": other_vin})).json()["task_id"]
        assert len(set(backlog)) == 2 * len(LOCALES)

        first = await self._claim(paused)
        await self._finish(paused, first)
        second = await self._claim(paused)
        third = await self._claim(paused)

        assert first == backlog[0]  # the oldest report, when nobody has been served
        assert second == waiting  # the flood's backlog waits: the other order was never served
        assert third == backlog[1]  # then the flood again, oldest first
        status = (await committed_client.get(f"/api/v1/tesla/reports/status/{waiting}")).json()
        assert (status["status"], status["progress"]) == ("processing", 10)
        queued = [
            (await committed_client.get(f"/api/v1/tesla/reports/status/{task}")).json()["status"]
            for task in backlog[2:]
        ]
        assert set(queued) == {"queued"}

    async def test_with_every_slot_on_one_order_another_order_renders_in_the_lane(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        flood, flood_vin = await order_and_vin(committed_client, committed_app)
        other = await paid_order(committed_client, committed_app, package="basic", account="family")
        other_vin = (await reports_of(committed_client, other["order_id"]))["vehicles"][0]["vin"]
        backlog = [
            (await committed_client.post(ASYNC, json={"order_id": flood, "vin": flood_vin, "locale": loc})).json()[
                "task_id"
            ]
            for loc in LOCALES[:4]
        ]
        assert await self._claim(paused) == backlog[0]  # rendering in the (here: only, busy) slot
        paused.render_lane = asyncio.Semaphore(1)  # the lane is free; the flood's other jobs wait for a slot

        waiting = (await committed_client.post(ASYNC, json={"order_id": other["order_id"], "vin": other_vin})).json()
        status: dict[str, Any] = {}
        for _ in range(600):
            status = (await committed_client.get(f"/api/v1/tesla/reports/status/{waiting['task_id']}")).json()
            if status["status"] in ("complete", "failed"):
                break
            await asyncio.sleep(0.1)

        assert (status["status"], status["progress"]) == ("complete", 100)
        queued = [
            (await committed_client.get(f"/api/v1/tesla/reports/status/{t}")).json()["status"] for t in backlog[1:]
        ]
        assert queued == ["queued"] * 3

    async def test_one_order_alone_fills_every_slot(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        order_id, vin = await order_and_vin(committed_client, committed_app)
        tasks = [
            (await committed_client.post(ASYNC, json={"order_id": order_id, "vin": vin, "locale": loc})).json()[
                "task_id"
            ]
            for loc in LOCALES[:4]
        ]

        claimed = [await self._claim(paused) for _ in range(3)]

        assert claimed == tasks[:3]  # three renders of one order side by side, oldest first

    async def test_concurrent_workers_never_take_the_same_report(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI, paused: State
    ) -> None:
        paused.rate_limiter.enabled = False
        first, first_vin = await order_and_vin(committed_client, committed_app)
        second, second_vin = await order_and_vin(committed_client, committed_app, account="family")
        for order_id, vin in ((first, first_vin), (second, second_vin)):
            for locale in LOCALES[:4]:
                response = await committed_client.post(ASYNC, json={"order_id": order_id, "vin": vin, "locale": locale})
                assert response.status_code == 202

        claimed = await asyncio.gather(*(self._claim(paused) for _ in range(10)))

        taken = [report_id for report_id in claimed if report_id is not None]
        assert len(taken) == len(set(taken)) == 8
        async with paused.sessionmaker() as db:
            attempts = (await db.execute(select(Report.attempts).where(Report.origin == "request"))).scalars().all()
        assert sorted(attempts) == [1] * 8

    async def _claim(self, state: State) -> str | None:
        """What a worker does when a render slot frees."""
        now = state.clock.now()
        async with state.sessionmaker() as db:
            report_id = await ReportRepository(db).claim_next(now, now + timedelta(minutes=5))
            await db.commit()
        return report_id

    async def _finish(self, state: State, report_id: str | None) -> None:
        assert report_id is not None
        async with state.sessionmaker() as db:
            await ReportRepository(db).advance(
                report_id, state.clock.now(), status=ReportStatus.complete, progress=100, lease_until=None
            )
            await db.commit()
