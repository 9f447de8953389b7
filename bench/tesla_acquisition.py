"""Billable Tesla Fleet calls for one vehicle's full acquisition (goal: ≤ 8, at most one wake).

The real client and provider talk to the bundled Tesla fake through httpx's ASGI transport; the
fake counts billable answers (status < 500) per category, as Tesla bills them.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from bench.server import StaticTokens
from carpulse.kit.clock import system_clock
from carpulse.kit.resilience import CircuitBreakers
from carpulse.provider.tesla.adapter import TeslaProvider
from carpulse.provider.tesla.client import TeslaApi, TeslaAuthClient, TeslaEndpoints, pkce_pair, unverified_claims
from fakes.tesla_fleet import TeslaFleetFake

BASE = "http://fake"
REDIRECT = "http://bench/api/v1/tesla/oauth/callback"
SCOPES = "openid offline_access user_data vehicle_device_data vehicle_location vehicle_charging_cmds"


async def _case(name: str, account: str, *, asleep: bool, wake_delay: float) -> str:
    fake = TeslaFleetFake(seed=7, redirect_uris=[REDIRECT], wake_delay_seconds=wake_delay)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as http:
        endpoints = TeslaEndpoints(
            f"{BASE}/oauth2/v3/authorize",
            f"{BASE}/oauth2/v3/token",
            {region: f"{BASE}/{region}" for region in ("na", "eu", "cn")},
        )
        auth = TeslaAuthClient(
            http,
            endpoints,
            client_id="carpulse-sandbox",
            client_secret="sandbox-secret",
            redirect_uri=REDIRECT,
            scopes=SCOPES,
        )
        api = TeslaApi(http=http, endpoints=endpoints, auth=auth, breakers=CircuitBreakers(), default_region="eu")
        url = urlsplit(auth.authorization_url("s", pkce_pair("v" * 64)))
        query = {k: v[0] for k, v in parse_qs(url.query).items()} | {"sandbox_account": account}
        code = parse_qs(urlsplit((await http.get(url.path, params=query)).headers["location"]).query)["code"][0]
        tokens = await auth.exchange_code(code, "v" * 64, endpoints.fleet_base_urls["eu"])
        fleet = api.fleet(endpoints.fleet_base_urls[fake.accounts[account].region], StaticTokens(tokens.access_token))
        provider = TeslaProvider(
            fleet,
            clock=system_clock,
            scopes=unverified_claims(tokens.access_token).get("scp", []),
            wake_poll_seconds=max(wake_delay, 0.05),
        )
        vin = fake.accounts[account].vehicles[0].vin
        if asleep:
            fake.set_fault(account, asleep=True)
        fake.billing.clear()
        started = time.perf_counter()
        snapshot = await provider.acquire(vin, wake=True)
        elapsed = time.perf_counter() - started
        counts = fake.billing.snapshot().get(account, {})
        sessions = len(snapshot.charging_history.value) if snapshot.charging_history else 0
        return (
            f"  {name:<38} billable {snapshot.billable_calls:2d} (fake counted {sum(counts.values()):2d}: "
            f"{', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})  "
            f"charging sessions {sessions:3d}  gaps {len(snapshot.gaps)}  {elapsed * 1000:6.0f} ms"
        )


def run() -> None:
    async def main() -> None:
        print("Tesla acquisition, one vehicle (goal: ≤ 8 billable calls, at most one wake)")
        print(await _case("online car (solo)", "solo", asleep=False, wake_delay=0))
        print(await _case("asleep car, wakes in 0.2 s (solo)", "solo", asleep=True, wake_delay=0.2))
        print(await _case("online car, 3 vehicles account (family)", "family", asleep=False, wake_delay=0))
        print(await _case("heavy charger, 24 months (charger)", "charger", asleep=False, wake_delay=0))

    asyncio.run(main())
