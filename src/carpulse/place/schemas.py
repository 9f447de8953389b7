from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from carpulse.models import PlaceKind

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class PlaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: PlaceKind = PlaceKind.other
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float | None = Field(default=None, ge=10, le=5000, description="default: the server's (150 m)")


class PlaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    kind: PlaceKind | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, ge=10, le=5000)


class PlaceRead(BaseModel):
    id: uuid.UUID | None = Field(description="null for the places in settings, which only an operator changes")
    name: str
    kind: PlaceKind
    lat: float
    lon: float
    radius_m: float
    source: Literal["yours", "settings"]
    created_at: datetime | None


class PlaceList(BaseModel):
    places: list[PlaceRead]


class PlaceSaved(PlaceRead):
    relabelled_trips: int = Field(description="trips (not locked) whose ends were labelled again")
