"""Cross-cutting HTTP behaviour: problem documents, request ids, CORS, headers, body limits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

PROBLEM = "application/problem+json"


class TestProblemDocuments:
    async def test_unknown_path_is_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/no/such/path")
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["type"] == "/problems/not-found"
        assert body["title"] == "Not found"
        assert body["status"] == 404
        assert body["instance"] == "/no/such/path"
        assert body["request_id"] == response.headers["x-request-id"]

    async def test_wrong_method_is_405_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.delete("/health")
        assert response.status_code == 405
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/method-not-allowed"
        assert "allow" in response.headers

    async def test_problem_types_are_described(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/problems/rate-limited")
        assert response.status_code == 200
        assert response.json()["status"] == 429

    async def test_unexpected_error_is_a_500_problem_without_internals(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        @app.get("/_probe/boom")
        async def boom() -> None:
            raise RuntimeError("secret internal detail")

        response = await client.get("/_probe/boom")
        assert response.status_code == 500
        assert response.headers["content-type"] == PROBLEM
        assert "secret internal detail" not in response.text
        assert response.json()["request_id"] == response.headers["x-request-id"]
        assert response.headers["x-content-type-options"] == "nosniff"


class TestRequestId:
    async def test_generated_when_absent(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/live")
        assert len(response.headers["x-request-id"]) >= 32

    async def test_accepted_and_returned(self, client: httpx.AsyncClient) -> None:
        request_id = uuid.uuid4().hex
        response = await client.get("/health/live", headers={"X-Request-ID": request_id})
        assert response.headers["x-request-id"] == request_id

    async def test_garbage_request_id_is_replaced(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/live", headers={"X-Request-ID": "<script>alert(1)</script>"})
        assert response.headers["x-request-id"] != "<script>alert(1)</script>"


class TestSecurityHeaders:
    async def test_api_responses_carry_them(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers

    async def test_docs_page_loads_scripts_from_our_origin_only(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/docs")
        assert response.status_code == 200
        assert "script-src 'self';" in response.headers["content-security-policy"]
        assert "cdn" not in response.headers["content-security-policy"]


class TestCors:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"http": {"cors_origins": ["https://carpulsetracker.com"]}}

    async def test_preflight_from_an_allowed_origin(self, client: httpx.AsyncClient) -> None:
        response = await client.options(
            "/api/v1/auth/login/json",
            headers={"Origin": "https://carpulsetracker.com", "Access-Control-Request-Method": "POST"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://carpulsetracker.com"

    async def test_other_origins_get_no_cors_headers(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in response.headers

    async def test_rate_limit_headers_are_exposed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/", headers={"Origin": "https://carpulsetracker.com"})
        exposed = response.headers["access-control-expose-headers"].lower()
        assert "retry-after" in exposed
        assert "x-request-id" in exposed


class TestBodySizeLimit:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"http": {"max_body_bytes": 2048}}

    async def test_declared_oversize_body_is_413_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/auth/login/json", json={"username": "admin", "password": "x" * 5000})
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/payload-too-large"

    async def test_streamed_oversize_body_is_413_problem(self, client: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"username": "admin", "password": "'
            for _ in range(10):
                yield b"x" * 500
            yield b'"}'

        response = await client.post(
            "/api/v1/auth/login/json", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM

    async def test_small_bodies_pass(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/auth/login/json", json={"username": "admin", "password": "wrong"})
        assert response.status_code == 401
