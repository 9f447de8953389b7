"""A metered call holds one database connection at a time: recognising its key must not keep one while the
call's own transaction waits for another (a burst of calls with keys not yet cached exhausted the pool)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.data_api.flow import MODEL_3_VIN, DataClient, data_client

STATIC = f"/api/v1/vehicle/static/{MODEL_3_VIN}"
# More calls at once than the pool has connections (pool_size 1 + SQLAlchemy's 10 overflow).
CALLS = 16


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit": {"enabled": False}, "database": {"pool_size": 1, "pool_timeout_seconds": 2}}


@pytest.fixture
def client(committed_data_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return committed_data_client


@pytest.fixture
async def owner(committed_app: FastAPI, client: httpx.AsyncClient) -> DataClient:
    return await data_client(committed_app, client)


@pytest.mark.server
class TestKeyLookupReleasesItsConnection:
    async def test_a_burst_of_first_calls_larger_than_the_pool_is_answered(
        self, committed_app: FastAPI, client: httpx.AsyncClient, owner: DataClient
    ) -> None:
        committed_app.state.carpulse.api_key_cache.clear()  # every call of the burst reads its key from SQL
        responses = await asyncio.gather(*(client.get(STATIC, headers=owner.by_key) for _ in range(CALLS)))
        assert [response.status_code for response in responses] == [200] * CALLS
        usage = (await client.get("/api/v1/billing/usage", headers=owner.by_key)).json()
        assert sum(total["calls"] for total in usage["totals"]) == CALLS
