from __future__ import annotations

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
