"""The connect flow against a misbehaving Tesla: never a 500, always a clear problem or success."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.connect.flow import JSON, authorize, connect_account, sandbox_fake

PROBLEM = "application/problem+json"


async def _callback(client: httpx.AsyncClient, account: str) -> httpx.Response:
    _, callback = await authorize(client, account)
    return await client.get("/api/v1/tesla/oauth/callback", params=callback, headers=JSON)


class TestFlakyTesla:
    async def test_thirty_percent_5xx_never_ends_in_a_500(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        sandbox_fake(app).set_fault("fleet", error_rate=0.3)
        statuses = [(await _callback(client, "fleet")).status_code for _ in range(8)]
        assert 500 not in statuses
        assert set(statuses) <= {200, 503, 504}
        assert statuses.count(200) >= 6, statuses  # 4 attempts each: P(all fail) = 0.3**4

    async def test_server_errors_are_not_billed(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = sandbox_fake(app)
        fake.set_fault("solo", error_rate=1.0)
        response = await _callback(client, "solo")
        assert response.status_code in (503, 504)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] in ("/problems/tesla-unavailable", "/problems/tesla-timeout")
        assert fake.billing.count("solo") == 0


class TestRateLimitedTesla:
    async def test_a_long_retry_after_is_surfaced_not_slept(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        sandbox_fake(app).set_fault("solo", rate_limit_retry_after=3600)
        response = await _callback(client, "solo")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "3600"
        assert response.json()["type"] == "/problems/tesla-rate-limited"


class TestShortRetryAfterIsHonoured:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"tesla": {"max_retries": 1}}

    async def test_client_waits_then_gives_up_with_retry_after(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = sandbox_fake(app)
        fake.set_fault("solo", rate_limit_retry_after=1)
        response = await _callback(client, "solo")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        vehicle_calls = [call for call in fake.calls if call.account == "solo" and call.path.endswith("/vehicles")]
        assert len(vehicle_calls) == 2  # the first try and one retry after waiting


class TestWrongRegionHint:
    async def test_a_us_account_behind_a_wrong_hint_is_found_through_421(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = sandbox_fake(app)
        fake.set_region_hint("us", "eu")
        result = await connect_account(client, "us")
        assert result["vehicle_count"] == 2
        state = (await client.get(f"/api/v1/tesla/session/{result['session_id']}/state")).json()
        assert state["region"] == "na"
        vehicle_calls = [call.status for call in fake.calls if call.path.endswith("/api/1/vehicles")]
        assert vehicle_calls == [421, 200]


class TestExpiredAccessToken:
    async def test_refreshes_once_and_carries_on(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        session_id = (await connect_account(client, "family"))["session_id"]
        fake = sandbox_fake(app)
        fake.set_fault("family", expire_tokens=True)
        from carpulse.connect.dependencies import connect_context
        from carpulse.connect.service import connect

        context = connect_context(app.state.carpulse)
        session = await connect.get(context, session_id)
        before_refresh = context.box.decrypt(session.refresh_token or "")
        vehicles = await connect.open_provider(context, session).list_vehicles()
        assert len(vehicles) == 3
        after = await connect.get(context, session_id)
        assert context.box.decrypt(after.refresh_token or "") != before_refresh
        assert after.access_token != session.access_token

        # Tesla's refresh tokens are single-use: once the successor was used, the old one is dead.
        tesla = context.providers.get("tesla").sign_in
        await tesla.refresh(context.box.decrypt(after.refresh_token or ""))
        from carpulse.provider.tesla.errors import TeslaReauthorizationRequired

        with pytest.raises(TeslaReauthorizationRequired):
            await tesla.refresh(before_refresh)

    async def test_tokens_are_encrypted_at_rest(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        session_id = (await connect_account(client, "solo"))["session_id"]
        raw = await app.state.carpulse.ephemeral.get(f"connect:session:{session_id}")
        assert raw is not None
        assert b"eyJ" not in raw
        assert b"EU_" not in raw
