"""The typed application state the lifespan builds and every request reads."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from carpulse.config import Settings
from carpulse.kit.client_ip import Network
from carpulse.kit.clock import Clock
from carpulse.kit.ephemeral import EphemeralStore
from carpulse.kit.secrets_box import SecretBox
from carpulse.kit.storage import LocalStorage
from carpulse.payment.factory import PaymentGateways
from carpulse.provider.tesla.client import TeslaApi
from carpulse.rate_limit import RateLimiter
from carpulse.worker import Jobs


@dataclass
class State:
    settings: Settings
    version: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    ephemeral: EphemeralStore
    storage: LocalStorage
    rate_limiter: RateLimiter
    trusted_proxies: tuple[Network, ...]
    clock: Clock
    box: SecretBox
    tesla: TeslaApi
    payments: PaymentGateways
    jobs: Jobs
    sandbox: object | None = None  # carpulse.sandbox.Sandbox when the vendor fakes are mounted


def get_state(request: Request) -> State:
    state: State = request.app.state.carpulse
    return state
