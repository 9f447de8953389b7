"""Tesla as one of our brands: its hosts, its OAuth sign-in, its capabilities and field catalogue."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import httpx

from carpulse.config import Settings
from carpulse.kit.clock import Clock
from carpulse.kit.resilience import CircuitBreakers
from carpulse.provider.base import (
    BrandInfo,
    Capability,
    GrantedTokens,
    Place,
    PlaceChanged,
    ReadingPolicy,
    SignInKind,
    TokenSource,
)
from carpulse.provider.fields import FieldCatalogue
from carpulse.provider.tesla.adapter import TeslaProvider
from carpulse.provider.tesla.client import TeslaApi, TeslaAuthClient, TeslaEndpoints, unverified_claims
from carpulse.provider.tesla.codes import alert_wording, coded
from carpulse.provider.tesla.errors import TESLA_PROBLEMS
from carpulse.provider.tesla.fields import TESLA_ENUM_TABLES, TESLA_ENUMS, TESLA_FIELDS, tesla_capture_times
from carpulse.provider.tesla.schemas import TokenResponse
from carpulse.provider.tesla.warranty import TESLA_WARRANTY

TESLA_PRODUCTION = TeslaEndpoints(
    authorize_url="https://auth.tesla.com/oauth2/v3/authorize",
    token_url="https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token",  # noqa: S106 - a URL
    fleet_base_urls={
        "na": "https://fleet-api.prd.na.vn.cloud.tesla.com",
        "eu": "https://fleet-api.prd.eu.vn.cloud.tesla.com",
        "cn": "https://fleet-api.prd.cn.vn.cloud.tesla.cn",
    },
)

_STATE, _CHARGE = "vehicle_data.vehicle_state", "vehicle_data.charge_state"
TESLA_CATALOGUE = FieldCatalogue(
    fields=TESLA_FIELDS,
    enums=TESLA_ENUMS,
    enum_tables=TESLA_ENUM_TABLES,
    capture_times=tesla_capture_times,
    alert_wording=alert_wording,
    coded=coded,
    source_key="report.source.tesla_fleet",
    # Our readings are in km; Tesla's raw fields say miles: format them through the field of the same kind.
    readings={
        "odometer": replace(TESLA_FIELDS[f"{_STATE}.odometer"], unit="km"),
        "battery_level": TESLA_FIELDS[f"{_CHARGE}.battery_level"],
        "usable_battery_level": TESLA_FIELDS[f"{_CHARGE}.usable_battery_level"],
        "range": replace(TESLA_FIELDS[f"{_CHARGE}.battery_range"], unit="km"),
        "software_version": TESLA_FIELDS[f"{_STATE}.car_version"],
        "charging_state": TESLA_FIELDS[f"{_CHARGE}.charging_state"],
    },
)

INFO = BrandInfo(
    name="tesla",
    label="Tesla",
    capabilities=frozenset(Capability),
    sign_in=SignInKind.oauth_pkce,
    catalogue=TESLA_CATALOGUE,
    problems=TESLA_PROBLEMS,
    warranty=TESLA_WARRANTY,
)


def tesla_endpoints(settings: Settings) -> TeslaEndpoints:
    """Tesla's hosts, or the sandbox fake's when the sandbox is on; each overridable in settings."""
    tesla = settings.tesla
    if settings.sandbox_root:
        root = f"{settings.sandbox_root}/tesla"
        defaults = TeslaEndpoints(
            authorize_url=f"{root}/oauth2/v3/authorize",
            token_url=f"{root}/oauth2/v3/token",
            fleet_base_urls={region: f"{root}/{region}" for region in ("na", "eu", "cn")},
        )
    else:
        defaults = TESLA_PRODUCTION
    return TeslaEndpoints(
        authorize_url=tesla.authorize_url or defaults.authorize_url,
        token_url=tesla.token_url or defaults.token_url,
        fleet_base_urls={**defaults.fleet_base_urls, **tesla.fleet_base_urls},
    )


def build_tesla_api(settings: Settings, http: httpx.AsyncClient) -> TeslaApi:
    endpoints = tesla_endpoints(settings)
    tesla = settings.tesla
    return TeslaApi(
        http=http,
        endpoints=endpoints,
        auth=TeslaAuthClient(
            http,
            endpoints,
            client_id=tesla.client_id,
            client_secret=tesla.client_secret.get_secret_value(),
            redirect_uri=settings.tesla_redirect_uri,
            scopes=tesla.scopes,
            timeout_seconds=tesla.timeout_seconds,
        ),
        breakers=CircuitBreakers(),
        default_region=tesla.default_region,
        max_retries=tesla.max_retries,
        retry_after_cap_seconds=tesla.retry_after_cap_seconds,
        timeout_seconds=tesla.timeout_seconds,
    )


def granted(tokens: TokenResponse) -> GrantedTokens:
    """Tesla's token answer: scopes, account id and region hint ride in the access token's claims."""
    claims = unverified_claims(tokens.access_token)
    scopes = claims.get("scp")
    subject = claims.get("sub")
    return GrantedTokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        scopes=[str(scope) for scope in scopes] if isinstance(scopes, list) else None,
        account_id=str(subject) if subject else None,
        region_hint=str(claims.get("ou_code", "")).lower() or None,
    )


@dataclass
class TeslaSignIn:
    """OAuth 2 with PKCE at Tesla's auth host; the code is exchanged for the default region's audience."""

    api: TeslaApi
    kind: Literal[SignInKind.oauth_pkce] = SignInKind.oauth_pkce

    def authorization_url(self, state: str, code_challenge: str, locale: str | None = None) -> str:
        return self.api.auth.authorization_url(state, code_challenge, locale)

    async def exchange_code(self, code: str, code_verifier: str) -> GrantedTokens:
        audience = self.api.endpoints.fleet_base_urls[self.api.default_region]
        return granted(await self.api.auth.exchange_code(code, code_verifier, audience=audience))

    async def refresh(self, refresh_token: str) -> GrantedTokens:
        return granted(await self.api.auth.refresh(refresh_token))


class TeslaBrand:
    info = INFO

    def __init__(self, api: TeslaApi, clock: Clock) -> None:
        self.api = api
        self.clock = clock
        self.sign_in = TeslaSignIn(api)

    def place_for(self, tokens: GrantedTokens) -> Place:
        # The token's `ou_code` is only a hint (seen wrong); a wrong guess costs one 421, which the
        # client follows, instead of a /users/region call for everyone.
        regions = self.api.endpoints.fleet_base_urls
        region = tokens.region_hint if tokens.region_hint in regions else self.api.default_region
        return Place(region=region, base_url=regions[region])

    def place_of(self, base_url: str, fallback: str) -> Place:
        return Place(region=self.api.endpoints.region_of(base_url) or fallback, base_url=base_url)

    def open(
        self,
        place: Place,
        tokens: TokenSource,
        *,
        scopes: list[str],
        on_place_change: PlaceChanged | None = None,
        policy: ReadingPolicy | None = None,
    ) -> TeslaProvider:
        async def moved(base_url: str) -> None:
            if on_place_change is not None:
                await on_place_change(self.place_of(base_url, place.region))

        policy = policy or ReadingPolicy()
        fleet = self.api.fleet(place.base_url, tokens, moved)
        return TeslaProvider(
            fleet,
            clock=self.clock,
            scopes=scopes,
            region=place.region,
            wake_budget_seconds=policy.wake_budget_seconds,
            wake_poll_seconds=policy.wake_poll_seconds,
            history_months=policy.history_months,
        )

    async def aclose(self) -> None:
        """The HTTP client is the app's, closed with it."""


def build(settings: Settings, http: httpx.AsyncClient, clock: Clock) -> TeslaBrand:
    return TeslaBrand(build_tesla_api(settings, http), clock)
