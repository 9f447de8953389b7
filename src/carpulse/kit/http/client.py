"""One vendor's calls: a timeout on each, bounded retries where repeating is safe, `Retry-After` honoured,
a circuit breaker per host and our request id sent along. Vendor clients map what is left to their errors."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_correlation_id import correlation_id

from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.http.retry_after import retry_after_seconds
from carpulse.kit.logs import get_logger
from carpulse.kit.resilience import CircuitBreakers, backoff_delay

log = get_logger("carpulse.kit.http")

# RFC 9110 §9.2.2: repeating these has the effect of sending them once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try again, and the longest `Retry-After` we wait for (a longer one is surfaced at once)."""

    max_retries: int = 2
    retry_after_cap_seconds: float = 10.0


@dataclass
class Attempts:
    """The retries one logical call has used; pass the same one to each re-send (after a token refresh, a
    regional redirect) so they draw on one budget."""

    retries: int = 0


class CircuitOpen(Exception):
    """The breaker for `key` refuses calls for about `retry_after` seconds."""

    def __init__(self, key: str, retry_after: float) -> None:
        super().__init__(f"circuit {key} is open; next probe in {retry_after:.1f} s")
        self.key = key
        self.retry_after = retry_after


def _header_retry_after(response: httpx.Response, clock: Clock) -> float | None:
    return retry_after_seconds(response.headers.get("retry-after"), clock.now())


class VendorHttp:
    """Sends requests for one vendor (`vendor` names its log events) and returns the last answer.

    Connection errors, timeouts, 5xx and 429 are retried only when the request is safe to repeat: an
    idempotent method, or the caller vouches for it (`retry_safe=True`, e.g. it carries an idempotency key).
    A `Retry-After` within the cap is slept exactly; a longer one ends the retries. A 5xx without one waits a
    full-jitter backoff; a 429 without one is returned at once. When retries run out the last answer is
    returned, or the last `httpx.TransportError` raised; a refusing breaker raises `CircuitOpen`.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        vendor: str,
        timeout_seconds: float = 15.0,
        policy: RetryPolicy = RetryPolicy(),
        breakers: CircuitBreakers | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Clock = system_clock,
        retry_after: Callable[[httpx.Response], float | None] | None = None,
        trace_headers: Mapping[str, str] | None = None,
        correlation_header: str = "X-Request-ID",
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self.vendor = vendor
        self.timeout = timeout_seconds
        self.policy = policy
        self.breakers = breakers
        self.sleep = sleep
        self.clock = clock
        self.retry_after = retry_after or (lambda response: _header_retry_after(response, self.clock))
        # Log field -> response header naming the vendor's trace id (e.g. {"txid": "x-txid"}).
        self.trace_headers = dict(trace_headers or {})
        self.correlation_header = correlation_header
        self.rng = rng

    async def send(
        self,
        method: str,
        url: str,
        *,
        retry_safe: bool | None = None,
        breaker_key: str | None = None,
        attempts: Attempts | None = None,
        on_answer: Callable[[httpx.Response], None] | None = None,
        log_fields: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send `method url` (the rest goes to `httpx.AsyncClient.request`); `on_answer` sees every response.

        `retry_safe` None lets the method decide; `breaker_key` defaults to the URL's host.
        """
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if retry_safe is None else retry_safe
        attempts = attempts if attempts is not None else Attempts()
        target = self.http.base_url.join(url)
        key = breaker_key or target.host
        breaker = self.breakers.get(key) if self.breakers is not None else None
        sent_headers = dict(headers or {})
        request_id = correlation_id.get()
        if request_id and self.correlation_header.lower() not in {name.lower() for name in sent_headers}:
            sent_headers[self.correlation_header] = request_id
        fields = {"method": method, "host": target.host, "path": target.path, **(log_fields or {})}
        while True:
            if breaker is not None and breaker.refuses():
                wait = breaker.retry_after()
                log.warning(f"{self.vendor}.call_refused", breaker=key, retry_after=round(wait, 1), **fields)
                raise CircuitOpen(key, wait)
            started = time.perf_counter()
            try:
                response = await self.http.request(method, url, headers=sent_headers, timeout=self.timeout, **kwargs)
            except httpx.TransportError as exc:
                if breaker is not None:
                    breaker.record_failure()
                log.warning(f"{self.vendor}.call_failed", error=type(exc).__name__, attempt=attempts.retries, **fields)
                if safe and attempts.retries < self.policy.max_retries:
                    await self._pause(backoff_delay(attempts.retries, rng=self.rng), attempts, fields)
                    continue
                raise
            if on_answer is not None:
                on_answer(response)
            status = response.status_code
            log.info(
                f"{self.vendor}.call_completed",
                status=status,
                attempt=attempts.retries,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                **fields,
                **{field: response.headers.get(header) for field, header in self.trace_headers.items()},
            )
            if breaker is not None:
                if status >= 500:
                    breaker.record_failure()
                else:
                    breaker.record_success()
            delay = self._retry_delay(response, attempts) if safe else None
            if delay is None:
                return response
            await self._pause(delay, attempts, fields)

    def _retry_delay(self, response: httpx.Response, attempts: Attempts) -> float | None:
        status = response.status_code
        if (status != 429 and status < 500) or attempts.retries >= self.policy.max_retries:
            return None
        asked = self.retry_after(response)
        if asked is not None:
            return asked if asked <= self.policy.retry_after_cap_seconds else None
        if status == 429:
            return None
        return backoff_delay(attempts.retries, rng=self.rng)

    async def _pause(self, seconds: float, attempts: Attempts, fields: Mapping[str, Any]) -> None:
        log.info(f"{self.vendor}.call_retried", delay_s=round(seconds, 3), attempt=attempts.retries + 1, **fields)
        await self.sleep(seconds)
        attempts.retries += 1
