from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from carpulse.app import create_app
from tests.conftest import CLIENT_ADDRESS, POSTGRES_URL, SERVER, app_lifespan, make_settings
from tests.tcp_proxy import TcpProxy


class TestHealthy:
    async def test_all_dependencies_up(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["failing"] == []
        assert body["version"] == "9.9.9-test"
        assert set(body["checks"]) == {"database", "ephemeral_store", "storage"}
        for check in body["checks"].values():
            assert check["status"] == "up"
            assert check["latency_ms"] >= 0
        assert body["checks"]["database"]["backend"] == ("postgresql" if SERVER else "sqlite")
        assert body["checks"]["ephemeral_store"]["backend"] == ("redis" if SERVER else "memory")
        assert response.headers["cache-control"] == "no-store"

    async def test_liveness(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/live")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


class TestEphemeralStoreDown:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "redis": {"url": "redis://127.0.0.1:1/0", "socket_timeout_seconds": 0.5},
            "rate_limit": {"enabled": False},
        }

    async def test_503_names_the_ephemeral_store(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["failing"] == ["ephemeral_store"]
        assert body["checks"]["ephemeral_store"]["error"]
        assert body["checks"]["database"]["status"] == "up"
        assert (await client.get("/health/live")).status_code == 200


class TestStorageDown:
    @pytest.fixture
    def settings_overrides(self, tmp_path: Path) -> dict[str, Any]:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        return {"storage": {"url": str(blocker / "storage")}}

    async def test_503_names_the_storage(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health")
        assert response.status_code == 503
        assert response.json()["failing"] == ["storage"]


@pytest.fixture
async def database_proxy() -> AsyncIterator[TcpProxy]:
    url = make_url(POSTGRES_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.mark.server
class TestDatabaseOutage:
    """PostgreSQL goes away behind the app's back and comes back; the API follows."""

    async def test_health_503_names_the_database_and_recovers(
        self, database_proxy: TcpProxy, tmp_path: Path, admin_password_hash: str, redis_prefix: str
    ) -> None:
        url = make_url(POSTGRES_URL).set(host="127.0.0.1", port=database_proxy.port)
        settings = make_settings(
            url.render_as_string(hide_password=False),
            tmp_path / "storage",
            admin_password_hash,
            redis_prefix,
            database={"connect_timeout_seconds": 1.0},
        )
        app = create_app(settings)
        async with app_lifespan(app):
            transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                assert (await client.get("/health")).status_code == 200

                await database_proxy.stop()
                down = await client.get("/health")
                assert down.status_code == 503
                assert down.json()["failing"] == ["database"]
                assert down.json()["checks"]["ephemeral_store"]["status"] == "up"

                login = await client.post("/api/v1/auth/login/json", json={"username": "admin", "password": "x"})
                assert login.status_code == 503
                assert login.headers["content-type"] == "application/problem+json"
                assert login.headers["retry-after"] == "5"

                await database_proxy.start()
                assert (await client.get("/health")).status_code == 200
