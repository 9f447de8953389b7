"""The typed application state the lifespan builds and every request reads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from cachetools import TTLCache
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from carpulse.api_key.service import KeyHolder
from carpulse.auth.google.client import GoogleIdentity
from carpulse.config import Settings
from carpulse.geo.address import Geocoder
from carpulse.geo.route import Router
from carpulse.kit.client_ip import Network
from carpulse.kit.clock import Clock
from carpulse.kit.documents import PDF_POOL_WORKERS
from carpulse.kit.ephemeral import EphemeralStore
from carpulse.kit.locks import KeyedLocks
from carpulse.kit.resilience import CircuitBreakers
from carpulse.kit.secrets_box import SecretBox
from carpulse.kit.storage import Storage
from carpulse.payment.factory import PaymentGateways
from carpulse.provider.registry import ProviderRegistry
from carpulse.rate_limit import RateLimiter
from carpulse.worker import Jobs


@dataclass
class State:
    settings: Settings
    version: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    ephemeral: EphemeralStore
    storage: Storage
    rate_limiter: RateLimiter
    trusted_proxies: tuple[Network, ...]
    clock: Clock
    box: SecretBox
    providers: ProviderRegistry  # the brands this app connects, by name
    vendor_http: httpx.AsyncClient  # every vendor client's connection pool, closed with the app
    payments: PaymentGateways
    jobs: Jobs
    geocoder: Geocoder  # addresses of trip ends (cached when it asks a vendor)
    router: Router  # road distance of tracks too sparse to measure
    google: GoogleIdentity  # the Logbook's sign-in: its discovery and key caches are this replica's
    sandbox: object | None = None  # carpulse.sandbox.Sandbox when the vendor fakes are mounted
    # Reports this process works on at once (`report.concurrent_renders`): each reads its car first,
    # then waits for the document pool, so a slow car holds one slot and not the pool.
    render_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(PDF_POOL_WORKERS))
    # One more render, in the document lane, for an order with nothing rendering while the slots are busy.
    render_lane: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    # Claims in this process one at a time: the lane must see a render just claimed as running.
    render_claims: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The Data API keys this replica checked lately (`data_api.key_cache_seconds`), by HMAC.
    api_key_cache: TTLCache[str, KeyHolder | None] = field(default_factory=lambda: TTLCache(maxsize=1, ttl=0))
    # Other short-lived per-replica memories, by name, made by the domain that owns them (e.g. client standings).
    replica_caches: dict[str, TTLCache[Any, Any]] = field(default_factory=dict)
    # Per-process helpers a domain makes on first use and closes at shutdown (e.g. the trip event writer).
    per_process: dict[str, Any] = field(default_factory=dict)
    # One acquisition per vehicle at a time in this process: its other renders reuse what it read.
    vehicle_locks: KeyedLocks = field(default_factory=KeyedLocks)
    # This replica's circuit breakers of vendors called outside the brand registry, by vendor (e.g. Open Charge Map).
    vendor_breakers: dict[str, CircuitBreakers] = field(default_factory=dict)


def get_state(request: Request) -> State:
    state: State = request.app.state.carpulse
    return state
