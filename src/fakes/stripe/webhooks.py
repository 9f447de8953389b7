"""Signed webhook delivery (reference §2.11): an outbox, duplicates and reordering on request.

Each attempt is signed afresh (`t` is the attempt's time), as Stripe does on retries; the body of
an event never changes once the event exists.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NamedTuple

import httpx

SendWebhook = Callable[[str, bytes, dict[str, str]], Awaitable[int]]
# Where events go when a `send_webhook` callable is given without a URL: our app's endpoint.
DEFAULT_WEBHOOK_PATH = "/api/v1/payment/webhook/stripe"
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """`t=…,v1=…`: HMAC-SHA256 over `"{t}.{payload}"` keyed with the whole `whsec_…` string."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def event_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, indent=2, ensure_ascii=False).encode()


class Delivery(NamedTuple):
    """One attempt: `status_code` 0 means the endpoint could not be reached."""

    url: str
    event_id: str
    status_code: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class Webhooks:
    """The outbox of events not yet acknowledged with a 2xx, and the log of every attempt."""

    def __init__(
        self,
        secret: str,
        clock: Callable[[], datetime],
        url: str | None,
        send: SendWebhook | None,
    ) -> None:
        self.secret = secret
        self.clock = clock
        self.url = url
        self.send = send
        self.bodies: dict[str, bytes] = {}
        self.outbox: list[str] = []
        self.deliveries: list[Delivery] = []
        self._http: httpx.AsyncClient | None = None

    @property
    def target(self) -> str | None:
        if self.send is not None:
            return self.url or DEFAULT_WEBHOOK_PATH
        return self.url

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        return signature_header(payload, self.secret, int(self.clock().timestamp()) if timestamp is None else timestamp)

    def enqueue(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.bodies[event["id"]] = event_body(event)
            self.outbox.append(event["id"])

    async def attempt(self, event_id: str) -> Delivery:
        target = self.target
        if target is None:
            raise RuntimeError("no webhook_url or send_webhook is configured")
        body = self.bodies[event_id]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": self.sign(body),
        }
        try:
            if self.send is not None:
                status = await self.send(target, body, headers)
            else:
                if self._http is None:
                    self._http = httpx.AsyncClient(timeout=10.0)
                status = (await self._http.post(target, content=body, headers=headers)).status_code
        except httpx.HTTPError:
            status = 0
        delivery = Delivery(target, event_id, status)
        self.deliveries.append(delivery)
        if delivery.ok and event_id in self.outbox:
            self.outbox.remove(event_id)
        return delivery

    async def deliver(
        self, event_ids: list[str], *, duplicates: int = 0, shuffle: bool = False, seed: int = 0
    ) -> list[Delivery]:
        """Send each event `1 + duplicates` times, in order or shuffled by `seed`."""
        if self.target is None:
            return []
        sequence = [event_id for event_id in event_ids for _ in range(1 + max(0, duplicates))]
        if shuffle:
            random.Random(seed).shuffle(sequence)  # noqa: S311 - reproducible test orderings
        return [await self.attempt(event_id) for event_id in sequence]

    def clear(self) -> None:
        self.bodies.clear()
        self.outbox.clear()
        self.deliveries.clear()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
