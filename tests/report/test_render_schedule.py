"""Renders under a throttling or slow vendor: waiting is not failing, tries are spaced, a slow car holds
one render slot and not the others."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from carpulse.kit.clock import FrozenClock
from carpulse.models import Report, ReportStatus
from carpulse.report.pipeline import run_render
from carpulse.report.tasks import order_paid
from tests.connect.flow import sandbox_fake
from tests.report.flow import REPORTS_ON, paid_order, reports_of, settle_reports


async def _reports(app: FastAPI, order_id: str) -> list[Report]:
    async with app.state.carpulse.sessionmaker() as db:
        return list((await db.execute(select(Report).where(Report.order_id == order_id))).scalars())


async def _paid_without_reports(client: httpx.AsyncClient, app: FastAPI, account: str = "solo") -> dict[str, Any]:
    """A paid order whose reports are not started yet (the test starts them under a fault)."""
    settings = app.state.carpulse.settings.report
    settings.start_on_payment = False
    try:
        return await paid_order(client, app, package="basic", account=account)
    finally:
        settings.start_on_payment = True


async def _until(predicate: Any, seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


class TestThrottledVendor:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        # One attempt allowed: a throttled try that counted as an attempt would fail the report at once.
        return REPORTS_ON | {
            "report": {"start_on_payment": True, "max_attempts": 1, "defer_seconds": [0.05, 0.2]},
            "tesla": {"max_retries": 0},
        }

    async def test_a_persistent_429_defers_the_report_and_it_completes_once_it_ends(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await _paid_without_reports(committed_client, committed_app)
        fake = sandbox_fake(committed_app)
        fake.set_fault(rate_limit_retry_after=1)  # 0 would switch it off
        try:
            await order_paid(committed_app.state.carpulse, intent["order_id"])

            async def deferred_often() -> bool:
                return all(report.deferrals >= 3 for report in await _reports(committed_app, intent["order_id"]))

            await _until(deferred_often, 20, "the throttled render is deferred, again and again")
            for report in await _reports(committed_app, intent["order_id"]):
                assert report.status in (ReportStatus.queued, ReportStatus.processing)
                assert report.failure_reason is None
                assert report.attempts <= 1  # throttled tries are not attempts
        finally:
            fake.clear_faults()

        async def complete() -> bool:
            return (await reports_of(committed_client, intent["order_id"]))["status"] == "complete"

        await _until(complete, 20, "the report completes once Tesla stops throttling")
        assert (await reports_of(committed_client, intent["order_id"]))["order_status"] == "fulfilled"

    async def test_a_report_throttled_past_its_window_fails_with_the_reason(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        intent = await _paid_without_reports(committed_client, committed_app)
        fake = sandbox_fake(committed_app)
        fake.set_fault(rate_limit_retry_after=30)
        try:
            await order_paid(state, intent["order_id"])
            await settle_reports(committed_app)
            (report,) = await _reports(committed_app, intent["order_id"])
            assert (report.status, report.deferrals) == (ReportStatus.queued, 1)
            state.clock = FrozenClock(state.clock.now() + timedelta(days=2))  # the window (24 h) has passed
            await run_render(state, report.id)
        finally:
            fake.clear_faults()

        (report,) = await _reports(committed_app, intent["order_id"])
        assert report.status == ReportStatus.failed
        assert report.failure_reason is not None
        assert "wait" in report.failure_reason


class TestSpacedRetries:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return REPORTS_ON | {"report": {"start_on_payment": True, "max_attempts": 3}, "tesla": {"max_retries": 0}}

    async def test_a_failed_attempt_waits_before_the_next_instead_of_running_at_once(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        intent = await _paid_without_reports(committed_client, committed_app)
        fake = sandbox_fake(committed_app)
        fake.set_fault(error_rate=1.0)
        try:
            await order_paid(state, intent["order_id"])
            await settle_reports(committed_app)
            (report,) = await _reports(committed_app, intent["order_id"])
            assert (report.status, report.attempts) == (ReportStatus.queued, 1)
            assert report.retry_at is not None
            assert report.retry_at >= state.clock.now() + timedelta(seconds=7)  # [15, 30] s / 2 at the least

            # More deliveries of its job before its time do nothing: no attempt is spent early.
            for _ in range(3):
                await run_render(state, report.id)
            (report,) = await _reports(committed_app, intent["order_id"])
            assert (report.status, report.attempts) == (ReportStatus.queued, 1)
        finally:
            fake.clear_faults()

        state.clock = FrozenClock(report.retry_at + timedelta(seconds=1))
        await run_render(state, report.id)
        (report,) = await _reports(committed_app, intent["order_id"])
        assert (report.status, report.attempts) == (ReportStatus.complete, 2)


class TestSlowCar:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return REPORTS_ON | {"report": {"start_on_payment": True}}

    async def test_slow_cars_do_not_hold_up_a_quick_one(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        slow = [await _paid_without_reports(committed_client, committed_app, account) for account in ("family", "us")]
        quick = await _paid_without_reports(committed_client, committed_app, "solo")
        fake = sandbox_fake(committed_app)
        # Two accounts whose cars answer slowly (more than the document slot and the lane), one quick.
        for account in ("family", "us"):
            fake.set_fault(account, latency_seconds=20.0)
        try:
            for intent in [*slow, quick]:
                await order_paid(state, intent["order_id"])

            async def quick_done() -> bool:
                return (await reports_of(committed_client, quick["order_id"]))["status"] == "complete"

            await _until(quick_done, 60, "the quick car's report completes")
            for intent in slow:
                for report in await _reports(committed_app, intent["order_id"]):
                    assert report.status in (ReportStatus.queued, ReportStatus.processing)  # its car not read yet
                    assert report.snapshot_id is None
        finally:
            fake.clear_faults()
            await _stop_renders(committed_app)


async def _stop_renders(app: FastAPI) -> None:
    """End the renders still running (the test has seen what it needed), so the app stops promptly."""
    broker = app.state.carpulse.jobs.broker
    running = list(getattr(broker, "_running_tasks", ()))
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
