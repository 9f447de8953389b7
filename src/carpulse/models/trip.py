from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, Float, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime, new_id


class TripState(StrEnum):
    open = "open"
    closed = "closed"
    # Closed by the recovery job at its last fix: the phone's `end` never came.
    recovered = "recovered"


class DistanceSource(StrEnum):
    gps = "gps"
    odometer = "odometer"
    route = "route"


class TripEnd(StrEnum):
    """How a trip's end was decided."""

    end = "end"  # the phone's `end`
    next_start = "next_start"  # a `start` came while it was open: closed at its last fix
    recovered = "recovered"  # no fix for the recovery timeout
    split_at = "split"  # a driver split it
    merged = "merged"


class Trip(TimestampedMixin, Base):
    """A drive of one car by one driver, assembled from its webhook events (the track is their fixes)."""

    __tablename__ = "trip"
    __table_args__ = (
        Index("ix_trip_car_started", "car_id", "started_at"),
        Index("ix_trip_driver_started", "driver_id", "started_at"),
        # One open trip per car: two concurrent assemblies cannot both open one.
        Index(
            "uq_trip_open_per_car",
            "car_id",
            unique=True,
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    car_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("car.id", ondelete="CASCADE"), nullable=False)
    driver_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True, comment="null once the driver erased the account"
    )
    state: Mapped[TripState] = mapped_column(
        Enum(TripState, name="trip_state", native_enum=False, length=10, validate_strings=True), nullable=False
    )
    ended_by: Mapped[TripEnd | None] = mapped_column(
        Enum(TripEnd, name="trip_end", native_enum=False, length=12, validate_strings=True), nullable=True
    )
    has_start_event: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_fix_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    start_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    start_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    start_zone: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="IANA time zone at the start")
    end_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    start_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    end_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    start_place: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, comment="{id, name, kind}")
    end_place: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    distance_source: Mapped[DistanceSource | None] = mapped_column(
        Enum(DistanceSource, name="distance_source", native_enum=False, length=10, validate_strings=True),
        nullable=True,
    )
    distance_estimated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    odometer_start_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    odometer_end_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_start_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_end_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    fix_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    dropped_fixes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The simplified track for maps, [[lon, lat], …]; the full track is the trip's events.
    track: Mapped[list[list[float]] | None] = mapped_column(JSON, nullable=True)
    # The tax logbook's classification (its own issue): every trip starts unclassified.
    purpose: Mapped[str] = mapped_column(String(24), nullable=False, default="unclassified")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    thinned_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, comment="when retention reduced the track to its ends"
    )
    measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
