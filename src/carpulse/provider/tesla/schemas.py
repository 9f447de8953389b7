"""Tesla's payloads, read tolerantly: unknown keys ignored, most fields optional."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TokenResponse(_Tolerant):
    access_token: str
    refresh_token: str | None = None
    id_token: str | None = None
    expires_in: int = 28800
    token_type: str = "Bearer"  # noqa: S105 - a scheme name


class RegionResponse(_Tolerant):
    region: str
    fleet_api_base_url: str


class TeslaVehicle(_Tolerant):
    id: int | str | None = None
    vin: str
    display_name: str | None = None
    state: str | None = None
    access_type: str | None = None
    in_service: bool | None = None
    option_codes: str | None = None
    color: str | None = None
    granular_access: dict[str, Any] | None = None


class Pagination(_Tolerant):
    next: int | str | None = None
    current: int | None = None
    pages: int | None = None


class VehicleList(_Tolerant):
    response: list[TeslaVehicle] = Field(default_factory=list)
    pagination: Pagination | None = None
    count: int | None = None
