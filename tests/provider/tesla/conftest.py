"""The real Tesla client wired to the Tesla fake by transport (no server, no app)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from carpulse.kit.resilience import CircuitBreakers
from carpulse.provider.tesla.client import (
    TeslaApi,
    TeslaAuthClient,
    TeslaEndpoints,
    TeslaFleetClient,
    pkce_pair,
)
from fakes.tesla_fleet import TeslaFleetFake

BASE = "http://fake"
REDIRECT = "http://app.test/api/v1/tesla/oauth/callback"


@dataclass
class MemoryTokens:
    """A token source holding one user's pair in memory, refreshing like the connect service does."""

    auth: TeslaAuthClient
    access: str
    refresh: str | None
    refreshes: int = 0
    history: list[str] = field(default_factory=list)

    async def access_token(self) -> str:
        return self.access

    async def refreshed_access_token(self, rejected: str) -> str:
        if self.access != rejected or self.refresh is None:
            return self.access
        tokens = await self.auth.refresh(self.refresh)
        self.history.append(self.refresh)
        self.access, self.refresh = tokens.access_token, tokens.refresh_token or self.refresh
        self.refreshes += 1
        return self.access


@dataclass
class TeslaRig:
    fake: TeslaFleetFake
    api: TeslaApi
    http: httpx.AsyncClient
    sleeps: list[float]

    async def connect(self, account: str, region: str | None = None) -> tuple[TeslaFleetClient, MemoryTokens]:
        verifier = "v" * 64
        url = urlsplit(self.api.auth.authorization_url("state-1", pkce_pair(verifier)))
        query = {k: v[0] for k, v in parse_qs(url.query).items()} | {"sandbox_account": account}
        consent = await self.http.get(url.path, params=query)
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        audience = self.api.endpoints.fleet_base_urls["eu"]
        tokens = await self.api.auth.exchange_code(code, verifier, audience)
        source = MemoryTokens(self.api.auth, tokens.access_token, tokens.refresh_token)
        base = self.api.endpoints.fleet_base_urls[region or self.fake.accounts[account].region]
        fleet = self.api.fleet(base, source)
        fleet.sleep = self._sleep
        return fleet, source

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
async def tesla() -> AsyncIterator[TeslaRig]:
    fake = TeslaFleetFake(seed=7, redirect_uris=[REDIRECT])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as http:
        endpoints = TeslaEndpoints(
            authorize_url=f"{BASE}/oauth2/v3/authorize",
            token_url=f"{BASE}/oauth2/v3/token",
            fleet_base_urls={region: f"{BASE}/{region}" for region in ("na", "eu", "cn")},
        )
        auth = TeslaAuthClient(
            http,
            endpoints,
            client_id="carpulse-sandbox",
            client_secret="sandbox-secret",
            redirect_uri=REDIRECT,
            scopes="openid offline_access user_data vehicle_device_data vehicle_location vehicle_charging_cmds",
        )
        api = TeslaApi(http=http, endpoints=endpoints, auth=auth, breakers=CircuitBreakers(), default_region="eu")
        yield TeslaRig(fake, api, http, [])


SleepRecorder = Callable[[float], Awaitable[None]]
