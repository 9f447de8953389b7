"""What every vehicle-data provider answers with: a brand-agnostic snapshot we own.

Each value carries when it was captured and where it came from, so a report can say how fresh
every number is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field

from carpulse.provider.errors import ProviderError
from carpulse.provider.fields import FieldCatalogue

T = TypeVar("T")
E = TypeVar("E", bound=ProviderError)

OnlineState = Literal["online", "asleep", "offline", "unknown"]


class Reading(BaseModel, Generic[T]):
    value: T
    unit: str | None = None
    captured_at: datetime | None = None
    source: str


class VehicleSummary(BaseModel):
    """One vehicle of an account's inventory, as listed without waking the car."""

    vin: str
    display_name: str | None
    model: str | None
    year: int | None
    image_hint: str | None = Field(default=None, description="model/colour/wheels hint for a picture")
    online_state: OnlineState
    access: str | None = None


class VehicleIdentity(BaseModel):
    vin: str
    display_name: str | None = None
    model: str | None = None
    trim: str | None = None
    year: int | None = None
    colour: str | None = None
    wheels: str | None = None
    wheel_inches: int | None = None
    # The maker's code for a body or generation where one model name covers several; a pack catalogue tells
    # their ratings apart by it.
    variant: str | None = None


class Location(BaseModel):
    latitude: float
    longitude: float
    heading: int | None = None


class ServiceStatus(BaseModel):
    in_service: bool
    status: str | None = None
    estimated_completion: datetime | None = None
    visit_number: str | None = None


class Alert(BaseModel):
    name: str
    occurred_at: datetime
    audience: list[str] = Field(default_factory=list)
    user_text: str | None = None


class Warranty(BaseModel):
    kind: str
    display_name: str | None = None
    expires_on: date | None = None
    expires_at_km: float | None = None
    state: Literal["active", "upcoming", "expired"]


class ChargingFee(BaseModel):
    fee_type: str
    pricing_type: str | None = None
    currency: str | None = Field(description="ISO 4217; None when the brand sent none")
    usage: Decimal
    unit: str | None = None
    total_due: Decimal
    net_due: Decimal


class ChargingInvoiceRef(BaseModel):
    content_id: str
    file_name: str | None = None
    invoice_type: str | None = None


class ChargingSession(BaseModel):
    session_id: str
    vin: str | None
    site: str | None
    country: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    energy_kwh: Decimal
    fees: list[ChargingFee]
    invoices: list[ChargingInvoiceRef]


class CarSettings(BaseModel):
    """How the car shows things to its owner, and its clock; a document follows them where the brand says them."""

    distance_units: str | None = Field(default=None, description="`km/hr` or `mi/hr`")
    temperature_units: str | None = Field(default=None, description="`C` or `F`")
    pressure_units: str | None = Field(default=None, description="`Bar`, `kPa` or `Psi`")
    utc_offset_seconds: int | None = Field(default=None, description="the car clock's offset from UTC")
    market: Literal["eu", "na"] | None = Field(default=None, description="the market the car was built for")


class VehicleSnapshot(BaseModel):
    identity: VehicleIdentity
    captured_at: datetime
    online_state: OnlineState
    odometer: Reading[float] | None = None
    battery_level: Reading[float] | None = None
    usable_battery_level: Reading[float] | None = None
    range: Reading[float] | None = None
    energy_added: Reading[float] | None = None
    charging_state: Reading[str] | None = None
    software_version: Reading[str] | None = None
    location: Reading[Location] | None = None
    service: Reading[ServiceStatus] | None = None
    alerts: Reading[list[Alert]] | None = None
    warranties: Reading[list[Warranty]] | None = None
    charging_history: Reading[list[ChargingSession]] | None = None
    settings: CarSettings | None = None
    gaps: dict[str, str] = Field(default_factory=dict, description="what could not be read, and why")
    raw: dict[str, Any] = Field(
        default_factory=dict,
        description="the provider's own payloads by part (its field catalogue names them: vehicle_data, warranty, "
        "warranty), for the field map; the normalized readings above are what the rest of the code uses",
    )
    billable_calls: int = 0


class Capability(StrEnum):
    """What a brand can give us about a vehicle; the products ask for these, never for a brand."""

    odometer = "odometer"
    battery = "battery"  # state of charge, usable level
    range = "range"  # estimated range at the current charge: the battery-health estimator needs it
    charging_state = "charging_state"
    software = "software"
    location = "location"
    service = "service"
    alerts = "alerts"
    warranty = "warranty"
    charging_history = "charging_history"  # past sessions with their fees
    charging_invoices = "charging_invoices"  # the brand's own invoice PDFs for those sessions
    wake = "wake"  # the car can be woken to answer
    raw_fields = "raw_fields"  # the brand's own payloads, read by its field catalogue


class SignInKind(StrEnum):
    oauth_pkce = "oauth_pkce"
    credentials = "credentials"


@dataclass(frozen=True)
class GrantedTokens:
    """What a sign-in (or a refresh) gave us, in the brand's words translated."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    scopes: list[str] | None = None  # None: the brand does not say
    account_id: str | None = None  # the brand's stable account id (hashed before we keep it)
    region_hint: str | None = None


@dataclass(frozen=True)
class Place:
    """Where one account's data lives at its brand (a regional host, say)."""

    region: str
    base_url: str


