"""A typed client for PayPal's REST API (OAuth client credentials, Orders v2, Payments v2), over an injected
`httpx.AsyncClient`. Facts: shared/reference/payments.md §3.

Every POST carries a `PayPal-Request-Id`, so every call this client makes is safe to repeat: connection
errors, timeouts and 5xx are retried with backoff, a 429 after its `Retry-After` (when short). A 401 on
an API call drops the cached token and retries once with a fresh one.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.http import CircuitOpen, RetryPolicy, VendorHttp, retry_after_seconds
from carpulse.kit.logs import get_logger
from carpulse.kit.resilience import CircuitBreakers
from carpulse.payment.paypal.errors import (
    PayPalError,
    PayPalRateLimited,
    PayPalTimeout,
    PayPalUnavailable,
    error_for,
)
from carpulse.payment.paypal.schemas import (
    Capture,
    ErrorBody,
    Order,
    OrderCreate,
    Refund,
    RefundCreate,
    TokenResponse,
)

log = get_logger("carpulse.paypal")

MAX_REQUEST_ID = 108  # PayPal-Request-Id is at most 108 characters (reference §3.2)
MAX_CERTIFICATE_BYTES = 64 * 1024
_Model = TypeVar("_Model", bound=BaseModel)


def request_id_for(key: str) -> str:
    """Our idempotency key as a `PayPal-Request-Id`: itself when it fits, else a stable digest of it."""
    if 0 < len(key) <= MAX_REQUEST_ID and key.isascii() and key.isprintable():
        return key
    return f"sha256-{hashlib.sha256(key.encode()).hexdigest()}"


def _error_body(response: httpx.Response) -> ErrorBody:
    try:
        return ErrorBody.model_validate(response.json())
    except (ValueError, ValidationError):
        return ErrorBody()


class PayPalClient:
    """The calls we make to PayPal, with the OAuth token cached until shortly before it expires."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str,
        client_id: str,
        client_secret: str,
        timeout_seconds: float = 15.0,
        max_retries: int = 2,
        retry_after_cap_seconds: float = 10.0,
        token_refresh_margin_seconds: float = 120.0,
        breakers: CircuitBreakers | None = None,
        clock: Clock = system_clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.api_base = api_base.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_refresh_margin = token_refresh_margin_seconds
        self.clock = clock
        self.calls = VendorHttp(
            http,
            vendor="paypal",
            timeout_seconds=timeout_seconds,
            policy=RetryPolicy(max_retries=max_retries, retry_after_cap_seconds=retry_after_cap_seconds),
            breakers=breakers or CircuitBreakers(),
            sleep=sleep,
            clock=clock,
            trace_headers={"debug_id": "paypal-debug-id"},
        )
        self._token: str | None = None
        self._token_expires_at = 0.0  # on the monotonic clock
        self._token_lock = asyncio.Lock()
        self.tokens_fetched = 0

    # --- OAuth ------------------------------------------------------------------------------------

    async def access_token(self) -> str:
        """A cached bearer token, fetched again shortly before it expires (one fetch for concurrent callers)."""
        if self._token is not None and self.clock.monotonic() < self._token_expires_at:
            return self._token
        async with self._token_lock:
            if self._token is not None and self.clock.monotonic() < self._token_expires_at:
                return self._token
            token = await self._fetch_token()
            margin = min(self.token_refresh_margin, token.expires_in / 2)
            self._token = token.access_token
            self._token_expires_at = self.clock.monotonic() + token.expires_in - margin
            return self._token

    def forget_token(self, rejected: str | None = None) -> None:
        """Drop the cached token (only if it is still `rejected`, so a fresh one is not thrown away)."""
        if rejected is None or self._token == rejected:
            self._token = None
            self._token_expires_at = 0.0

    async def _fetch_token(self) -> TokenResponse:
        response = await self._send(
            "POST",
            f"{self.api_base}/v1/oauth2/token",
            operation="token",
            auth=(self.client_id, self.client_secret),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise self._error(response, "token")
        self.tokens_fetched += 1
        return self._parse(response, TokenResponse, "token")

    # --- Orders v2 and Payments v2 ------------------------------------------------------------------

    async def create_order(self, order: OrderCreate, *, request_id: str) -> Order:
        body = order.model_dump(mode="json", exclude_none=True)
        response = await self._api("POST", "/v2/checkout/orders", "create_order", body=body, request_id=request_id)
        return self._parse(response, Order, "create_order")

    async def get_order(self, order_id: str) -> Order:
        response = await self._api("GET", f"/v2/checkout/orders/{quote(order_id, safe='')}", "get_order")
        return self._parse(response, Order, "get_order")

    async def capture_order(self, order_id: str, *, request_id: str) -> Order:
        path = f"/v2/checkout/orders/{quote(order_id, safe='')}/capture"
        response = await self._api("POST", path, "capture_order", body={}, request_id=request_id)
        return self._parse(response, Order, "capture_order")

    async def get_capture(self, capture_id: str) -> Capture:
        response = await self._api("GET", f"/v2/payments/captures/{quote(capture_id, safe='')}", "get_capture")
        return self._parse(response, Capture, "get_capture")

    async def refund_capture(self, capture_id: str, *, request_id: str, refund: RefundCreate | None = None) -> Refund:
        path = f"/v2/payments/captures/{quote(capture_id, safe='')}/refund"
        body = refund.model_dump(mode="json", exclude_none=True) if refund is not None else {}
        response = await self._api("POST", path, "refund_capture", body=body, request_id=request_id)
        return self._parse(response, Refund, "refund_capture")

    async def fetch_certificate(self, url: str) -> bytes:
        """A webhook signing certificate (PEM); the caller has checked that `url` is on an allowed host."""
        response = await self._send("GET", url, operation="certificate", follow_redirects=False)
        if response.status_code != 200 or len(response.content) > MAX_CERTIFICATE_BYTES:
            log.warning("paypal.certificate_fetch_failed", status=response.status_code, url=url)
            raise PayPalError(f"PayPal's signing certificate could not be fetched ({response.status_code}).")
        return response.content

    # --- plumbing ---------------------------------------------------------------------------------

    async def _api(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        body: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> httpx.Response:
        refreshed = False
        while True:
            token = await self.access_token()
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Prefer": "return=representation",
            }
            if method == "POST":
                headers["PayPal-Request-Id"] = request_id_for(request_id or "")
            response = await self._send(
                method, f"{self.api_base}{path}", operation=operation, headers=headers, json=body
            )
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self.forget_token(token)
                continue
            if response.status_code >= 400:
                raise self._error(response, operation)
            return response

    async def _send(self, method: str, url: str, *, operation: str, **kwargs: Any) -> httpx.Response:
        try:
            # Safe to repeat: a GET, the client-credentials grant, or a POST carrying its PayPal-Request-Id.
            return await self.calls.send(
                method, url, retry_safe=True, breaker_key="paypal", log_fields={"operation": operation}, **kwargs
            )
        except CircuitOpen as exc:
            wait = max(1, round(exc.retry_after))
            raise PayPalUnavailable(
                "PayPal has been failing; we pause calls for a moment.", headers={"Retry-After": str(wait)}
            ) from exc
        except httpx.TimeoutException as exc:
            raise PayPalTimeout("PayPal did not answer in time; try again shortly.") from exc
        except httpx.TransportError as exc:
            raise PayPalUnavailable("PayPal cannot be reached right now.") from exc

    def _error(self, response: httpx.Response, operation: str) -> PayPalError:
        body = _error_body(response)
        status, issue = response.status_code, body.issue
        debug_id = body.debug_id or response.headers.get("paypal-debug-id")
        log.warning("paypal.call_rejected", operation=operation, status=status, issue=issue, debug_id=debug_id)
        error_cls = error_for(status, issue)
        if error_cls is PayPalRateLimited or status == 429:
            retry_in = str(round(retry_after_seconds(response.headers.get("retry-after"), self.clock.now()) or 60))
            return PayPalRateLimited(
                f"PayPal asks us to wait {retry_in} s before calling again.", headers={"Retry-After": retry_in}
            )
        description = next((d.description for d in body.details if d.description), None)
        description = description or body.error_description or body.message or response.reason_phrase
        extensions: dict[str, Any] = {
            key: value for key, value in (("paypal_issue", issue), ("paypal_debug_id", debug_id)) if value
        }
        return error_cls(f"PayPal answered {status} ({issue or 'no issue given'}): {description}", **extensions)

    def _parse(self, response: httpx.Response, model: type[_Model], operation: str) -> _Model:
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            log.warning("paypal.unreadable_answer", operation=operation, status=response.status_code)
            raise PayPalError("PayPal sent an answer we cannot read.") from exc
