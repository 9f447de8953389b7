"""Schemathesis against our own OpenAPI: no 5xx for anything a client can send, and every
response is one the document declares (status, content type, body, headers).

The app runs under a real uvicorn on 127.0.0.1 in a background thread: schemathesis calls
are synchronous, and the server's own event loop owns the engine, stores and clients its
lifespan built, as in production. As in `conftest.app`, every write lands in one outer
transaction rolled back at the end. Rate limiting is off so that 429s hide nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from carpulse.app import create_app
from carpulse.kit.storage import LocalStorage
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME, SERVER, app_lifespan, delete_redis_prefix, make_settings

# Examples per operation: 50 in `make test`; `make fuzz` runs 500 (CARPULSE_FUZZ_EXAMPLES sets it anywhere).
MAX_EXAMPLES = int(os.environ.get("CARPULSE_FUZZ_EXAMPLES") or os.environ.get("CARPULSE_SCHEMATHESIS_EXAMPLES") or "50")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
LOGIN = "/api/v1/auth/login"
LOGIN_JSON = "/api/v1/auth/login/json"

# Built at import: `schemathesis.pytest.from_fixture` reads `Node._nodeid`, which pytest 9.2 removed.
# Generating the document needs no lifespan; `test_the_served_document_is_the_one_under_test`
# proves the running server serves this very document.
OPENAPI = create_app(make_settings("sqlite+aiosqlite:///:memory:", Path("unused"), "unused", "unused:")).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: FastAPI
    admin_token: str
    # Path parameters that name a real row: a made-up id stops at 404 before the body is looked at.
    known_ids: dict[str, str]

    @property
    def storage(self) -> LocalStorage:
        storage: LocalStorage = self.app.state.carpulse.storage
        return storage


async def serve(app: FastAPI, server: uvicorn.Server, sock: socket.socket) -> None:
    """Run the lifespan, then serve with every request's writes in one outer transaction, rolled back."""
    async with app_lifespan(app):
        state = app.state.carpulse
        async with state.engine.connect() as connection:
            outer = await connection.begin()
            state.sessionmaker = async_sessionmaker(
                bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
            )
            try:
                await server.serve(sockets=[sock])
            finally:
                await outer.rollback()


