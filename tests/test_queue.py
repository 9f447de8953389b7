"""The Redis job streams: one live message per job however often reconcilers sweep, acknowledged
messages deleted, jobs due later moved to their stream, and payments in a lane of their own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from carpulse.consumer import reconcile_once
from carpulse.kit.clock import FrozenClock
from carpulse.report.tasks import order_paid
from carpulse.worker import RENDER_LANE, lane_stream
from tests.conftest import REDIS_URL
from tests.connect.flow import sandbox_fake
from tests.payment.flow import act_on_hosted_page, checkout, order
from tests.report.flow import paid_order, reports_of

pytestmark = pytest.mark.server


def _overrides(redis_prefix: str, *, consume: bool, **report: Any) -> dict[str, Any]:
    return {
        "jobs": {"broker": "redis", "in_process_worker": consume, "queue_name": f"{redis_prefix}jobs"},
        "report": {"start_on_payment": True, **report},
    }


async def _lengths(app: FastAPI) -> tuple[int, int]:
    """Entries in the default stream and in the render stream."""
    queue = app.state.carpulse.settings.jobs.queue_name
    redis = Redis.from_url(REDIS_URL)
    try:
        return int(await redis.xlen(queue)), int(await redis.xlen(lane_stream(queue, RENDER_LANE)))
    finally:
        await redis.aclose()


async def _eventually(predicate: Any, seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.1)):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


class TestNothingConsumes:
    """No worker runs: what the stream holds is what senders and reconcilers put there."""

    @pytest.fixture
    def settings_overrides(self, redis_prefix: str) -> dict[str, Any]:
        return _overrides(redis_prefix, consume=False)

    async def test_a_job_is_sent_once_while_its_message_is_live(self, committed_app: FastAPI) -> None:
        jobs = committed_app.state.carpulse.jobs
        event = str(uuid.uuid4())
        for _ in range(5):
            await jobs.enqueue("inbound_event.handle", event_pk=event)
        await jobs.enqueue("inbound_event.handle", event_pk=str(uuid.uuid4()))
        for _ in range(3):
            await jobs.enqueue("report.render", report_id="r-1")

        assert await _lengths(committed_app) == (2, 1)

    async def test_sweeps_of_lost_work_do_not_flood_the_streams(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        intent = await paid_order(committed_client, committed_app, package="pro", account="family")
        order_id = intent["order_id"]
        webhooks, _ = await _lengths(committed_app)

        # The order's `order_paid` job is in the stream, never run; every sweep finds the order "lost".
        for minutes in range(5, 30, 5):
            state.clock = FrozenClock(state.clock.now() + timedelta(minutes=minutes))
            await reconcile_once(state)
        assert await _lengths(committed_app) == (webhooks, 0)

        # Its reports are created, and their renders queued; later sweeps find them overdue, again and again.
        await order_paid(state, order_id)
        reports = sum(len(vehicle["reports"]) for vehicle in (await reports_of(committed_client, order_id))["vehicles"])
        assert reports >= 3
        for minutes in range(5, 30, 5):
            state.clock = FrozenClock(state.clock.now() + timedelta(minutes=minutes))
            await reconcile_once(state)
        assert await _lengths(committed_app) == (webhooks, reports)


class TestInProcessWorker:
    @pytest.fixture
    def settings_overrides(self, redis_prefix: str) -> dict[str, Any]:
        # One render at a time, and a small receiver: before the render lane, two renders filled it.
        return _overrides(redis_prefix, consume=True, concurrent_renders=1) | {
            "jobs": {
                "broker": "redis",
                "in_process_worker": True,
                "queue_name": f"{redis_prefix}jobs",
                "concurrency": 2,
            }
        }

    async def test_acknowledged_messages_leave_the_stream_and_the_job_can_be_sent_again(
        self, committed_app: FastAPI
    ) -> None:
        jobs = committed_app.state.carpulse.jobs
        event = str(uuid.uuid4())  # no such delivery: the job runs and finds nothing to do
        await jobs.enqueue("inbound_event.handle", event_pk=event)
        await _eventually(lambda: _empty(committed_app), 10, "the job ran and its message was deleted")
        # Its claim check went with it: the same job is sent (and run) again.
        assert await _live_keys(committed_app) == 0
        await jobs.enqueue("inbound_event.handle", event_pk=event)
        await _eventually(lambda: _empty(committed_app), 10, "the second one ran too")

    async def test_a_job_due_later_reaches_its_stream_when_due(self, committed_app: FastAPI) -> None:
        jobs = committed_app.state.carpulse.jobs
        redis = Redis.from_url(REDIS_URL)
        delayed = f"{committed_app.state.carpulse.settings.jobs.queue_name}.delayed"
        try:
            await jobs.enqueue_later(0.5, "inbound_event.handle", event_pk=str(uuid.uuid4()))
            assert await redis.zcard(delayed) == 1
            await _eventually(lambda: _zero(redis.zcard(delayed)), 10, "the consumer moved it to the stream")
            await _eventually(lambda: _empty(committed_app), 10, "and ran it")
        finally:
            await redis.aclose()

    async def test_a_payment_is_handled_while_renders_wait(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        fake = sandbox_fake(committed_app)
        busy = await checkout(committed_client, "stripe", account="family", package="bulk")
        second = await checkout(committed_client, "stripe", account="solo", package="basic")
        fake.set_fault("family", latency_seconds=5.0)  # its three cars take a while to read
        try:
            await act_on_hosted_page(committed_client, busy["redirect_url"], "pay")

            async def renders_queued() -> bool:
                return (await _lengths(committed_app))[1] >= 3

            await _eventually(renders_queued, 10, "the bulk order's renders are queued")
            # Paid by its webhook alone (no verify call): the webhook's job must not wait behind renders.
            await act_on_hosted_page(committed_client, second["redirect_url"], "pay")

            async def second_paid() -> bool:
                return (await order(committed_client, second["order_id"]))["status"] in ("paid", "fulfilled")

            await _eventually(second_paid, 10, "the second order is paid")
            listing = await reports_of(committed_client, busy["order_id"])
            assert listing["status"] != "complete"
        finally:
            fake.clear_faults()


async def _live_keys(app: FastAPI) -> int:
    redis = Redis.from_url(REDIS_URL)
    try:
        pattern = f"{app.state.carpulse.settings.jobs.queue_name}:live:*"
        return len([key async for key in redis.scan_iter(match=pattern)])
    finally:
        await redis.aclose()


async def _empty(app: FastAPI) -> bool:
    return await _lengths(app) == (0, 0)


async def _zero(count: Any) -> bool:
    return int(await count) == 0
