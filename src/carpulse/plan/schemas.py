from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PLAN_CODE = r"^[a-z][a-z0-9_-]{1,31}$"


class PlanTermsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    effective_from: date = Field(description="the UTC day these terms start")
    daily_quota: int | None = Field(description="billable units per UTC day; null: unlimited")
    unit_price_minor: int = Field(description="net price per billable unit, in minor units (cents)")
    burst_per_second: int = Field(description="requests per second")


class PlanRead(BaseModel):
    code: str
    name: str
    currency: str
    is_default: bool
    current: PlanTermsRead
    scheduled: PlanTermsRead | None = Field(description="terms that start on a later UTC day, if a change waits")


class PlanList(BaseModel):
    plans: list[PlanRead]


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=PLAN_CODE, examples=["fleet-2027"])
    name: str = Field(min_length=1, max_length=80)
    currency: Literal["EUR"] = Field(default="EUR", description="invoices are in euros, one currency each")
    daily_quota: int | None = Field(ge=1, le=100_000_000, description="null: unlimited")
    unit_price_minor: int = Field(ge=0, le=1_000_000)
    burst_per_second: int = Field(ge=1, le=10_000)


class PlanUpdate(BaseModel):
    """What changes; the numbers apply from the next UTC day, the name at once."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=80)
    daily_quota: int | None = Field(default=None, ge=1, le=100_000_000, description="send null for unlimited")
    unit_price_minor: int | None = Field(default=None, ge=0, le=1_000_000)
    burst_per_second: int | None = Field(default=None, ge=1, le=10_000)


class DataClientRead(BaseModel):
    account_id: uuid.UUID
    username: str
    plan: str
    suspended_at: datetime | None
    suspended_reason: str | None


class DataClientList(BaseModel):
    clients: list[DataClientRead]


class PlanChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(pattern=PLAN_CODE, description="the plan's code; applies at once")


class Suspension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
