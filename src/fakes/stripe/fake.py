"""`StripeFake`: the state of a fake Stripe account and the ASGI app the official SDK talks to."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fakes.stripe import api, hosted_page
from fakes.stripe.api import ApiRequest, Faults, InjectedError, StoredResponse
from fakes.stripe.errors import StripeApiError
from fakes.stripe.ledger import Ledger, Outcome, payment_method_configuration
from fakes.stripe.webhooks import Delivery, SendWebhook, Webhooks


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
    parent.include_router(hosted_page.router)
    return tuple(parent.routes)


class RequestIdHeader:
    """Every response carries `Request-Id: req_…` (the SDK reads it); handlers find it in `request.state`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(7)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Request-Id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class StripeFake:
    """A fake Stripe account: `/v1` API, hosted Checkout page at `/checkout/{id}`, signed webhooks.

    Mount it (`/_sandbox/stripe`) or put it behind `httpx.ASGITransport`; point the SDK at it with
    `base_addresses={"api": <its root>}`. Events are delivered inside the request that caused them
    when `auto_deliver` is on, else they wait in the outbox for `deliver_pending()`. An expiry the
    clock caused and an API call noticed is only queued (`expire_due()` or the hosted page deliver
    it), so a client awaiting that API answer is never called back by its own webhook.
    """

    def __init__(
        self,
        *,
        api_key: str = "sk_test_sandbox",
        webhook_secret: str = "whsec_sandbox",  # noqa: S107 - the sandbox's published secret
        webhook_url: str | None = None,
        send_webhook: SendWebhook | None = None,
        clock: Callable[[], datetime] | None = None,
        auto_deliver: bool = True,
        payment_method_configurations: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.api_key = api_key
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.auto_deliver = auto_deliver
        self.ledger = Ledger(self.clock)
        # Configurations made in the account's Dashboard beforehand: id → the methods turned on.
        for configuration_id, methods in (payment_method_configurations or {}).items():
            self.ledger.configurations[configuration_id] = payment_method_configuration(
                configuration_id, configuration_id, set(methods)
            )
        self.webhooks = Webhooks(webhook_secret, self.clock, webhook_url, send_webhook)
        self.faults = Faults()
        self.idempotency: dict[str, StoredResponse] = {}
        self.requests: list[ApiRequest] = []
        self.overdue: set[str] = set()  # ids of queued expiry events that API calls noticed
        self.app = self._create_app()

    def _create_app(self) -> FastAPI:
        app = FastAPI(title="Stripe API fake", version="1", docs_url=None, redoc_url=None, openapi_url=None)
        app.state.fake = self
        app.add_middleware(RequestIdHeader)
        app.router.routes.extend(_included_routes())
        return app

    # -- what tests read -------------------------------------------------------------------------

    @property
    def sessions(self) -> dict[str, dict[str, Any]]:
        return self.ledger.sessions

    @property
    def payment_intents(self) -> dict[str, dict[str, Any]]:
        return self.ledger.payment_intents

    @property
    def charges(self) -> dict[str, dict[str, Any]]:
        return self.ledger.charges

    @property
    def refunds(self) -> dict[str, dict[str, Any]]:
        return self.ledger.refunds

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far, oldest first."""
        return list(self.ledger.events.values())

    @property
    def deliveries(self) -> list[Delivery]:
        return self.webhooks.deliveries

    @property
    def pending_events(self) -> list[dict[str, Any]]:
        """Events not yet acknowledged by the webhook endpoint with a 2xx."""
        return [self.ledger.events[event_id] for event_id in self.webhooks.outbox]

    @property
    def webhook_url(self) -> str | None:
        return self.webhooks.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self.webhooks.url = url

    def event_body(self, event_id: str) -> bytes:
        """The exact bytes delivered for an event (what its signature covers)."""
        return self.webhooks.bodies[event_id]

    # -- what tests do ---------------------------------------------------------------------------

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        """A `Stripe-Signature` header value for `payload` (now, or at `timestamp`)."""
        return self.webhooks.sign(payload, timestamp)

    async def publish(self, events: list[dict[str, Any]]) -> list[Delivery]:
        """Queue events; with `auto_deliver`, send them now (each once, in order)."""
        self.webhooks.enqueue(events)
        if not self.auto_deliver or not events:
            return []
        return await self.webhooks.deliver([event["id"] for event in events])

    async def deliver_pending(self, duplicates: int = 0, shuffle: bool = False, seed: int = 0) -> list[Delivery]:
        """Send every queued event (each `1 + duplicates` times, shuffled by `seed` on request)."""
        return await self.webhooks.deliver(
            list(self.webhooks.outbox), duplicates=duplicates, shuffle=shuffle, seed=seed
        )

    async def redeliver(self, event_id: str) -> Delivery:
        """Send one event again, whether or not it was delivered before; KeyError for an unknown id."""
        if event_id not in self.ledger.events:
            raise KeyError(event_id)
        return await self.webhooks.attempt(event_id)

    async def complete_checkout(self, session_id: str, outcome: Outcome, method: str = "card") -> list[Delivery]:
        """What the hosted page's buttons do, without HTTP: `pay`, `decline` or `abandon`."""
        deliveries = await self.publish(self.ledger.touch(session_id))
        return deliveries + await self.publish(self.ledger.settle(session_id, outcome, method))

    async def expire_due(self) -> list[str]:
        """Expire every open session past its `expires_at`, as Stripe does on its own; their ids.

        Expiry events that API calls noticed earlier, and only queued, are delivered with them.
        """
        expired: list[str] = []
        events = [event for event in self.pending_events if event["id"] in self.overdue]
        self.webhooks.outbox[:] = [event_id for event_id in self.webhooks.outbox if event_id not in self.overdue]
        self.overdue.clear()
        for session_id, session in self.ledger.sessions.items():
            found = self.ledger.expire_due(session)
            if found:
                expired.append(session_id)
                events.extend(found)
        await self.publish(events)
        return expired

    def queue_overdue(self, events: list[dict[str, Any]]) -> None:
        """Queue events the clock caused without delivering them now (see the class docstring)."""
        self.webhooks.enqueue(events)
        self.overdue.update(event["id"] for event in events)

    def inject_error(
        self,
        status: int,
        message: str = "An error occurred with our connection to Stripe.",
        *,
        type: str = "api_error",  # Stripe's field name
        code: str | None = None,
        times: int = 1,
        should_retry: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` authenticated `/v1` requests with this error instead.

        `should_retry` sets `Stripe-Should-Retry`, which the SDK obeys over its own rules.
        """
        error = StripeApiError(status, message, type=type, code=code, headers=headers)
        self.faults.queue.append(InjectedError(error, times, should_retry))

    def reset(self) -> None:
        """Forget every object, event, delivery, stored idempotent response and fault."""
        self.ledger.clear()
        self.webhooks.clear()
        self.faults.queue.clear()
        self.idempotency.clear()
        self.requests.clear()
        self.overdue.clear()

    async def aclose(self) -> None:
        await self.webhooks.aclose()
