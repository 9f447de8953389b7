from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from carpulse.vin.schemas import DecodedVin


class Figure(BaseModel):
    """One catalogue figure and where it comes from; `value` is None when unknown (or, for a VIN, when the
    versions it may be differ)."""

    value: float | int | str | None = Field(examples=[77.0])
    unit: str | None = Field(default=None, examples=["kWh"])
    source: str | None = Field(default=None, examples=["maker's specification as reported by the press"])
    confirmed: bool = Field(default=False, description="false: a press or community figure, not the maker's own")


class WarrantyTerms(BaseModel):
    years: Figure
    km: Figure
    unlimited_km: bool
    retained_capacity_percent: Figure


class VehicleModelOut(BaseModel):
    model_id: str = Field(examples=["volkswagen-id-3-pro-s-77-kwh"])
    make: str
    model: str
    version: str
    year_from: int
    year_to: int | None
    body: str | None
    drive: str | None
    motor: str | None
    chemistry: Figure
    nominal_capacity: Figure
    usable_capacity: Figure
    rated_range: Figure
    range_rating: str = Field(description="what the range figure is: EPA rated (as the car shows it) or WLTP")
    warranty: WarrantyTerms


class ModelPage(BaseModel):
    items: list[VehicleModelOut]
    total: int
    limit: int
    offset: int


class ModelWarranty(BaseModel):
    model_id: str
    make: str
    model: str
    version: str
    warranty: WarrantyTerms


class Candidate(BaseModel):
    model_id: str
    version: str


class StaticVehicle(BaseModel):
    """What we know of a VIN without reading the car: its decoding and the catalogue versions it may be."""

    vin: str
    make: str
    manufacturer: str | None
    country: str | None
    model: str | None
    model_year: int | None
    plant: str | None
    plant_code: str
    body: str | None
    drive: str | None
    match: str = Field(description="exact: one catalogue version; ambiguous: several (figures they share); none")
    model_id: str | None = None
    version: str | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    chemistry: Figure
    nominal_capacity: Figure
    usable_capacity: Figure
    rated_range: Figure
    warranty: WarrantyTerms
    decoded: DecodedVin


class Note(BaseModel):
    """A stable code and its English text: a method, flag, rejection or reason."""

    code: str = Field(examples=["battery.flag.few_samples"])
    text: str


class Reading(BaseModel):
    """One reading as the vehicle gave it, with when and through which provider it was read."""

    value: float | str = Field(examples=[48210.0])
    unit: str | None = Field(default=None, examples=["km"])
    captured_at: datetime
    source: str = Field(examples=["tesla_fleet"])


class LastSeen(BaseModel):
    captured_at: datetime
    source: str


class ChargingCycles(BaseModel):
    """Full-charge equivalents, estimated from distance driven over the range of a full charge when new."""

    value: float = Field(examples=[112.4])
    method: Note
    range_km: float = Field(description="the range of one full charge the distance is divided by")
    range_source: str
    captured_at: datetime = Field(description="when the odometer reading it is computed from was taken")
    source: str


class Baseline(BaseModel):
    """The pack as sold new that a state of health is measured against."""

    description: str = Field(examples=["Model 3 Long Range AWD"])
    chemistry: str = Field(examples=["NCA"])
    usable_kwh: float
    rated_range_km: float = Field(description="the rated range a full new pack showed")
    rated_range_error_percent: float = Field(description="half-width of the interval the true rating lies in")
    source: str


class Rejection(BaseModel):
    reason: Note
    count: int


class StateOfHealth(BaseModel):
    """A state of health with its band and how it was reached, or no number and the reason why."""

    status: Literal["estimated", "insufficient_data", "no_baseline"]
    method: Note
    soh_percent: float | None = Field(default=None, examples=[94.2])
    soh_low_percent: float | None = Field(default=None, description="the band's lower end (about 95 %)")
    soh_high_percent: float | None = None
    usable_capacity_kwh: float | None = None
    usable_capacity_low_kwh: float | None = None
    usable_capacity_high_kwh: float | None = None
    implied_full_range_km: float | None = Field(default=None, description="median rated range scaled to 100 %")
    samples_used: int
    samples_rejected: int
    rejections: list[Rejection] = Field(default_factory=list)
    first_sample_at: datetime | None = Field(default=None, description="the oldest sample used")
    last_sample_at: datetime | None = Field(default=None, description="the newest sample used")
    baseline: Baseline | None = None
    flags: list[Note] = Field(default_factory=list)
    reason: Note | None = Field(default=None, description="why there is no number")
    captured_at: datetime | None = Field(default=None, description="the newest sample used")
    source: str | None = Field(default=None, description="the providers the samples used came from")


class DynamicVehicle(BaseModel):
    """What the readings we may share say about a vehicle now; every value with its time and source."""

    vin: str
    synthetic: bool = Field(description="true: the simulator's readings, never mixed with real ones")
    match: str = Field(description="exact: one catalogue version; ambiguous: several; none")
    model_id: str | None = None
    last_seen: LastSeen
    odometer: Reading | None = None
    battery_level: Reading | None = Field(default=None, description="charge level")
    range: Reading | None = Field(default=None, description="the range the car showed at its charge level")
    software_version: Reading | None = None
    charging_cycles: ChargingCycles | None = None
    battery_health: StateOfHealth


class TrendBin(BaseModel):
    """One bin of a curve: the percentiles of one estimate per vehicle, or withheld when too few vehicles."""

    low: int = Field(description="inclusive lower edge")
    high: int = Field(description="exclusive upper edge")
    withheld: bool = Field(description="true: fewer vehicles than the minimum cohort, so no numbers are published")
    vehicles: int | None = Field(default=None, description="distinct vehicles in the bin")
    p10: float | None = None
    p25: float | None = None
    p50: float | None = None
    p75: float | None = None
    p90: float | None = None


class TrendCurve(BaseModel):
    axis: Literal["odometer_km", "age_years"]
    bin_width: int
    description: str
    bins: list[TrendBin]


class ModelTrendline(BaseModel):
    """A model's state of health against distance and age, from the readings owners let us count."""

    model_id: str
    make: str
    model: str
    version: str
    synthetic: bool
    min_cohort: int = Field(description="bins with fewer distinct vehicles are withheld (k-anonymity)")
    method: Note
    baseline: Baseline | None
    reason: Note | None = Field(default=None, description="why there are no curves")
    by_odometer: TrendCurve
    by_age: TrendCurve
