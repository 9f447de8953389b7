"""What every vehicle-data provider answers with: a brand-agnostic snapshot we own.

Each value carries when it was captured and where it came from, so a report can say how fresh
every number is.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

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
    currency: str | None = Field(description="ISO 4217; None when Tesla sent none")
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
    gaps: dict[str, str] = Field(default_factory=dict, description="what could not be read, and why")
    raw: dict[str, Any] = Field(
        default_factory=dict,
        description="the provider's own payloads by part (Tesla: vehicle_data, service_data, recent_alerts, "
        "warranty), for the field map; the normalized readings above are what the rest of the code uses",
    )
    billable_calls: int = 0


class VehicleDataProvider(Protocol):
    """A brand's data source for one connected account."""

    brand: str

    async def list_vehicles(self) -> list[VehicleSummary]: ...

    async def acquire(
        self, vin: str, *, wake: bool = True, include_location: bool = False, include_history: bool = True
    ) -> VehicleSnapshot: ...
