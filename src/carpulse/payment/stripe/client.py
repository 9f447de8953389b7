"""The official SDK's `StripeClient`, sending through our injected `httpx.AsyncClient`.

`stripe.HTTPXClient` builds its own `httpx.AsyncClient`, so its transport (an ASGI fake in tests
and the sandbox), timeouts and lifetime would not be ours; this subclass only forwards requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, NoReturn, cast

import httpx
import stripe

DEFAULT_API_BASE = "https://api.stripe.com"
# The SDK leaves `APIConnectionError.__init__` unannotated; this is its signature as we call it.
_connection_error = cast("Callable[..., stripe.APIConnectionError]", stripe.APIConnectionError)


class InjectedHTTPClient(stripe.HTTPClient):
    """Async-only: the SDK's `_async` methods go through `http`; the SDK's retry loop stays the SDK's."""

    name = "carpulse-httpx"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        timeout_seconds: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self.http = http
        self.timeout = timeout_seconds
        self.sleep = sleep

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = await self.http.request(
                method, url, headers=dict(headers), content=post_data, timeout=self.timeout
            )
        except httpx.TransportError as exc:
            # should_retry: every POST carries an idempotency key, so a resend cannot pay twice.
            raise _connection_error(f"Stripe could not be reached ({type(exc).__name__}).", should_retry=True) from exc
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return self.sleep(secs)

    async def close_async(self) -> None:
        """The injected client belongs to whoever built it (the lifespan); nothing to close here."""

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        self._sync_refused()

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        self._sync_refused()

    async def request_stream_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[AsyncIterable[bytes], int, Mapping[str, str]]:
        request = self.http.build_request(method, url, headers=dict(headers), content=post_data, timeout=self.timeout)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _connection_error(f"Stripe could not be reached ({type(exc).__name__}).", should_retry=True) from exc

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_bytes():
                    yield chunk
            finally:
                await response.aclose()

        return body(), response.status_code, response.headers

    def close(self) -> None:
        """Nothing to close (see `close_async`)."""

    @staticmethod
    def _sync_refused() -> NoReturn:
        raise RuntimeError("the Stripe client is async-only: call the `_async` methods")


def build_stripe_client(
    http: httpx.AsyncClient,
    *,
    secret_key: str,
    api_base: str | None = None,
    timeout_seconds: float = 30.0,
    max_network_retries: int = 2,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> stripe.StripeClient:
    """A `StripeClient` over `http`; retries are safe because every POST we send carries an idempotency key."""
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": (api_base or DEFAULT_API_BASE).rstrip("/")},
        http_client=InjectedHTTPClient(http, timeout_seconds=timeout_seconds, sleep=sleep),
        max_network_retries=max_network_retries,
    )
