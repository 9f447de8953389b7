"""Redis down under the API: 503 problems with Retry-After, never 500; back at once when it returns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.connect.flow import connect_account
from tests.redis_server import RedisServer

pytestmark = pytest.mark.server


@pytest.fixture
def settings_overrides(redis_server: RedisServer) -> dict[str, Any]:
    return {"redis": {"url": redis_server.url}}


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"] == "/problems/service-unavailable"


class TestRedisRestarted:
    async def test_503_during_the_outage_then_the_first_calls_succeed(
        self, client: httpx.AsyncClient, redis_server: RedisServer
    ) -> None:
        session = await connect_account(client, "solo")
        session_id = session["session_id"]

        redis_server.stop()
        assert_unavailable(await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "en"}))
        assert_unavailable(await client.get(f"/api/v1/tesla/session/{session_id}/state"))
        assert_unavailable(await client.get(f"/api/v1/tesla/session/{session_id}/vehicles"))

        redis_server.start()
        # Every pooled connection died with the old server; none may surface as an error.
        initiated = await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "en"})
        assert initiated.status_code == 200, initiated.text
        # Redis came back empty: the session is gone, which is a 404, not a failure.
        lost = await client.get(f"/api/v1/tesla/session/{session_id}/state")
        assert lost.status_code == 404, lost.text
        again = await connect_account(client, "solo")
        assert (await client.get(f"/api/v1/tesla/session/{again['session_id']}/state")).status_code == 200
