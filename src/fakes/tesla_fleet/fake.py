"""`TeslaFleetFake`: all state of the fake Tesla auth and Fleet API hosts, and the ASGI app serving them."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache

from fastapi import APIRouter, FastAPI
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fakes.tesla_fleet import control, fleet_api, oauth_routes
from fakes.tesla_fleet.faults import Billing, Call, Faults
from fakes.tesla_fleet.fleet import Account, VehicleState, build_accounts
from fakes.tesla_fleet.oauth import AuthorizationServer, ClientRegistration
from fakes.tesla_fleet.partners import Partners


def _utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def _included_routes() -> tuple[BaseRoute, ...]:
    """The fake's routers, included once per process: every fake's app shares these inclusions.

    FastAPI prepares an included route on first use and keeps it on the inclusion, so apps that
    share inclusions prepare each route once; handlers find their fake through `fleet_api.fake_of`.
    """
    parent = APIRouter()
    parent.include_router(control.router)
    parent.include_router(oauth_routes.router)
    parent.include_router(fleet_api.router)
    return tuple(parent.routes)


class TxidHeader:
    """Gives every response an `x-txid` header, as Tesla's hosts do; Fleet errors carry the same id in the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_txid(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-txid" not in headers:
                    headers["x-txid"] = secrets.token_hex(16)
            await send(message)

        await self.app(scope, receive, send_with_txid)


class TeslaFleetFake:
    """A deterministic Tesla: auth host at the root, Fleet hosts under `/na`, `/eu`, `/cn`, controls under `/_control`.

    The fleet is a pure function of `seed` and the clock's date when the fake is built (or reset).
    `clock` returns an aware UTC datetime; codes, tokens, wake-ups and timestamps all follow it.
    """

    def __init__(
        self,
        seed: int = 7,
        *,
        client_id: str = "carpulse-sandbox",
        client_secret: str = "sandbox-secret",  # noqa: S107 - the sandbox's published credential
        redirect_uris: list[str] | None = None,
        wake_delay_seconds: float = 0.0,
        access_token_lifetime_seconds: int = 28800,
        clock: Callable[[], datetime] | None = None,
        require_partner_registration: bool = False,
    ) -> None:
        self.seed = seed
        self.client_id = client_id
        self.wake_delay_seconds = wake_delay_seconds
        self.require_partner_registration = require_partner_registration
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.registration = ClientRegistration(
            client_id, client_secret, tuple(redirect_uris) if redirect_uris is not None else None
        )
        self.accounts: dict[str, Account] = {}
        self.anchor: date = self.clock().date()
        self.billing = Billing()
        self.calls: list[Call] = []
        self.faults = Faults()
        self.fault_random = random.Random(seed)  # noqa: S311 - reproducible fault injection
        self.partners = Partners(client_id)
        self.authority = AuthorizationServer(
            self.registration, self.accounts, self.clock, timedelta(seconds=access_token_lifetime_seconds)
        )
        # The state each vehicle had before the `asleep` switch, restored by clear_faults.
        self._slept_by_fault: dict[str, VehicleState] = {}
        self._build_fleet()
        self.app = self._create_app()

    def _build_fleet(self) -> None:
        self.anchor = self.clock().astimezone(UTC).date()
        self.accounts.clear()
        self.accounts.update(build_accounts(self.seed, self.anchor, self.clock))

    def _create_app(self) -> FastAPI:
        app = FastAPI(
            title="Tesla Fleet API fake",
            version="1",
            docs_url="/_control/docs",
            redoc_url=None,
            openapi_url="/_control/openapi.json",
        )
        app.state.fake = self
        app.add_middleware(TxidHeader)
        app.router.routes.extend(_included_routes())
        return app

    def set_fault(
        self,
        account: str | None = None,
        *,
        asleep: bool | None = None,
        rate_limit_retry_after: int | None = None,
        error_rate: float | None = None,
        latency_seconds: float | None = None,
        expire_tokens: bool | None = None,
        wrap_dx: bool | None = None,
        failing_invoices: Iterable[str] | None = None,
    ) -> None:
        """Switch faults for one account (or all); None leaves a switch as it is, 0/False/empty turns it off.

        `asleep=True` puts the vehicles to sleep (alternately `asleep` and `offline`) until woken;
        `expire_tokens=True` expires every access token issued so far, so a refreshed one works again;
        `latency_seconds` delays every Fleet answer; `failing_invoices` names invoice content ids whose
        download answers 500 every time.
        """
        if account is not None and account not in self.accounts:
            raise KeyError(f"no sandbox account named {account!r}")
        if error_rate is not None and not 0 <= error_rate <= 1:
            raise ValueError("error_rate is a fraction between 0 and 1")
        if (rate_limit_retry_after or 0) < 0 or (latency_seconds or 0) < 0:
            raise ValueError("rate_limit_retry_after and latency_seconds cannot be negative")
        if asleep is not None:
            self._put_to_sleep(account, asleep)
        if expire_tokens:
            self.authority.expire_access_tokens(account)
        self.faults.update(
            account,
            rate_limit_retry_after=rate_limit_retry_after,
            error_rate=error_rate,
            latency_seconds=latency_seconds,
            wrap_dx=wrap_dx,
            failing_invoices=frozenset(failing_invoices) if failing_invoices is not None else None,
        )

    def _put_to_sleep(self, account: str | None, asleep: bool) -> None:
        names = [account] if account is not None else list(self.accounts)
        for name in names:
            for index, vehicle in enumerate(self.accounts[name].vehicles):
                if asleep:
                    self._slept_by_fault.setdefault(vehicle.vin, vehicle.state)
                    vehicle.state = "asleep" if index % 2 == 0 else "offline"
                elif not vehicle.no_connectivity:
                    self._slept_by_fault.pop(vehicle.vin, None)
                    vehicle.state = "online"

    def set_region_hint(self, account: str, region: str | None) -> None:
        """Make new tokens of `account` carry a wrong `ou_code` (None: the true region again)."""
        if account not in self.accounts:
            raise KeyError(f"no sandbox account named {account!r}")
        if region is None:
            self.authority.region_hints.pop(account, None)
        else:
            self.authority.region_hints[account] = region

    def clear_faults(self) -> None:
        """Every switch off; vehicles the `asleep` switch put to sleep are back in their earlier state."""
        self.faults.clear()
        for account in self.accounts.values():
            for vehicle in account.vehicles:
                if vehicle.vin in self._slept_by_fault:
                    vehicle.state = self._slept_by_fault[vehicle.vin]
        self._slept_by_fault.clear()

    def reset(self) -> None:
        """Back to a fresh fleet from the seed: faults, tokens, codes, billing, call log, registrations."""
        self.faults.clear()
        self._slept_by_fault.clear()
        self.fault_random.seed(self.seed)
        self.authority.reset()
        self.partners.reset()
        self.billing.clear()
        self.calls.clear()
        self._build_fleet()

    def set_partner_public_key(self, domain: str, pem: str | bytes) -> None:
        """The P-256 public key the partner hosts on `domain` (else one derived from the domain is used)."""
        self.partners.set_public_key(domain, pem)
