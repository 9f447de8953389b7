"""Named rate-limit policies on the `limits` library (memory or Redis storage).

A policy is a name (`login`, `payment`, ...) and a rate (`5/minute`) from settings. Callers
hit a policy with the identifiers that key it (client IP, IP + username, account id). Each
decision is recorded on the request, and `RateLimitHeadersMiddleware` writes the tightest one's
`RateLimit-*` headers on whatever response the endpoint returns.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carpulse.errors import RateLimited
from carpulse.kit.client_ip import Network, client_ip
from carpulse.kit.logs import get_logger

log = get_logger("carpulse.rate_limit")

# Where a request's decisions wait for the response: a list the middleware puts in the ASGI scope.
_DECISIONS = "carpulse.rate_limit_decisions"


@dataclass(frozen=True)
class RateLimitDecision:
    policy: str
    item: RateLimitItem
    remaining: int
    reset_at: float

    @property
    def reset_after(self) -> int:
        return max(0, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict[str, str]:
        window = self.item.get_expiry()
        return {
            "RateLimit-Limit": str(self.item.amount),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
            "RateLimit-Policy": f'{self.item.amount};w={window};comment="{self.policy}"',
        }


class RateLimiter:
    def __init__(
        self,
        policies: dict[str, str],
        redis_url: str | None = None,
        key_prefix: str = "carpulse:",
        enabled: bool = True,
    ) -> None:
        self.enabled = enabled
        self.policies: dict[str, RateLimitItem] = {name: parse(rate) for name, rate in policies.items()}
        self.storage: Storage
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self.storage = RedisStorage(
                uri, implementation="redispy", key_prefix=key_prefix + "ratelimit", wrap_exceptions=True
            )
        else:
            self.storage = MemoryStorage()
        self.strategy = MovingWindowRateLimiter(self.storage)

    async def hit(self, policy: str, *identifiers: str) -> RateLimitDecision | None:
        """Count one request; raise `RateLimited` when over the policy. None when not limited."""
        return await self.hit_rate(policy, self.policies[policy], *identifiers)

    async def hit_rate(self, policy: str, item: RateLimitItem, *identifiers: str) -> RateLimitDecision | None:
        """`hit` with a rate of the caller's (a plan's own burst limit), counted under `policy`'s name."""
        if not self.enabled:
            return None
        try:
            allowed = await self.strategy.hit(item, policy, *identifiers)
            stats = await self.strategy.get_window_stats(item, policy, *identifiers)
        except StorageError as exc:
            # Counters may be lost (DESIGN §2); an outage of their store must not stop the API.
            log.warning("rate_limit.storage_unavailable", policy=policy, error=str(exc))
            return None
        decision = RateLimitDecision(policy, item, stats.remaining, stats.reset_time)
        if not allowed:
            headers = decision.headers()
            headers["Retry-After"] = str(max(1, decision.reset_after))
            raise RateLimited(
                f"The '{policy}' limit of {item.amount} per {item.get_expiry()} s is used up; "
                f"retry after {headers['Retry-After']} s.",
                headers=headers,
            )
        return decision

    async def reset(self) -> None:
        await self.storage.reset()

    async def close(self) -> None:
        if isinstance(self.storage, RedisStorage):
            client = getattr(self.storage.bridge, "storage", None)
            if client is not None:
                await client.aclose()


def request_client_ip(request: Request) -> str:
    trusted: tuple[Network, ...] = request.app.state.carpulse.trusted_proxies
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), trusted)


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.carpulse.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


async def enforce(request: Request, policy: str, *identifiers: str) -> None:
    """Count the request against `policy` keyed by `identifiers`; the response carries the tightest decision."""
    decision = await get_rate_limiter(request).hit(policy, *identifiers)
    decisions = request.scope.get(_DECISIONS)
    if decision is not None and isinstance(decisions, list):
        decisions.append(decision)


def limit_by_ip(policy: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency that counts the request against `policy`, keyed by client IP."""

    async def dependency(request: Request) -> None:
        await enforce(request, policy, request_client_ip(request))

    dependency.__name__ = f"rate_limit_{policy}"
    return dependency


def limit_by_ip_and_owner(policy: str, owner_param: str) -> Callable[[Request], Awaitable[None]]:
    """Two budgets of `policy`: one per client IP and one per owner (the `owner_param` path parameter).

    Per IP alone, an attacker spreads one session's downloads over many addresses; per owner alone,
    one address sprays many sessions.
    """

    async def dependency(request: Request) -> None:
        # The IP budget is the one `limit_by_ip(policy)` counts; the owner's is keyed apart by its name.
        await enforce(request, policy, request_client_ip(request))
        await enforce(request, policy, owner_param, str(request.path_params.get(owner_param, "")))

    dependency.__name__ = f"rate_limit_{policy}_by_{owner_param}"
    return dependency


class RateLimitHeadersMiddleware:
    """Writes the `RateLimit-*` headers of the request's tightest decision on its response.

    FastAPI copies a dependency's response headers only onto responses it builds from a return value,
    not onto a `Response` an endpoint returns itself (files, PDFs, ZIPs); this covers both. A refusal
    (429) already carries its own headers and keeps them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        decisions: list[RateLimitDecision] = []
        scope[_DECISIONS] = decisions

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and decisions:
                headers = MutableHeaders(scope=message)
                if "ratelimit-limit" not in headers:
                    tightest = min(decisions, key=lambda decision: decision.remaining)
                    for name, value in tightest.headers().items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def limit_by_ip_and_session(request: Request, policy: str, session_id: str | None) -> None:
    """Count one request against `policy` by client IP and, when there is one, by connect session too:
    a session cannot spread its attempts over many addresses, nor an address over many sessions."""
    await enforce(request, policy, request_client_ip(request))
    if session_id:
        await enforce(request, policy, "session", session_id)
