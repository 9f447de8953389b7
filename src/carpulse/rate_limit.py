"""Named rate-limit policies on the `limits` library (memory or Redis storage).

A policy is a name (`login`, `payment`, ...) and a rate (`5/minute`) from settings. Callers
hit a policy with the identifiers that key it (client IP, IP + username, account id).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from carpulse.errors import RateLimited
from carpulse.kit.client_ip import Network, client_ip
from carpulse.kit.logs import get_logger

log = get_logger("carpulse.rate_limit")


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
        if not self.enabled:
            return None
        item = self.policies[policy]
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


def limit_by_ip(policy: str) -> Callable[[Request, Response], Awaitable[None]]:
    """A dependency that counts the request against `policy`, keyed by client IP."""

    async def dependency(request: Request, response: Response) -> None:
        limiter = get_rate_limiter(request)
        decision = await limiter.hit(policy, request_client_ip(request))
        if decision is not None:
            response.headers.update(decision.headers())

    dependency.__name__ = f"rate_limit_{policy}"
    return dependency


async def limit_by_ip_and_session(request: Request, response: Response, policy: str, session_id: str | None) -> None:
    """Count one request against `policy` by client IP and, when there is one, by connect session too:
    a session cannot spread its attempts over many addresses, nor an address over many sessions."""
    limiter = get_rate_limiter(request)
    decisions = [await limiter.hit(policy, request_client_ip(request))]
    if session_id:
        decisions.append(await limiter.hit(policy, "session", session_id))
    counted = [decision for decision in decisions if decision is not None]
    if counted:
        response.headers.update(min(counted, key=lambda decision: decision.remaining).headers())
