"""A process that names another sandbox (`CARPULSE_SANDBOX__URL`): its vendors are there, its /_sandbox redirects."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

NAMED = "http://sandbox.internal:8200/_sandbox"
PROBLEM = "application/problem+json"


class TestANamedSandbox:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"sandbox": {"url": NAMED, "wake_delay_seconds": 0}}

    async def test_the_consent_page_is_the_named_sandboxs(self, client: httpx.AsyncClient) -> None:
        initiated = await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "en"})
        assert initiated.status_code == 200, initiated.text
        assert initiated.json()["authorization_url"].startswith(f"{NAMED}/tesla/oauth2/v3/authorize?")

    async def test_no_fakes_of_its_own(self, app: FastAPI) -> None:
        assert app.state.carpulse.sandbox is None

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/_sandbox/stripe/checkout/cs_test_1?sandbox_outcome=pay"),
            ("POST", "/_sandbox/tesla/oauth2/v3/token"),
        ],
    )
    async def test_its_own_sandbox_path_redirects_there(
        self, client: httpx.AsyncClient, method: str, path: str
    ) -> None:
        response = await client.request(method, path, content=b"grant_type=authorization_code")
        assert response.status_code == 307
        assert response.headers["location"] == NAMED + path.removeprefix("/_sandbox")


class TestASandboxNamingThisVeryAddress:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"sandbox": {"url": "http://testserver/_sandbox"}}

    async def test_answers_a_problem_instead_of_a_redirect_loop(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/_sandbox/tesla/oauth2/v3/authorize")
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert "CARPULSE_SANDBOX__URL" in response.json()["detail"]
