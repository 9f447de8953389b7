"""kit/http against a tiny Starlette vendor over ASGI: retries where safe, Retry-After, a breaker per host,
the request id."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from asgi_correlation_id import correlation_id
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from carpulse.kit.clock import FrozenClock
from carpulse.kit.http import Attempts, CircuitOpen, RetryPolicy, VendorHttp, retry_after_seconds
from carpulse.kit.logs import configure_logging
from carpulse.kit.resilience import CircuitBreakers


@dataclass
class Vendor:
    """Answers from a script (status, headers), then 200; remembers what it received."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Request] = field(default_factory=list)
    hold: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def answer(self, request: Request) -> Response:
        self.received.append(request)
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        status, headers = self.script.pop(0) if self.script else (200, {})
        return JSONResponse({"status": status}, status_code=status, headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.answer, methods=["GET", "POST", "PUT", "DELETE"])])


class Wire(httpx.AsyncBaseTransport):
    """The ASGI transport behind a wire that can refuse the next connections and shows each request's timeout."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.refuse = 0
        self.timeouts: list[object] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(request.extensions.get("timeout"))
        if self.refuse:
            self.refuse -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


class Breakers:
    """A breaker clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    vendor: Vendor
    wire: Wire
    http: httpx.AsyncClient
    clock: FrozenClock
    breaker_clock: Breakers
    sleeps: list[float]

    def calls(self, max_retries: int = 2, cap: float = 10.0, min_calls: int = 20, **options: object) -> VendorHttp:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        return VendorHttp(
            self.http,
            vendor="acme",
            timeout_seconds=7.5,
            policy=RetryPolicy(max_retries=max_retries, retry_after_cap_seconds=cap),
            breakers=CircuitBreakers(
                window=50, min_calls=min_calls, failure_ratio=0.5, reset_seconds=5.0, clock=self.breaker_clock
            ),
            sleep=sleep,
            clock=self.clock,
            rng=random.Random(13),
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    vendor = Vendor()
    wire = Wire(httpx.ASGITransport(app=vendor.app()))
    async with httpx.AsyncClient(transport=wire) as http:
        yield Rig(vendor, wire, http, FrozenClock(), Breakers(), [])


URL = "http://api.acme.test/v1/things"


class TestRetries:
    async def test_a_get_is_retried_through_5xx_with_full_jitter(self, rig: Rig) -> None:
        rig.vendor.script = [(503, {}), (500, {})]

        response = await rig.calls().send("GET", URL)

        assert response.status_code == 200
        assert len(rig.vendor.received) == 3
        assert len(rig.sleeps) == 2
        assert 0 <= rig.sleeps[0] <= 0.25
        assert 0 <= rig.sleeps[1] <= 0.5

    async def test_retries_are_bounded_and_the_last_answer_is_returned(self, rig: Rig) -> None:
        rig.vendor.script = [(502, {})] * 10
        attempts = Attempts()

        response = await rig.calls(max_retries=3).send("GET", URL, attempts=attempts)

        assert response.status_code == 502
        assert len(rig.vendor.received) == 4
        assert attempts.retries == 3

    async def test_a_post_without_a_key_is_sent_once(self, rig: Rig) -> None:
        rig.vendor.script = [(503, {}), (429, {"Retry-After": "1"})]
        calls = rig.calls()

        assert (await calls.send("POST", URL, json={})).status_code == 503
        assert (await calls.send("POST", URL, json={})).status_code == 429
        rig.wire.refuse = 1
        with pytest.raises(httpx.ConnectError):
            await calls.send("POST", URL, json={})

        assert len(rig.vendor.received) == 2
        assert rig.sleeps == []

    async def test_a_post_the_caller_vouches_for_is_retried(self, rig: Rig) -> None:
        rig.vendor.script = [(503, {})]
        rig.wire.refuse = 1

        response = await rig.calls().send("POST", URL, retry_safe=True, json={}, headers={"Idempotency-Key": "k1"})

        assert response.status_code == 200
        assert [r.headers["idempotency-key"] for r in rig.vendor.received] == ["k1", "k1"]
        assert len(rig.sleeps) == 2

    async def test_refused_connections_are_retried_then_raised(self, rig: Rig) -> None:
        rig.wire.refuse = 3

        with pytest.raises(httpx.ConnectError):
            await rig.calls().send("GET", URL)

        assert len(rig.sleeps) == 2
        assert rig.vendor.received == []

    async def test_every_call_carries_the_timeout(self, rig: Rig) -> None:
        rig.vendor.script = [(500, {})]

        await rig.calls().send("GET", URL)

        assert rig.wire.timeouts == [{"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}] * 2


class TestRetryAfter:
    async def test_seconds_are_slept_exactly(self, rig: Rig) -> None:
        rig.vendor.script = [(429, {"Retry-After": "3"}), (503, {"Retry-After": "2"})]

        response = await rig.calls().send("GET", URL)

        assert response.status_code == 200
        assert rig.sleeps == [3.0, 2.0]

    async def test_an_http_date_is_read_against_the_clock(self, rig: Rig) -> None:
        when = format_datetime(rig.clock.now() + timedelta(seconds=7), usegmt=True)
        rig.vendor.script = [(429, {"Retry-After": when})]

        response = await rig.calls().send("GET", URL)

        assert response.status_code == 200
        assert rig.sleeps == [7.0]

    async def test_a_wait_over_the_cap_is_returned_not_slept(self, rig: Rig) -> None:
        rig.vendor.script = [(429, {"Retry-After": "120"}), (503, {"Retry-After": "3600"})]
        calls = rig.calls(cap=10)

        assert (await calls.send("GET", URL)).status_code == 429
        assert (await calls.send("GET", URL)).status_code == 503
        assert rig.sleeps == []

    async def test_a_429_without_retry_after_is_returned_at_once(self, rig: Rig) -> None:
        rig.vendor.script = [(429, {})]

        assert (await rig.calls().send("GET", URL)).status_code == 429
        assert len(rig.vendor.received) == 1

    def test_values(self) -> None:
        now = FrozenClock().now()
        assert retry_after_seconds("5", now) == 5.0
        assert retry_after_seconds("-5", now) == 0.0
        assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
        assert retry_after_seconds("soon", now) is None
        assert retry_after_seconds("inf", now) is None
        assert retry_after_seconds(None, now) is None


class TestBreaker:
    async def test_opens_per_host_then_lets_a_single_probe_through(self, rig: Rig) -> None:
        rig.vendor.script = [(500, {})] * 2
        calls = rig.calls(max_retries=0, min_calls=2)
        for _ in range(2):
            assert (await calls.send("GET", URL)).status_code == 500

        with pytest.raises(CircuitOpen) as refused:
            await calls.send("GET", URL)
        assert refused.value.retry_after == 5.0
        assert len(rig.vendor.received) == 2
        assert (await calls.send("GET", "http://other.acme.test/v1")).status_code == 200  # another host

        rig.breaker_clock.now = 5.0
        rig.vendor.hold = asyncio.Event()
        rig.vendor.arrived.clear()
        probe = asyncio.create_task(calls.send("GET", URL))
        await rig.vendor.arrived.wait()
        with pytest.raises(CircuitOpen):
            await calls.send("GET", URL)  # while the probe is out, everyone else waits
        rig.vendor.hold.set()
        assert (await probe).status_code == 200

        assert (await calls.send("GET", URL)).status_code == 200  # the probe closed the circuit
        assert len(rig.vendor.received) == 5

    async def test_a_failed_probe_pauses_again(self, rig: Rig) -> None:
        rig.vendor.script = [(500, {})] * 3
        calls = rig.calls(max_retries=0, min_calls=2)
        for _ in range(2):
            await calls.send("GET", URL)
        rig.breaker_clock.now = 5.0

        assert (await calls.send("GET", URL)).status_code == 500
        with pytest.raises(CircuitOpen):
            await calls.send("GET", URL)

    async def test_the_caller_may_name_the_breaker(self, rig: Rig) -> None:
        rig.vendor.script = [(500, {})] * 2
        calls = rig.calls(max_retries=0, min_calls=2)
        for url in (URL, "http://other.acme.test/v1"):
            await calls.send("GET", url, breaker_key="acme:eu")

        with pytest.raises(CircuitOpen) as refused:
            await calls.send("GET", "http://third.acme.test/v1", breaker_key="acme:eu")
        assert refused.value.key == "acme:eu"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Our JSON lines into a buffer, as the app configures them; the previous handlers come back afterwards."""
    root = logging.getLogger()
    previous, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = previous
        root.setLevel(level)


class TestCorrelation:
    async def test_the_request_id_is_sent_and_logged(self, rig: Rig, log_lines: io.StringIO) -> None:
        token = correlation_id.set("0b7e7a6e4c2b4d6f9a1e2f3a4b5c6d7e")
        try:
            await rig.calls(trace_headers={"trace": "x-acme-trace"}).send("GET", URL, log_fields={"operation": "list"})
        finally:
            correlation_id.reset(token)

        assert rig.vendor.received[0].headers["x-request-id"] == "0b7e7a6e4c2b4d6f9a1e2f3a4b5c6d7e"
        lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.strip()]
        completed = next(line for line in lines if line["message"] == "acme.call_completed")
        assert completed["request_id"] == "0b7e7a6e4c2b4d6f9a1e2f3a4b5c6d7e"
        expected = {
            "status": 200,
            "method": "GET",
            "host": "api.acme.test",
            "path": "/v1/things",
            "operation": "list",
            "attempt": 0,
            "trace": None,
        }
        assert {key: completed.get(key, "missing") for key in expected} == expected

    async def test_no_request_id_outside_a_request_and_the_callers_own_wins(self, rig: Rig) -> None:
        calls = rig.calls()
        await calls.send("GET", URL)
        token = correlation_id.set("from-the-request")
        try:
            await calls.send("GET", URL, headers={"X-Request-ID": "chosen-by-caller"})
        finally:
            correlation_id.reset(token)

        assert [r.headers.get("x-request-id") for r in rig.vendor.received] == [None, "chosen-by-caller"]
