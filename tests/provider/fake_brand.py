"""Voltra: a tiny brand that exists only in the tests, to prove the core speaks the provider protocol.

It signs in with its owner's credentials (not OAuth) and reads an odometer and a battery level, nothing
else: no range, no software version, no service, alerts, warranty or charging history. Its accounts live
in memory; it calls no HTTP API, as a brand's adapter behind the protocol would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import httpx

from carpulse.config import Settings
from carpulse.kit.clock import Clock
from carpulse.provider.base import (
    BrandInfo,
    Capability,
    GrantedTokens,
    Place,
    PlaceChanged,
    Reading,
    ReadingPolicy,
    SignInKind,
    TokenSource,
    VehicleIdentity,
    VehicleSnapshot,
    VehicleSummary,
)
from carpulse.provider.errors import ReauthorizationRequired, SignInFailed
from carpulse.provider.fields import FieldCatalogue, fallback_capture_times, no_alert_wording, no_codes
from carpulse.provider.registry import BrandPlugin

VOLTRA_VIN = "VLT0000000A000001"
PASSWORD = "correct horse battery staple"

INFO = BrandInfo(
    name="voltra",
    label="Voltra",
    capabilities=frozenset({Capability.odometer, Capability.battery}),
    sign_in=SignInKind.credentials,
    catalogue=FieldCatalogue(
        fields={},
        enums={},
        enum_tables={},
        capture_times=fallback_capture_times,
        alert_wording=no_alert_wording,
        coded=no_codes,
        source_key="report.source.brand_api",
    ),
)


@dataclass
class VoltraCar:
    vin: str
    name: str
    odometer_km: float
    battery_percent: float


@dataclass
class VoltraAccounts:
    """The brand's own side: who may sign in, their cars, and the tokens it handed out."""

    cars: dict[str, list[VoltraCar]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access or refresh token → user name
    reads: int = 0


ACCOUNTS = VoltraAccounts(cars={"owner@example.com": [VoltraCar(VOLTRA_VIN, "Blue Voltra", 48_211.0, 76.0)]})


@dataclass
class VoltraSignIn:
    accounts: VoltraAccounts
    kind: Literal[SignInKind.credentials] = SignInKind.credentials

    def _grant(self, username: str) -> GrantedTokens:
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.accounts.tokens[access] = self.accounts.tokens[refresh] = username
        return GrantedTokens(access_token=access, refresh_token=refresh, expires_in=3600, account_id=username)

    async def sign_in(self, username: str, password: str) -> GrantedTokens:
        if username not in self.accounts.cars or password != PASSWORD:
            raise SignInFailed("Voltra does not know this user name and password.")
        return self._grant(username)

    async def refresh(self, refresh_token: str) -> GrantedTokens:
        username = self.accounts.tokens.pop(refresh_token, None)
        if username is None:
            raise ReauthorizationRequired("Voltra asks you to sign in again.")
        return self._grant(username)


class VoltraProvider:
    brand = "voltra"
    capabilities = INFO.capabilities

    def __init__(self, accounts: VoltraAccounts, tokens: TokenSource, clock: Clock) -> None:
        self.accounts = accounts
        self.tokens = tokens
        self.clock = clock

    async def _cars(self) -> list[VoltraCar]:
        username = self.accounts.tokens.get(await self.tokens.access_token())
        if username is None:
            raise ReauthorizationRequired("Voltra asks you to sign in again.")
        return self.accounts.cars[username]

    async def list_vehicles(self) -> list[VehicleSummary]:
        return [
            VehicleSummary(vin=car.vin, display_name=car.name, model="Voltra One", year=2023, online_state="online")
            for car in await self._cars()
        ]

    async def acquire(
        self, vin: str, *, wake: bool = True, include_location: bool = False, include_history: bool = True
    ) -> VehicleSnapshot:
        car = next(car for car in await self._cars() if car.vin == vin)
        self.accounts.reads += 1
        read_at = self.clock.now() - timedelta(minutes=2)
        return VehicleSnapshot(
            identity=VehicleIdentity(vin=vin, display_name=car.name, model="Voltra One", year=2023),
            captured_at=self.clock.now(),
            online_state="online",
            odometer=Reading(value=car.odometer_km, unit="km", captured_at=read_at, source="voltra"),
            battery_level=Reading(value=car.battery_percent, unit="%", captured_at=read_at, source="voltra"),
        )

    def place(self) -> Place:
        return Place(region="eu", base_url="memory://voltra")


class VoltraBrand:
    info = INFO

    def __init__(self, accounts: VoltraAccounts, clock: Clock) -> None:
        self.accounts = accounts
        self.clock = clock
        self._sign_in = VoltraSignIn(accounts)

    @property
    def sign_in(self) -> VoltraSignIn:
        return self._sign_in

    def place_for(self, tokens: GrantedTokens) -> Place:
        return Place(region="eu", base_url="memory://voltra")

    def place_of(self, base_url: str, fallback: str) -> Place:
        return Place(region=fallback, base_url=base_url)

    def open(
        self,
        place: Place,
        tokens: TokenSource,
        *,
        scopes: list[str],
        on_place_change: PlaceChanged | None = None,
        policy: ReadingPolicy | None = None,
    ) -> VoltraProvider:
        return VoltraProvider(self.accounts, tokens, self.clock)

    async def aclose(self) -> None:
        """Nothing to close: the accounts are in memory."""


def build(settings: Settings, http: httpx.AsyncClient, clock: Clock) -> VoltraBrand:
    return VoltraBrand(ACCOUNTS, clock)


VOLTRA = BrandPlugin(INFO, build)
