from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from carpulse.pricing.catalog import PackageCode
from carpulse.provider.base import VehicleSummary


class Locale(StrEnum):
    en = "en"
    fi = "fi"
    sv = "sv"
    no = "no"
    da = "da"
    de = "de"
    fr = "fr"
    es = "es"
    it = "it"


class Step(StrEnum):
    connecting = "connecting"
    select_vehicles = "select_vehicles"
    checkout = "checkout"
    ordered = "ordered"


# Kept with the OAuth state for minutes: a front-end page with its query fits; a megabyte does not.
RETURN_URL_MAX_LENGTH = 512


class InitiateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: Locale = Locale.en
    return_url: str | None = Field(
        default=None,
        max_length=RETURN_URL_MAX_LENGTH,
        description="where the browser returns; must be on an allowed origin",
    )
    via_dev_proxy: bool = Field(
        default=False,
        description="development only: the brand's callback reaches this instance through a deployed API's dev proxy; "
        "the answer adds `code_challenge` for its `POST /api/v1/dev-proxy/initiate-oauth`",
    )


class InitiateResponse(BaseModel):
    authorization_url: str
    state: str
    expires_in: int
    code_challenge: str | None = Field(default=None, description="with `via_dev_proxy` only: S256 of the PKCE verifier")
    binding: str | None = Field(
        default=None,
        description="the secret this sign-in is bound to, also set as the `carpulse_connect` cookie; a client "
        "without a cookie jar sends it back as the `X-Connect-Binding` header of the callback",
    )


class CallbackResult(BaseModel):
    session_id: str
    vehicle_count: int


class Selection(BaseModel):
    vins: list[str]
    package: PackageCode


class CredentialsRequest(BaseModel):
    """A brand whose API takes its owner's sign-in: we pass it on once and keep only the tokens it gives."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024, repr=False)
    locale: Locale = Locale.en
    return_url: str | None = Field(
        default=None,
        max_length=RETURN_URL_MAX_LENGTH,
        description="where the frontend goes on; must be on an allowed origin",
    )


class SelectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vins: list[str] = Field(min_length=1, max_length=50)
    package: PackageCode


class ConnectSession(BaseModel):
    """A connected account, held in the ephemeral store for its TTL. Tokens are encrypted."""

    id: str
    provider: str = Field(description="the brand's name in the provider registry")
    created_at: datetime
    expires_at: datetime
    locale: Locale
    return_url: str | None = None
    region: str
    fleet_base_url: str
    access_token: str = Field(repr=False)
    refresh_token: str | None = Field(default=None, repr=False)
    access_expires_at: datetime
    scopes: list[str] = Field(default_factory=list)
    customer_key: str | None = Field(
        default=None, description="a hash of the brand's account id: vouchers' per-customer caps"
    )
    vehicles: list[VehicleSummary] = Field(default_factory=list)
    step: Step = Step.connecting
    selection: Selection | None = None
    order_id: str | None = None


class SessionVehicles(BaseModel):
    session_id: str
    vehicles: list[VehicleSummary]


class SessionState(BaseModel):
    session_id: str
    provider: str
    step: Step
    locale: Locale
    region: str
    vehicle_count: int
    selection: Selection | None
    order_id: str | None
    expires_at: datetime
    expires_in: int
    scopes: list[str]
