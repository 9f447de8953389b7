from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from carpulse.models import DistanceSource, TripEnd, TripState

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class WebhookEvent(BaseModel):
    """What a phone sends: at least a position and the phone's time (ISO 8601 with offset, or Unix seconds)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    lat: Latitude = Field(validation_alias=AliasChoices("lat", "latitude"))
    lon: Longitude = Field(validation_alias=AliasChoices("lon", "lng", "longitude"))
    timestamp: AwareDatetime = Field(validation_alias=AliasChoices("timestamp", "time", "date"))
    accuracy: float | None = Field(default=None, ge=0, le=100_000, description="horizontal accuracy, metres")
    altitude: float | None = Field(default=None, ge=-1_000, le=10_000, description="metres")
    speed: float | None = Field(default=None, le=150, description="m/s; negative (iOS: unknown) is ignored")
    heading: float | None = Field(default=None, le=360, description="degrees; negative (unknown) is ignored")
    event_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        validation_alias=AliasChoices("event_id", "id"),
        description="the phone's own id: the same id twice is stored once",
    )
    odometer_km: float | None = Field(
        default=None, ge=0, le=3_000_000, validation_alias=AliasChoices("odometer_km", "odometer")
    )
    battery_level: float | None = Field(
        default=None, ge=0, le=100, validation_alias=AliasChoices("battery_level", "battery"), description="per cent"
    )

    @field_validator("speed", "heading")
    @classmethod
    def _unknown_is_none(cls, value: float | None) -> float | None:
        return None if value is not None and value < 0 else value


class WebhookAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    received: int = Field(description="events in the request")
    stored: int = Field(description="events new to us (the rest we had already)")


class Address(BaseModel):
    label: str
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = None
    city: str | None = None
    country_code: str | None = None
    source: str
    precision: str


class PlaceLabel(BaseModel):
    id: uuid.UUID | None = Field(description="null for the places in settings (home, office)")
    name: str
    kind: str


class TripEndpoint(BaseModel):
    at: datetime | None = Field(description="UTC")
    local_time: datetime | None = Field(description="the same instant in the time zone where it happened")
    time_zone: str | None
    lat: float | None
    lon: float | None
    address: Address | None
    place: PlaceLabel | None
    odometer_km: float | None
    battery_pct: float | None


class TripRead(BaseModel):
    id: uuid.UUID
    car_id: uuid.UUID
    driver_id: uuid.UUID | None
    state: TripState
    ended_by: TripEnd | None = Field(description="`end`, `next_start`, `recovered` (no fix for a while), …")
    recovered: bool = Field(description="closed by the recovery job: the phone's `end` never came")
    start: TripEndpoint
    end: TripEndpoint
    distance_km: float | None
    distance_source: DistanceSource | None
    distance_estimated: bool = Field(description="true when the distance is an offline estimate")
    duration_s: int | None
    fix_count: int
    purpose: str = Field(description="unclassified, business, commute or private")
    locked: bool
    thinned: bool = Field(description="its track was reduced to its ends after the retention period")


class TripPage(BaseModel):
    trips: list[TripRead]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page; null at the end")


class ActiveTrip(BaseModel):
    """What a lock-screen live activity or a watch shows."""

    active: bool
    trip: TripRead | None
    elapsed_s: int | None
    last_fix_age_s: int | None


class TotalsRow(BaseModel):
    period: str = Field(description="YYYY-MM-DD or YYYY-MM where each trip started (its local date), or the car id")
    car_id: uuid.UUID | None
    trips: int
    distance_km: float
    duration_s: int


class Totals(BaseModel):
    by: Literal["day", "month", "car"]
    rows: list[TotalsRow]


class TripMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    with_trip: uuid.UUID = Field(description="the other trip (same car); the later one is folded into the earlier")


class TripSplit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime = Field(description="fixes from this instant on form the second trip")


# What a trip was for; the tax logbook (its own issue) reads `business` and `commute` apart from `private`.
TripPurpose = Literal["unclassified", "business", "commute", "private"]
TRIP_PURPOSES: tuple[TripPurpose, ...] = ("unclassified", "business", "commute", "private")


class TripUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    purpose: TripPurpose | None = Field(default=None, description="what the trip was for")


class TripPair(BaseModel):
    trips: list[TripRead]


def feature_properties(trip: TripRead) -> dict[str, Any]:
    return {
        "id": str(trip.id),
        "car_id": str(trip.car_id),
        "state": trip.state.value,
        "started_at": trip.start.at.isoformat() if trip.start.at else None,
        "ended_at": trip.end.at.isoformat() if trip.end.at else None,
        "distance_km": trip.distance_km,
        "distance_source": trip.distance_source.value if trip.distance_source else None,
        "start_address": trip.start.address.label if trip.start.address else None,
        "end_address": trip.end.address.label if trip.end.address else None,
    }
