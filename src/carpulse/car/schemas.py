from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from carpulse.models import CarRole

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Brand = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Model = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Plate = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=20)]
Vin = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32)]
Odometer = Annotated[float, Field(ge=0, le=3_000_000, description="km")]


class CarCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    brand: Brand | None = None
    model: Model | None = None
    plate: Plate | None = None
    vin: Vin | None = Field(default=None, description="17 characters; checked like every VIN we take")
    odometer_start_km: Odometer | None = Field(default=None, description="the odometer when you start the log")


class CarUpdate(BaseModel):
    """Only the fields sent change; `null` clears an optional one."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    brand: Brand | None = None
    model: Model | None = None
    plate: Plate | None = None
    vin: Vin | None = None
    odometer_start_km: Odometer | None = None


class CarDriverRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: CarRole
    joined: bool = Field(description="whether the address has signed in since it was added")
    added_at: datetime


class CarRead(BaseModel):
    id: uuid.UUID
    name: str
    brand: str | None
    model: str | None
    plate: str | None
    vin: str | None
    odometer_start_km: float | None
    role: CarRole = Field(description="yours on this car")
    drivers: list[CarDriverRead]
    created_at: datetime
    updated_at: datetime


class CarList(BaseModel):
    cars: list[CarRead]


class CarDriverAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(description="the driver's Google address; they see the car once they sign in")


class WebhookTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(default="iPhone Shortcut", description="to tell your phones apart")


class WebhookTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    car_id: uuid.UUID
    name: str
    display_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class WebhookUrls(BaseModel):
    start: str
    ping: str
    end: str


class WebhookTokenCreated(WebhookTokenRead):
    token: str = Field(description="shown once: send it as `Authorization: Bearer …` or as the URL's last segment")
    urls: WebhookUrls = Field(description="the three URLs with the token as their last segment, for Shortcuts")


class WebhookTokenList(BaseModel):
    tokens: list[WebhookTokenRead]
