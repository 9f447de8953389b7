"""The production job path: taskiq's Redis stream broker, consumed by the in-process worker."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.payment.flow import act_on_hosted_page, checkout, order


@pytest.fixture
def settings_overrides(redis_prefix: str) -> dict[str, Any]:
    return {"jobs": {"broker": "redis", "in_process_worker": True, "queue_name": f"{redis_prefix}jobs"}}


@pytest.mark.server
class TestRedisStreamJobs:
    async def test_a_webhook_is_handled_through_redis_streams(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        from taskiq_redis import RedisStreamBroker

        assert isinstance(committed_app.state.carpulse.jobs.broker, RedisStreamBroker)
        intent = await checkout(committed_client, "stripe")
        await act_on_hosted_page(committed_client, intent["redirect_url"], "pay")
        for _ in range(100):  # the worker consumes asynchronously; give it up to 10 s
            if (await order(committed_client, intent["order_id"]))["status"] == "paid":
                break
            await asyncio.sleep(0.1)
        assert (await order(committed_client, intent["order_id"]))["status"] == "paid"
