from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GroupBy = Literal["day", "endpoint", "key"]


class UsageGroup(BaseModel):
    group: str = Field(description="the UTC day, the endpoint, or the API key id ('jwt' for calls with a token)")
    currency: str
    calls: int
    units: int = Field(description="billable units: 1 per call, or per VIN a batch answered")
    amount_minor: int = Field(description="net, in minor units (cents)")
    billed_units: int
    billed_amount_minor: int
    unbilled_units: int
    unbilled_amount_minor: int


class UsageTotal(BaseModel):
    currency: str
    calls: int
    units: int
    amount_minor: int
    billed_amount_minor: int
    unbilled_amount_minor: int


class UsageReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_day: date = Field(alias="from", description="first UTC day, inclusive")
    to_day: date = Field(alias="to", description="last UTC day, inclusive")
    group_by: GroupBy
    groups: list[UsageGroup]
    totals: list[UsageTotal] = Field(description="one per currency")
