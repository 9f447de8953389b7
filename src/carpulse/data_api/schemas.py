from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from carpulse.vehicle_model.schemas import DynamicVehicle, StaticVehicle

BatchPart = Literal["static", "dynamic"]


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vins: list[str] = Field(
        min_length=1,
        description="up to `data_api.batch_max_vins` (100) distinct VINs",
        examples=[["5YJ3E7EB4LF000001"]],
    )
    include: list[BatchPart] = Field(
        default=["static", "dynamic"], min_length=1, description="which data to answer per VIN"
    )


class BatchEntry(BaseModel):
    vin: str
    status: int = Field(description="200, or the status a single call for this VIN would have answered")
    billed: bool
    static: StaticVehicle | None = None
    dynamic: DynamicVehicle | None = None
    problem: dict[str, Any] | None = Field(
        default=None, description="the RFC 9457 problem a single call would get (for `dynamic` when static answered)"
    )


class BatchResponse(BaseModel):
    results: list[BatchEntry]
    billed_units: int = Field(description="VINs answered with data: what this call bills")
