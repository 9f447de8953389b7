from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id, utcnow


class TripChangeKind(StrEnum):
    merged = "merged"
    split_at = "split"
    deleted = "deleted"
    relabelled = "relabelled"
    edited = "edited"


class TripChange(Base):
    """An append-only record of what a person (or a place change) did to a trip, with the trip before and after.

    The tax logbook chains these rows (its own issue); trips a change removed are soft-deleted, never dropped.
    """

    __tablename__ = "trip_change"
    __table_args__ = (Index("ix_trip_change_car_at", "car_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    trip_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trip.id", ondelete="CASCADE"), nullable=False, index=True)
    car_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("car.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True, comment="who; null for the system"
    )
    kind: Mapped[TripChangeKind] = mapped_column(
        Enum(TripChangeKind, name="trip_change_kind", native_enum=False, length=12, validate_strings=True),
        nullable=False,
    )
    related_trip_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("trip.id", ondelete="SET NULL"), nullable=True, comment="the other trip of a merge or split"
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
