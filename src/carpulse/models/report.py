from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime, new_id, utcnow


class ReportStatus(StrEnum):
    queued = "queued"
    processing = "processing"
    uploading = "uploading"
    # The car did not give its headline facts (asleep, offline): tried again on a schedule, then failed.
    waiting_for_vehicle = "waiting_for_vehicle"
    complete = "complete"
    failed = "failed"


# A requested report that is still queued or rendering; one per order, vehicle, language and package.
OPEN_REQUEST = "origin = 'request' AND status IN ('queued', 'processing', 'uploading', 'waiting_for_vehicle')"


class Report(TimestampedMixin, Base):
    """One document for one vehicle in one language: the task a customer polls, and its result.

    The task's state lives here, not in the broker: a lost job is found again by its lease.
    """

    __tablename__ = "report"
    __table_args__ = (
        # The database, not a read-then-insert, decides which of two simultaneous identical requests
        # makes the task: a partial unique index holds on PostgreSQL and SQLite alike.
        Index(
            "uq_report_open_request",
            "order_id",
            "vin",
            "locale",
            "package",
            unique=True,
            postgresql_where=text(OPEN_REQUEST),
            sqlite_where=text(OPEN_REQUEST),
        ),
    )

    id: Mapped[str] = mapped_column(String(43), primary_key=True, comment="the task id; a capability")
    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), nullable=False, index=True)
    connection_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    vin: Mapped[str] = mapped_column(String(17), nullable=False)
    locale: Mapped[str] = mapped_column(String(8), nullable=False)
    package: Mapped[str] = mapped_column(String(16), nullable=False)
    origin: Mapped[str] = mapped_column(String(16), nullable=False, comment="order (paid for) or request")
    dedupe_key: Mapped[str | None] = mapped_column(
        String(128), nullable=True, unique=True, comment="one report per order and vehicle from payment"
    )
    status: Mapped[ReportStatus] = mapped_column(
        Enum(ReportStatus, native_enum=False, length=24), nullable=False, default=ReportStatus.queued, index=True
    )
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deferrals: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, comment="times a throttling vendor made it wait (not attempts)"
    )
    retry_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, comment="a queued report waiting out a pause is not claimed before this"
    )
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    snapshot_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vehicle_snapshot.id", ondelete="SET NULL"), nullable=True
    )
    pdf_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    html_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, comment="when a worker last took it: its order's turn in the fair queue"
    )
    unread_facts: Mapped[list[str] | None] = mapped_column(
        JSON, nullable=True, comment="headline facts the car did not give on the last attempt"
    )
    partial_accepted_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, comment="the customer asked for the report with what was readable"
    )


class VehicleSnapshotRecord(Base):
    """A vehicle's data as acquired once, reused by every language of a report; its readings go to `observation`."""

    __tablename__ = "vehicle_snapshot"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    vin: Mapped[str] = mapped_column(String(17), nullable=False, index=True)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    with_history: Mapped[bool] = mapped_column(nullable=False, default=False)
    billable_calls: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class ReportPhoto(Base):
    """A customer's vehicle photo, re-encoded without metadata, shown at the end of the report."""

    __tablename__ = "report_photo"
    __table_args__ = (UniqueConstraint("connection_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    connection_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    storage_key: Mapped[str] = mapped_column(Text, nullable=False)
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