class TokenSource(Protocol):
    """The access token of one connection; refreshing (and storing the rotation) is the caller's job."""

    async def access_token(self) -> str: ...

    async def refreshed_access_token(self, rejected: str) -> str: ...


@runtime_checkable
class OAuthPkceSignIn(Protocol):
    """A brand whose owners sign in on the brand's own page (OAuth 2 authorization code with PKCE)."""

    kind: Literal[SignInKind.oauth_pkce]

    def authorization_url(self, state: str, code_challenge: str, locale: str | None = None) -> str: ...

    async def exchange_code(self, code: str, code_verifier: str) -> GrantedTokens: ...

    async def refresh(self, refresh_token: str) -> GrantedTokens: ...


@runtime_checkable
class CredentialsSignIn(Protocol):
    """A brand whose API takes the owner's own user name and password (we keep only the tokens)."""

    kind: Literal[SignInKind.credentials]

    async def sign_in(self, username: str, password: str) -> GrantedTokens: ...

    async def refresh(self, refresh_token: str) -> GrantedTokens: ...


class VehicleDataProvider(Protocol):
    """A brand's data source for one connected account."""

    brand: str
    capabilities: frozenset[Capability]

    async def list_vehicles(self) -> list[VehicleSummary]: ...

    async def acquire(
        self, vin: str, *, wake: bool = True, include_location: bool = False, include_history: bool = True
    ) -> VehicleSnapshot: ...

    def place(self) -> Place:
        """Where the account's data was last found (a brand may move it; the caller keeps it)."""
        ...


@runtime_checkable
class ChargingHistoryReader(Protocol):
    """A provider with `Capability.charging_history` (and `charging_invoices`) also reads these."""

    async def charging_sessions(
        self, vin: str, start: datetime, end: datetime, *, concurrency: int = 1
    ) -> list[ChargingSession]: ...

    async def charging_invoice(self, content_id: str) -> bytes: ...

    async def check_authorized(self) -> None:
        """Raise `ReauthorizationRequired` now, before a long download starts, if the tokens are dead."""
        ...


PlaceChanged = Callable[[Place], Awaitable[None]]


@dataclass(frozen=True)
class ReadingPolicy:
    """How patiently one acquisition reads a car (the products' settings, the brand's mechanics)."""

    wake_budget_seconds: float = 45.0
    wake_poll_seconds: float = 5.0
    history_months: int = 24


@dataclass(frozen=True)
class PublishedWarranty:
    """A brand's published warranty terms, for a car whose own warranty records say nothing (or are unread)."""

    battery_years: int
    basic_years: int
    basic_km: Decimal
    # The brand's warranty kinds (`Warranty.kind`) that are the battery's (and drive unit's), and the basic one.
    battery_kinds: tuple[str, ...]
    basic_kinds: tuple[str, ...]
    # Battery warranty distance by (model, trim badge); a (model, None) row covers every trim of the model.
    battery_km_by_model: Mapping[tuple[str, str | None], Decimal]

    def battery_km(self, model: str | None, trim: str | None) -> Decimal | None:
        if model is None:
            return None
        key = (trim or "").lower()
        return self.battery_km_by_model.get((model, key)) or self.battery_km_by_model.get((model, None))


@dataclass(frozen=True, eq=False)
class BrandInfo:
    """What is known of a brand before anything is built: enough to mount its routes and document them."""

    name: str  # the path segment of its mount (`/api/v1/{name}/...`) and the stored connection's provider
    label: str  # how people call it, in messages and documents
    capabilities: frozenset[Capability]
    sign_in: SignInKind
    catalogue: FieldCatalogue
    # The brand's own subclass of each neutral error it raises (with the brand's own problem types), so a
    # product raises and documents what the brand's mount has always answered.
    problems: Mapping[type[ProviderError], type[ProviderError]] = field(default_factory=dict)
    warranty: PublishedWarranty | None = None

    def can(self, *needed: Capability) -> bool:
        return set(needed) <= self.capabilities

    def problem(self, kind: type[E]) -> type[E]:
        found = self.problems.get(kind, kind)
        return found if issubclass(found, kind) else kind


class Brand(Protocol):
    """One brand, built once per app on the app's HTTP client: how its owners sign in and what it reads.

    Each brand package's `brand.py` exports `INFO` (a `BrandInfo`) and `build(settings, http, clock) -> Brand`;
    the registry finds them.
    """

    info: BrandInfo

    @property
    def sign_in(self) -> OAuthPkceSignIn | CredentialsSignIn:
        """Read-only, so a brand may hold its own sign-in type (a mutable member would have to be the union)."""
        ...

    def place_for(self, tokens: GrantedTokens) -> Place:
        """Where a freshly signed-in account's data is first looked for."""
        ...

    def place_of(self, base_url: str, fallback: str) -> Place:
        """The place a stored base URL names (the region is `fallback` when the URL names none of ours)."""
        ...

    def open(
        self,
        place: Place,
        tokens: TokenSource,
        *,
        scopes: list[str],
        on_place_change: PlaceChanged | None = None,
        policy: ReadingPolicy | None = None,
    ) -> VehicleDataProvider: ...

    async def aclose(self) -> None: ...
