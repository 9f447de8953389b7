from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, Float, ForeignKey, Index, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id


class TripEventKind(StrEnum):
    start = "start"
    ping = "ping"
    end = "end"


class TripEvent(Base):
    """One webhook call from a phone, stored once (by car and dedupe key) before trips are assembled from it."""

    __tablename__ = "trip_event"
    __table_args__ = (
        UniqueConstraint("car_id", "dedupe_key"),
        Index("ix_trip_event_trip_at", "trip_id", "at"),
        Index(
            "ix_trip_event_pending",
            "car_id",
            "at",
            postgresql_where=text("assembled_at IS NULL"),
            sqlite_where=text("assembled_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    car_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("car.id", ondelete="CASCADE"), nullable=False)
    driver_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[TripEventKind] = mapped_column(
        Enum(TripEventKind, name="trip_event_kind", native_enum=False, length=8, validate_strings=True),
        nullable=False,
    )
    dedupe_key: Mapped[str] = mapped_column(
        String(100), nullable=False, comment="the client's event id, else a digest of kind, time and position"
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, comment="the phone's timestamp")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    altitude_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed_mps: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    odometer_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    trip_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("trip.id", ondelete="SET NULL"), nullable=True)
    # Null until the assembly job has placed it (in a trip, or matched nowhere and kept).
    assembled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
