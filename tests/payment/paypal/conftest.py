"""Our PayPal client and gateway wired to the PayPal fake by transport (no server, no app)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from carpulse.kit.clock import FrozenClock
from carpulse.payment.gateway import CheckoutRequest, CheckoutStarted
from carpulse.payment.paypal.adapter import PayPalGateway
from fakes.paypal import PayPalFake

BASE = "http://paypal.test"
WEBHOOK_ID = "WH-SANDBOX"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to the fake and remembers every request; can refuse the next connections."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.refuse_connections = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.refuse_connections:
            self.refuse_connections -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.requests if method is None or r.method == method]


@dataclass
class Inbox:
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    async def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((body, headers))
        return 202

    def last(self, event_type: str) -> tuple[bytes, dict[str, str]]:
        for body, headers in reversed(self.received):
            if f'"event_type":"{event_type}"'.encode() in body:
                return body, headers
        raise AssertionError(f"no {event_type} delivered")


@dataclass
class PayPalRig:
    fake: PayPalFake
    http: httpx.AsyncClient
    transport: RecordingTransport
    gateway: PayPalGateway
    clock: FrozenClock
    inbox: Inbox
    sleeps: list[float]

    def checkout(
        self, order_id: str = "ord_7Hk2", amount_cents: int = 1900, *, locale: str = "fi", key: str | None = None
    ) -> CheckoutRequest:
        return CheckoutRequest(
            order_id=order_id,
            amount_cents=amount_cents,
            currency="EUR",
            description="Basic vehicle report",
            locale=locale,
            success_url=f"https://app.example/paid?order={order_id}",
            cancel_url=f"https://app.example/cancelled?order={order_id}",
            idempotency_key=key or f"order:{order_id}:pp-create",
        )

    async def buyer(self, started: CheckoutStarted, outcome: str = "approve") -> httpx.Response:
        """The buyer's browser on the approval page, choosing `outcome`."""
        assert started.redirect_url is not None
        url = httpx.URL(started.redirect_url)
        return await self.http.get(url.copy_merge_params({"sandbox_outcome": outcome}))

    async def approved(self, amount_cents: int = 1900, outcome: str = "approve") -> CheckoutStarted:
        started = await self.gateway.create_payment(self.checkout(amount_cents=amount_cents))
        response = await self.buyer(started, outcome)
        assert response.status_code == 303
        return started

    def gateway_with(self, **overrides: object) -> PayPalGateway:
        options: dict[str, object] = {
            "client_id": self.fake.client_id,
            "client_secret": self.fake.client_secret,
            "webhook_id": WEBHOOK_ID,
            "api_base": BASE,
            "certificate_hosts": [urlsplit(BASE).netloc],
            "http": self.http,
            "clock": self.clock,
            "sleep": self._sleep,
        } | overrides
        return PayPalGateway(**options)  # type: ignore[arg-type]

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
async def paypal() -> AsyncIterator[PayPalRig]:
    clock = FrozenClock()
    inbox = Inbox()
    fake = PayPalFake(webhook_id=WEBHOOK_ID, send_webhook=inbox, clock=clock.now, base_url=BASE)
    transport = RecordingTransport(httpx.ASGITransport(app=fake.app))
    async with httpx.AsyncClient(transport=transport) as http:
        rig = PayPalRig(fake, http, transport, gateway=None, clock=clock, inbox=inbox, sleeps=[])  # type: ignore[arg-type]
        rig.gateway = rig.gateway_with()
        yield rig
