"""`PayPalFake`: the state of a fake PayPal REST host (Orders v2, Payments v2, webhooks) and the ASGI app serving it."""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fakes.paypal import api, checkout
from fakes.paypal.errors import debug_id
from fakes.paypal.orders import Capture, Order, Refund, new_id
from fakes.paypal.webhooks import (
    AUTH_ALGO,
    Delivery,
    Signer,
    WebhookEvent,
    envelope,
    event_id,
    serialize,
    signed_message,
)
from fakes.paypal.webhooks import transmission_time as format_transmission_time

SendWebhook = Callable[[str, bytes, dict[str, str]], Awaitable[int]]
OPERATIONS = frozenset(
    {
        "token",
        "create_order",
        "get_order",
        "capture_order",
        "get_capture",
        "refund_capture",
        "get_refund",
        "verify_webhook_signature",
    }
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def _included_routes() -> tuple[BaseRoute, ...]:
    """The fake's routers, included once per process: every fake's app shares these inclusions.

    FastAPI prepares an included route on first use and keeps it on the inclusion, so apps that
    share inclusions prepare each route once; handlers find their fake through `api.fake_of`.
    """
    parent = APIRouter()
    parent.include_router(api.router)
    parent.include_router(checkout.router)
    return tuple(parent.routes)


@dataclass
class Fault:
    """An injected failure: the next `count` calls of `operation` (None: any) answer `status`.

    With `applied=True` the operation takes effect first and only its answer is lost — what a
    client sees when a response times out after PayPal did the work.
    """

    status: int
    operation: str | None = None
    count: int = 1
    retry_after: int | None = None
    issue: str | None = None
    applied: bool = False


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    status: int
    request_id: str | None


class DebugIdHeader:
    """Every response carries `PayPal-Debug-Id`; every request is logged in `fake.calls`."""

    def __init__(self, app: ASGIApp, fake: PayPalFake) -> None:
        self.app = app
        self.fake = fake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode().lower(): value.decode() for key, value in scope.get("headers", [])}

        async def send_with_debug_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                if "paypal-debug-id" not in response_headers:
                    response_headers["PayPal-Debug-Id"] = debug_id()
                path: str = scope["path"]
                root: str = scope.get("root_path", "")
                if root and path.startswith(root):
                    path = path[len(root) :]
                self.fake.calls.append(Call(scope["method"], path, message["status"], headers.get("paypal-request-id")))
            await send(message)

        await self.app(scope, receive, send_with_debug_id)


