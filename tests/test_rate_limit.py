from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Response

from carpulse.app import create_app
from carpulse.rate_limit import RateLimiter, limit_by_ip, limit_by_ip_and_owner
from tests.conftest import CLIENT_ADDRESS, REDIS_URL, app_lifespan, make_settings


def add_probe(app: FastAPI) -> None:
    @app.get("/_probe/pdf", dependencies=[Depends(limit_by_ip("pdf"))])
    async def pdf() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/_probe/file/{owner_id}", dependencies=[Depends(limit_by_ip_and_owner("invoice", "owner_id"))])
    async def owned_file(owner_id: str) -> Response:
        return Response(owner_id.encode(), media_type="application/pdf")


class TestHeadersOnEveryResponse:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit": {"policies": {"invoice": "3/minute"}}}

    async def test_a_response_returned_directly_carries_the_tightest_budget(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        add_probe(app)
        await client.get("/_probe/file/a")
        transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            # This address's first request, the owner's second: the owner's budget is the tighter one.
            response = await other.get("/_probe/file/a")

        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == "1"
        assert response.headers["ratelimit-policy"] == '3;w=60;comment="invoice"'


class TestPolicyByClientIp:
    async def test_eleventh_pdf_download_in_a_minute_is_refused(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        add_probe(app)
        responses = [await client.get("/_probe/pdf") for _ in range(11)]
        assert [r.status_code for r in responses] == [200] * 10 + [429]
        assert responses[0].headers["ratelimit-limit"] == "10"
        assert responses[9].headers["ratelimit-remaining"] == "0"
        refused = responses[10]
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert "pdf" in refused.json()["detail"]

    async def test_other_clients_are_not_affected(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        add_probe(app)
        for _ in range(11):
            await client.get("/_probe/pdf")
        transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            assert (await other.get("/_probe/pdf")).status_code == 200


class TestDisabled:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit": {"enabled": False}}

    async def test_no_limit_and_no_headers(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        add_probe(app)
        responses = [await client.get("/_probe/pdf") for _ in range(12)]
        assert {r.status_code for r in responses} == {200}
        assert "ratelimit-limit" not in responses[0].headers


class TestPoliciesFromSettings:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit": {"policies": {"pdf": "2/minute", "login": "5/minute"}}}

    async def test_configured_rate_applies(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        add_probe(app)
        statuses = [(await client.get("/_probe/pdf")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


class TestStoreOutage:
    async def test_counters_store_down_lets_requests_through(self) -> None:
        limiter = RateLimiter({"pdf": "1/minute"}, redis_url="redis://127.0.0.1:1/0")
        try:
            assert await limiter.hit("pdf", "client") is None
            assert await limiter.hit("pdf", "client") is None
        finally:
            await limiter.close()


@pytest.mark.server
class TestSharedAcrossReplicas:
    async def test_two_app_instances_share_one_budget(
        self, database_url: str, tmp_path: Path, admin_password_hash: str, redis_prefix: str
    ) -> None:
        settings = make_settings(database_url, tmp_path, admin_password_hash, redis_prefix)
        assert settings.redis.url is not None
        assert settings.redis.url.get_secret_value() == REDIS_URL
        replicas = [create_app(settings), create_app(settings)]
        for replica in replicas:
            add_probe(replica)
        async with app_lifespan(replicas[0]), app_lifespan(replicas[1]):
            clients = [
                httpx.AsyncClient(transport=httpx.ASGITransport(app=r, client=CLIENT_ADDRESS), base_url="http://t")
                for r in replicas
            ]
            try:
                statuses = [(await clients[n % 2].get("/_probe/pdf")).status_code for n in range(11)]
            finally:
                for c in clients:
                    await c.aclose()
            await replicas[0].state.carpulse.rate_limiter.reset()
        assert statuses == [200] * 10 + [429]
