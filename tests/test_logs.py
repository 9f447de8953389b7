"""What we print: JSON lines for Cloud Logging, a request id on each, nothing secret or personal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from carpulse.kit.logs import build_formatter, get_logger
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(json_lines=True))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def parse(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


class TestLogFormat:
    async def test_each_request_logs_one_json_line_with_its_request_id(
        self, client: httpx.AsyncClient, log_lines: io.StringIO
    ) -> None:
        response = await client.get("/health/live", headers={"X-Request-ID": "0b7e7a6e4c2b4d6f9a1e2f3a4b5c6d7e"})
        lines = [line for line in parse(log_lines) if line["message"] == "http.request_completed"]
        assert len(lines) == 1
        line = lines[0]
        assert line["severity"] == "INFO"
        assert line["timestamp"].endswith("Z")
        assert line["request_id"] == response.headers["x-request-id"] == "0b7e7a6e4c2b4d6f9a1e2f3a4b5c6d7e"
        assert line["status"] == 200
        assert line["path"] == "/health/live"

    def test_standard_library_records_use_the_same_shape(self, log_lines: io.StringIO) -> None:
        logging.getLogger("some.library").warning("disk %s is %d%% full", "/var", 91)
        (line,) = parse(log_lines)
        assert line["severity"] == "WARNING"
        assert line["message"] == "disk /var is 91% full"
        assert line["logger"] == "some.library"

    def test_exceptions_are_logged_as_error_with_the_traceback(self, log_lines: io.StringIO) -> None:
        try:
            raise ValueError("kaboom")
        except ValueError:
            get_logger("t").exception("thing.failed")
        (line,) = parse(log_lines)
        assert line["severity"] == "ERROR"
        assert "kaboom" in line["exception"]


class TestNothingSecretIsLogged:
    async def test_login_and_authenticated_calls_leak_no_secret(
        self, client: httpx.AsyncClient, log_lines: io.StringIO
    ) -> None:
        login = await client.post(
            "/api/v1/auth/login/json", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        token = login.json()["access_token"]
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        await client.post(
            "/api/v1/auth/login/json", json={"username": "jane.doe@example.com", "password": "hunter2-password"}
        )
        get_logger("t").info(
            "tesla.callback_received",
            url="https://api.example/cb?code=oauth-code-123&state=s",
            email="jane.doe@example.com",
            vin="5YJ3E1EA7KF000316",
            refresh_token="rt-secret",
            headers={"Authorization": f"Bearer {token}"},
        )
        logging.getLogger("third.party").info("user jane.doe@example.com sent Bearer %s", token)
        output = log_lines.getvalue()
        assert output, "nothing was logged"
        for secret in (
            token,
            ADMIN_PASSWORD,
            "hunter2-password",
            "jane.doe@example.com",
            "oauth-code-123",
            "rt-secret",
            "5YJ3E1EA7KF000316",
        ):
            assert secret not in output, f"{secret!r} leaked into the logs"
        assert "j***@example.com" in output
        assert "***000316" in output