class PayPalFake:
    """A PayPal REST host: OAuth, Orders v2, captures and refunds, a hosted approval page, signed webhooks.

    `clock` returns an aware UTC datetime; token expiry and timestamps follow it. Webhooks go to
    `send_webhook(url, body, headers)` when given, else are POSTed to `webhook_url`; with
    `auto_deliver` each event is delivered inside the request that caused it.
    """

    def __init__(
        self,
        *,
        client_id: str = "paypal-sandbox-client",
        client_secret: str = "paypal-sandbox-secret",  # noqa: S107 - the sandbox's published credential
        webhook_id: str = "WH-SANDBOX",
        webhook_url: str | None = None,
        send_webhook: SendWebhook | None = None,
        clock: Callable[[], datetime] | None = None,
        auto_deliver: bool = True,
        access_token_lifetime_seconds: int = 32400,
        base_url: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.webhook_url = webhook_url
        self.send_webhook = send_webhook
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.auto_deliver = auto_deliver
        self.access_token_lifetime = timedelta(seconds=access_token_lifetime_seconds)
        self.app_id = f"APP-{new_id(length=17)}"
        # The root URL the API is reached at: fixed, or the last one an API call came in on. Links in
        # webhooks (and the certificate URL) use it, so whoever calls the API can follow them.
        self.fixed_base_url = base_url.rstrip("/") if base_url else None
        self.api_root = self.fixed_base_url or "http://paypal.fake"
        self.signer = Signer(self.clock())
        self.tokens: dict[str, datetime] = {}
        self.orders: dict[str, Order] = {}
        self.captures: dict[str, Capture] = {}
        self.refunds: dict[str, Refund] = {}
        self.request_ids: dict[tuple[str, str], str] = {}
        self.events: list[WebhookEvent] = []
        self.deliveries: list[Delivery] = []
        self.pending: list[str] = []
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self._http: httpx.AsyncClient | None = None
        self.app = self._create_app()

    def _create_app(self) -> FastAPI:
        app = FastAPI(title="PayPal REST fake", version="2", docs_url=None, redoc_url=None, openapi_url=None)
        app.state.fake = self
        app.add_middleware(DebugIdHeader, fake=self)
        app.router.routes.extend(_included_routes())
        return app

    # --- tokens -------------------------------------------------------------------------------

    def issue_token(self) -> tuple[str, int]:
        token = f"A21AA{secrets.token_urlsafe(48)}"
        self.tokens[token] = self.clock() + self.access_token_lifetime
        return token, int(self.access_token_lifetime.total_seconds())

    def token_valid(self, token: str) -> bool:
        expires_at = self.tokens.get(token)
        return expires_at is not None and self.clock() < expires_at

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired: the next API call with one answers 401."""
        expired = self.clock() - timedelta(seconds=1)
        for token in self.tokens:
            self.tokens[token] = expired

    # --- faults and controls ------------------------------------------------------------------

    def inject_fault(
        self,
        status: int,
        *,
        operation: str | None = None,
        count: int = 1,
        retry_after: int | None = None,
        issue: str | None = None,
        applied: bool = False,
    ) -> None:
        """Make the next `count` calls of `operation` (one of `OPERATIONS`, None: any) fail with `status`."""
        if operation is not None and operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {sorted(OPERATIONS)}")
        if count < 1 or not 400 <= status <= 599:
            raise ValueError("a fault needs count >= 1 and an error status")
        self.faults.append(Fault(status, operation, count, retry_after, issue, applied))

    def take_fault(self, operation: str) -> Fault | None:
        for fault in self.faults:
            if fault.operation in (None, operation):
                fault.count -= 1
                if fault.count == 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def approve_order(self, order_id: str, *, decline_capture: bool = False) -> Order:
        """What the buyer's approval does; `decline_capture` makes the later capture come back DECLINED."""
        order = self.orders[order_id]
        if order.status == "APPROVED":
            return order
        if order.status not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            raise ValueError(f"order {order_id} is {order.status} and cannot be approved")
        locale = str(order.experience.get("locale") or "")
        country = locale.rsplit("-", 1)[-1] if "-" in locale else "FI"
        order.payer = {
            "payer_id": new_id(length=13),
            "email_address": "sb-buyer@personal.example.com",
            "name": {"given_name": "Sandbox", "surname": "Buyer"},
            "address": {"country_code": country},
        }
        order.status = "APPROVED"
        order.decline_capture = decline_capture
        order.update_time = self.clock()
        await self.emit(
            "CHECKOUT.ORDER.APPROVED",
            "checkout-order",
            "An order has been approved by buyer",
            api.order_resource(self, order),
        )
        return order

    def void_order(self, order_id: str) -> Order:
        """PayPal voids an order nobody captured in time; the order then answers VOIDED."""
        order = self.orders[order_id]
        if order.status == "COMPLETED":
            raise ValueError(f"order {order_id} is completed and cannot be voided")
        order.status = "VOIDED"
        order.update_time = self.clock()
        return order

    # --- webhooks -----------------------------------------------------------------------------

    @property
    def certificate_pem(self) -> bytes:
        return self.signer.certificate_pem

    @property
    def cert_url(self) -> str:
        return f"{self.api_root}/v1/notifications/certs/{self.signer.name}"

    def sign(
        self, body: bytes, transmission_id: str | None = None, transmission_time: str | None = None
    ) -> dict[str, str]:
        """The `PAYPAL-*` headers PayPal sends with `body`, signed with the fake's key for `webhook_id`."""
        ident = transmission_id or str(uuid.uuid4())
        sent_at = transmission_time or format_transmission_time(self.clock())
        signature = self.signer.sign(signed_message(ident, sent_at, self.webhook_id, body))
        return {
            "PAYPAL-TRANSMISSION-ID": ident,
            "PAYPAL-TRANSMISSION-TIME": sent_at,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-CERT-URL": self.cert_url,
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            "PAYPAL-AUTH-VERSION": "v2",
        }

    async def emit(self, event_type: str, resource_type: str, summary: str, resource: dict[str, Any]) -> WebhookEvent:
        ident, now = event_id(), self.clock()
        payload = envelope(ident, event_type, resource_type, summary, resource, now, self.api_root)
        event = WebhookEvent(ident, event_type, resource_type, serialize(payload), now)
        self.events.append(event)
        self.pending.append(ident)
        if self.auto_deliver and (self.send_webhook is not None or self.webhook_url is not None):
            await self._deliver(event)
        return event

    def event(self, ident: str) -> WebhookEvent:
        for event in self.events:
            if event.id == ident:
                return event
        raise KeyError(f"no webhook event {ident!r}")

    async def deliver_pending(
        self, duplicates: int = 0, shuffle: bool = False, seed: int = 0, concurrency: int = 1
    ) -> list[Delivery]:
        """Deliver every undelivered event, each `1 + duplicates` times, optionally in a seeded random order.

        An event leaves the outbox once a delivery of it is answered 2xx; `concurrency` > 1 sends
        that many deliveries at a time (in the same order of starting).
        """
        if duplicates < 0 or concurrency < 1:
            raise ValueError("duplicates >= 0 and concurrency >= 1")
        batch = [self.event(ident) for ident in list(self.pending) for _ in range(duplicates + 1)]
        if shuffle:
            random.Random(seed).shuffle(batch)  # noqa: S311 - a reproducible order, not security
        if concurrency == 1:
            return [await self._deliver(event) for event in batch]
        gate = asyncio.Semaphore(concurrency)

        async def send(event: WebhookEvent) -> Delivery:
            async with gate:
                return await self._deliver(event)

        return list(await asyncio.gather(*(send(event) for event in batch)))

    async def redeliver(self, event_id: str) -> Delivery:
        """Send an event again (PayPal's resend), with a fresh transmission id and signature."""
        return await self._deliver(self.event(event_id))

    async def _deliver(self, event: WebhookEvent) -> Delivery:
        headers = {"Content-Type": "application/json", "User-Agent": "PayPal/AUHD-214.0-fake", **self.sign(event.body)}
        url = self.webhook_url or ""
        status: int | None = None
        error: str | None = None
        try:
            if self.send_webhook is not None:
                status = await self.send_webhook(url, event.body, headers)
            elif self.webhook_url is not None:
                if self._http is None:
                    self._http = httpx.AsyncClient(timeout=10.0)
                status = (await self._http.post(self.webhook_url, content=event.body, headers=headers)).status_code
            else:
                error = "no webhook_url or send_webhook configured"
        except Exception as exc:  # a failing listener is recorded, never raised: PayPal just retries later
            error = f"{type(exc).__name__}: {exc}"
        delivery = Delivery(
            event_id=event.id,
            event_type=event.event_type,
            url=url,
            transmission_id=headers["PAYPAL-TRANSMISSION-ID"],
            headers=headers,
            body=event.body,
            status_code=status,
            error=error,
            delivered_at=self.clock(),
        )
        self.deliveries.append(delivery)
        if delivery.ok and event.id in self.pending:
            self.pending.remove(event.id)
        return delivery

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
