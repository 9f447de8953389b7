from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, Float, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime, new_id, utcnow


class Car(TimestampedMixin, Base):
    """A Logbook car: one log per vehicle, shared by the drivers on `car_driver`."""

    __tablename__ = "car"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    # Who added it; null once they erased their account (the car's log may be kept for tax law).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    brand: Mapped[str | None] = mapped_column(String(40), nullable=True)
    model: Mapped[str | None] = mapped_column(String(80), nullable=True)
    plate: Mapped[str | None] = mapped_column(String(20), nullable=True)
    vin: Mapped[str | None] = mapped_column(String(17), nullable=True)
    odometer_start_km: Mapped[float | None] = mapped_column(
        Float, nullable=True, comment="the odometer when the car entered the log"
    )


class CarRole(StrEnum):
    owner = "owner"
    driver = "driver"


class CarDriver(Base):
    """Who may drive and read a car: its owner and the drivers invited by e-mail (claimed at their first visit)."""

    __tablename__ = "car_driver"
    __table_args__ = (UniqueConstraint("car_id", "email"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    car_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("car.id", ondelete="CASCADE"), nullable=False, index=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False, index=True, comment="lower-cased")
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), nullable=True, index=True
    )
    role: Mapped[CarRole] = mapped_column(
        Enum(CarRole, name="car_role", native_enum=False, length=10, validate_strings=True), nullable=False
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
