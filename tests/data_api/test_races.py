"""The Data API under concurrency, with requests that commit for real: duplicate idempotent retries bill once,
concurrent calls never pass the quota, two payments make one invoice, a revocation reaches another replica
within a second."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.config import Settings
from tests.conftest import CLIENT_ADDRESS, app_lifespan, create_in_process_app
from tests.data_api.flow import MODEL_3_VIN, DataClient, data_client

STATIC = f"/api/v1/vehicle/static/{MODEL_3_VIN}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit": {"enabled": False}}


@pytest.fixture
def client(committed_data_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return committed_data_client


@pytest.fixture
async def owner(committed_app: FastAPI, client: httpx.AsyncClient) -> DataClient:
    return await data_client(committed_app, client)


async def billed_calls(client: httpx.AsyncClient, owner: DataClient) -> int:
    usage = (await client.get("/api/v1/billing/usage", headers=owner.by_key)).json()
    return sum(total["calls"] for total in usage["totals"])


class TestRaces:
    async def test_ten_simultaneous_retries_of_one_call_bill_it_once(
        self, client: httpx.AsyncClient, owner: DataClient
    ) -> None:
        headers = {**owner.by_key, "Idempotency-Key": "retry-storm"}
        responses = await asyncio.gather(*(client.get(STATIC, headers=headers) for _ in range(10)))
        assert {response.status_code for response in responses} == {200}
        assert len({response.content for response in responses}) == 1
        assert len({response.headers["CarPulse-Request-Id"] for response in responses}) == 1
        assert await billed_calls(client, owner) == 1

    async def test_simultaneous_calls_never_pass_the_quota(
        self, client: httpx.AsyncClient, owner: DataClient, admin_token_committed: str
    ) -> None:
        admin = {"Authorization": f"Bearer {admin_token_committed}"}
        plan = {"code": "tiny", "name": "Tiny", "daily_quota": 5, "unit_price_minor": 7, "burst_per_second": 100}
        assert (await client.post("/api/v1/admin/plans", json=plan, headers=admin)).status_code == 201
        moved = await client.put(
            f"/api/v1/admin/data-clients/{owner.account_id}/plan", json={"plan": "tiny"}, headers=admin
        )
        assert moved.status_code == 200, moved.text

        responses = await asyncio.gather(*(client.get(STATIC, headers=owner.by_key) for _ in range(12)))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] * 5 + [429] * 7
        assert await billed_calls(client, owner) == 5
        usage = (await client.get("/api/v1/billing/usage", headers=owner.by_key)).json()
        assert usage["totals"][0]["amount_minor"] == 35
        await client.put(f"/api/v1/admin/data-clients/{owner.account_id}/plan", json={"plan": "basic"}, headers=admin)
        assert (await client.delete("/api/v1/admin/plans/tiny", headers=admin)).status_code == 204

    async def test_two_payments_at_once_make_one_invoice(self, client: httpx.AsyncClient, owner: DataClient) -> None:
        for _ in range(3):
            assert (await client.get(STATIC, headers=owner.by_key)).status_code == 200
        responses = await asyncio.gather(
            *(client.post("/api/v1/billing/pay", json={}, headers=owner.by_key) for _ in range(2))
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses[0] == 201
        assert statuses[1] in (200, 201, 409)
        invoices = (await client.get("/api/v1/billing/invoices", headers=owner.by_key)).json()["invoices"]
        assert sum(invoice["usage_count"] for invoice in invoices) == 3
        assert sum(invoice["net_minor"] for invoice in invoices) == 30


@pytest.mark.server
class TestReplicas:
    async def test_a_key_revoked_on_one_replica_fails_on_the_other_within_a_second(
        self, committed_app: FastAPI, client: httpx.AsyncClient, owner: DataClient, settings: Settings
    ) -> None:
        other = create_in_process_app(settings)
        async with app_lifespan(other):
            transport = httpx.ASGITransport(app=other, client=CLIENT_ADDRESS)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as replica_b:
                assert (await replica_b.get("/api/v1/billing/usage", headers=owner.by_key)).status_code == 200

                revoked = await client.delete(f"/api/v1/data/keys/{owner.key_id}", headers=owner.by_token)
                assert revoked.status_code == 200
                started = time.monotonic()
                while (await replica_b.get("/api/v1/billing/usage", headers=owner.by_key)).status_code == 200:
                    assert time.monotonic() - started < 1.0, "replica B still accepts the revoked key after 1 s"
                    await asyncio.sleep(0.02)
                assert (await replica_b.get(STATIC, headers=owner.by_key)).status_code == 401


@pytest.mark.server
class TestKeyLookupReleasesItsConnection:
    """A metered call holds one connection at a time: the key's lookup must not keep one while the key's touch
    and the call's own transaction wait for theirs (a burst of uncached keys exhausted the pool)."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        # 1 + SQLAlchemy's 10 overflow connections: fewer than the burst's calls.
        return {"rate_limit": {"enabled": False}, "database": {"pool_size": 1, "pool_timeout_seconds": 2}}

    async def test_a_burst_of_first_calls_larger_than_the_pool_is_answered(
        self, committed_app: FastAPI, client: httpx.AsyncClient, owner: DataClient
    ) -> None:
        committed_app.state.carpulse.api_key_cache.clear()  # every call of the burst reads its key from SQL
        responses = await asyncio.gather(*(client.get(STATIC, headers=owner.by_key) for _ in range(16)))
        assert [response.status_code for response in responses] == [200] * 16
        assert await billed_calls(client, owner) == 16
