from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Enum, String, Text, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id, utcnow


class ObservationKind(StrEnum):
    """The scalar readings of a `VehicleSnapshot` that are kept, named as the snapshot names them."""

    odometer = "odometer"
    battery_level = "battery_level"
    usable_battery_level = "usable_battery_level"
    range = "range"
    energy_added = "energy_added"
    charging_state = "charging_state"
    software_version = "software_version"


class DataSharing(StrEnum):
    """What the person a reading came from agreed it may be used for beyond their own product."""

    private = "private"  # their own report or logbook only (the default: nothing leaves)
    model_statistics = "model_statistics"  # counted, unnamed, in a model's published curves (k-anonymous cohorts)
    vehicle_data = "vehicle_data"  # sold per VIN through the Data API


class Observation(Base):
    """One reading of one vehicle from any provider: what Reports and the Data API read a car's history from."""

    __tablename__ = "observation"
    __table_args__ = (
        # A reading is recorded once, however often it is seen (a reused snapshot, a car repeating its last
        # values); the key's order also serves queries by vehicle, kind and time.
        UniqueConstraint("vin", "kind", "captured_at", "source"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    vin: Mapped[str] = mapped_column(String(17), nullable=False)
    kind: Mapped[ObservationKind] = mapped_column(Enum(ObservationKind, native_enum=False, length=32), nullable=False)
    value: Mapped[str] = mapped_column(
        Text, nullable=False, comment="a decimal number for measured kinds, else the text as the provider gave it"
    )
    unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(64), nullable=False, comment="the provider's API (tesla_fleet)")
    brand: Mapped[str] = mapped_column(String(32), nullable=False)
    connection_id: Mapped[str | None] = mapped_column(
        String(128), nullable=True, comment="the connection that read it first"
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    sharing: Mapped[DataSharing] = mapped_column(
        Enum(DataSharing, native_enum=False, length=32, validate_strings=True),
        nullable=False,
        default=DataSharing.private,
        server_default=DataSharing.private.value,
        comment="the consent it was read under; the Data API reads only what it allows",
    )
    synthetic: Mapped[bool] = mapped_column(
        Boolean,
        nullable=False,
        default=False,
        server_default=false(),
        comment="written by `carpulse simulate`: never mixed with real readings, refused in production",
    )