@pytest.fixture(scope="module")
async def live_server(
    engine: AsyncEngine, database_url: str, admin_password_hash: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """The app under uvicorn on a free loopback port (the `engine` fixture has migrated the database).

    The public base URL is the server's own, so links it signs and the vendor sandbox it calls
    resolve to it, as on the embedded default.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    prefix = f"carpulse-test:{uuid.uuid4().hex}:"
    settings = make_settings(
        database_url,
        tmp_path_factory.mktemp("schemathesis-storage"),
        admin_password_hash,
        prefix,
        public_base_url=url,
        rate_limit={"enabled": False},
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(serve(app, server, sock))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="schemathesis-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), f"the server stopped during startup: {failure!r}"
        assert time.monotonic() < deadline, "the server did not start within 20 s"
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            login = await client.post(LOGIN_JSON, json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            voucher = await client.post(
                "/api/v1/pricing/vouchers",
                json={"code": "FUZZVOUCHER1", "kind": "percent", "percent_off": "10", "max_redemptions": 5},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert voucher.status_code == 201, voucher.text
        yield LiveServer(url=url, app=app, admin_token=token, known_ids={"voucher_id": voucher.json()["id"]})
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 20)
        sock.close()
        if SERVER:
            await delete_redis_prefix(prefix)
    assert not thread.is_alive(), "the server did not stop within 20 s"
    assert not failure, f"the server failed: {failure!r}"


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        yield client


def validate(response: httpx.Response, path: str, method: str, **path_parameters: str) -> None:
    """Run our checks on a response to a hand-made request for `method path`."""
    assert response.status_code < 500, response.text
    # The checks judge the response alone; the case names the operation (and fills its reproduction line).
    parameters = dict.fromkeys(re.findall(r"{(\w+)}", path), "x") | path_parameters
    schema[path][method].Case(path_parameters=parameters).validate_response(response, checks=CHECKS)


def test_the_served_document_is_the_one_under_test(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.json() == OPENAPI


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_no_server_error_and_responses_match_the_schema(case: schemathesis.Case, live_server: LiveServer) -> None:
    # As generated (anonymous, or with whatever credentials schemathesis made up), as the admin,
    # and as a browser, which asks for HTML first.
    case.call_and_validate(base_url=live_server.url, checks=CHECKS)
    admin = {"Authorization": f"Bearer {live_server.admin_token}"}
    case.call_and_validate(base_url=live_server.url, headers=admin, checks=CHECKS)
    case.call_and_validate(base_url=live_server.url, headers=BROWSER, checks=CHECKS)
    known = {name: value for name, value in live_server.known_ids.items() if name in (case.path_parameters or {})}
    if known:
        # Again on a row that exists, so the body reaches the service (PATCH with nulls, naive times, …).
        case.path_parameters = {**(case.path_parameters or {}), **known}
        case.call_and_validate(base_url=live_server.url, headers=admin, checks=CHECKS)


JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
SIGNATURE = "0" * 64


# What random generation reaches only by luck, pinned: NUL bytes (PostgreSQL refuses them), broken
# encodings, bodies over the limit, forged credentials, hostile link parameters.
HOSTILE: list[Any] = [
    pytest.param(LOGIN, "POST", {"data": {"username": "ad\x00min", "password": "x"}}, id="form-username-nul"),
    pytest.param(LOGIN, "POST", {"data": {"username": "admin", "password": "x\x00y"}}, id="form-password-nul"),
    pytest.param(LOGIN, "POST", {"content": b"username=%ED%A0%80&password=x", "headers": FORM}, id="form-bad-utf8"),
    pytest.param(LOGIN, "POST", {"content": b"\xff\xfe\x00", "headers": FORM}, id="form-binary"),
    pytest.param(LOGIN_JSON, "POST", {"json": {"username": "ad\x00min", "password": "x"}}, id="json-username-nul"),
    pytest.param(LOGIN_JSON, "POST", {"json": {"username": "admin", "password": "\x00"}}, id="json-password-nul"),
    pytest.param(
        LOGIN_JSON,
        "POST",
        {"content": b'{"username": "\\ud800", "password": "x"}', "headers": JSON},
        id="json-surrogate",
    ),
    pytest.param(LOGIN_JSON, "POST", {"content": b"R\x80", "headers": JSON}, id="json-not-utf8"),
    pytest.param(LOGIN_JSON, "POST", {"content": b"{", "headers": JSON}, id="json-truncated"),
    pytest.param(LOGIN_JSON, "POST", {"content": b"[]", "headers": JSON}, id="json-array"),
    pytest.param(
        LOGIN_JSON, "POST", {"content": b"{}", "headers": {"content-type": "text/plain"}}, id="json-text-plain"
    ),
    pytest.param(LOGIN_JSON, "POST", {"content": b" " * (2 << 20), "headers": JSON}, id="json-over-body-limit"),
    pytest.param(
        "/files/{key}",
        "GET",
        {"url": "/files/a.pdf", "params": {"expires": 1, "signature": "é" * 64}},
        id="non-ascii-signature",
    ),
    pytest.param(
        "/files/{key}",
        "GET",
        {"url": "/files/a", "params": {"expires": 10**30, "signature": SIGNATURE}},
        id="huge-expiry",
    ),
    pytest.param(
        "/files/{key}",
        "GET",
        {"url": "/files/..%2F..%2Fetc%2Fpasswd", "params": {"expires": 1, "signature": SIGNATURE}},
        id="traversal",
    ),
    pytest.param("/api/v1/auth/me", "GET", {"headers": {"authorization": "Bearer not.a.jwt"}}, id="garbage-token"),
    pytest.param("/api/v1/auth/me", "GET", {"headers": {"authorization": "Basic YTpi"}}, id="basic-auth"),
    pytest.param(
        "/api/v1/auth/me",
        "GET",
        # alg "none": an unsigned token is never believed.
        {"headers": {"authorization": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIwIn0."}},
        id="unsigned-token",
    ),
    pytest.param("/problems/{slug}", "GET", {"url": "/problems/%00"}, id="slug-nul"),
    pytest.param("/problems/{slug}", "GET", {"url": "/problems/" + "x" * 5000}, id="slug-long"),
]


class TestHostileInputs:
    @pytest.mark.parametrize(("path", "method", "request_kwargs"), HOSTILE)
    def test_answered_as_documented(
        self, http: httpx.Client, path: str, method: str, request_kwargs: dict[str, Any]
    ) -> None:
        kwargs = dict(request_kwargs)
        url = kwargs.pop("url", path)
        response = http.request(method, url, **kwargs)
        validate(response, path, method)


class TestDownloads:
    def test_a_signed_download_matches_the_document(self, live_server: LiveServer, http: httpx.Client) -> None:
        key = f"reports/{uuid.uuid4().hex}.pdf"
        path = live_server.storage.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7\n")
        link = urlsplit(live_server.storage.signed_url(key, filename="Health report.pdf"))

        response = http.get(f"{link.path}?{link.query}")

        assert response.status_code == 200, response.text
        validate(response, "/files/{key}", "GET", key=key)
