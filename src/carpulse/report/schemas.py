from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carpulse.connect.schemas import Locale
from carpulse.models import ReportStatus

ContentPackage = Literal["basic", "pro"]


class ReportTarget(BaseModel):
    """Whose reports: the paying connect session, or the order (which outlives the session)."""

    model_config = ConfigDict(extra="forbid")

    session_id: str | None = Field(default=None, min_length=1, max_length=128)
    order_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_of(self) -> ReportTarget:
        if (self.session_id is None) == (self.order_id is None):
            raise ValueError("give exactly one of session_id and order_id")
        return self


class GenerateReports(ReportTarget):
    pass


class ReportRequest(ReportTarget):
    vin: str = Field(min_length=11, max_length=17, pattern=r"^[A-HJ-NPR-Za-hj-npr-z0-9]+$")
    locale: Locale = Locale.en
    package: ContentPackage | None = Field(
        default=None, description="defaults to what the order paid for; Basic may be asked of a Pro order"
    )


class TaskQueued(BaseModel):
    task_id: str
    status: ReportStatus = Field(
        default=ReportStatus.queued, description="queued, or the state of the identical task this request joined"
    )
    status_url: str


class ReportTask(BaseModel):
    task_id: str
    status: ReportStatus
    progress: int = Field(ge=0, le=100)
    vin: str
    locale: str
    package: ContentPackage
    failure_reason: str | None = None
    message: str | None = Field(
        default=None, description="what the customer can do while the report waits for the car (English)"
    )
    retry_at: datetime | None = Field(default=None, description="when the car is tried next (waiting or queued)")
    waiting_until: datetime | None = Field(
        default=None,
        description="a report still waiting for its car then fails, and an order it leaves empty is refunded",
    )
    unread_facts: list[str] = Field(
        default_factory=list,
        description="headline facts (odometer, battery_level, range, software_version) the car did not give; "
        "a report delivered with what was readable lists them as gaps",
    )
    partial: bool = Field(default=False, description="the customer asked for the report with what was readable")
    created_at: datetime
    completed_at: datetime | None = None
    download_url: str | None = Field(default=None, description="signed, valid for one hour")
    html_url: str | None = Field(default=None, description="signed HTML view, valid for one hour")
    expires_at: datetime | None = Field(default=None, description="when the signed links stop working")


class VehicleFacts(BaseModel):
    """The headline readings of the vehicle's latest acquisition (units: km, percent)."""

    captured_at: datetime
    odometer_km: float | None = None
    battery_level_percent: float | None = None
    range_km: float | None = None
    software_version: str | None = None
    online_state: str
    gaps: list[str] = Field(default_factory=list, description="parts the brand could not give")


class VehicleReports(BaseModel):
    vin: str
    display_name: str | None
    model: str | None
    status: ReportStatus
    facts: VehicleFacts | None = Field(default=None, description="None until the vehicle has been read")
    reports: list[ReportTask]


class SessionReports(BaseModel):
    order_id: str
    order_status: str
    package: str
    status: Literal["pending", "processing", "waiting_for_vehicle", "complete", "failed"]
    vehicles: list[VehicleReports]
    receipt_url: str | None = Field(description="the receipt by its own id (it opens the receipt only)")


class Photo(BaseModel):
    id: str
    content_type: str
    width: int
    height: int
    size: int
    created_at: datetime
    url: str = Field(description="signed, valid for one hour")


class Photos(BaseModel):
    photos: list[Photo]
    limit: int


class AdminReport(BaseModel):
    """A report task as the admin sees it: its state, stage and why it failed."""

    id: str
    order_id: str
    vin: str
    locale: str
    package: str
    origin: str = Field(description="order (paid for) or request (another language or package later)")
    status: str
    progress: int = Field(description="percent of the render done")
    attempts: int
    deferrals: int
    failure_reason: str | None
    unread_facts: list[str] | None
    retry_at: datetime | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    rerunnable: bool = Field(description="failed, and its order is paid for: POST .../rerun renders it again")


class AdminReportList(BaseModel):
    reports: list[AdminReport]
