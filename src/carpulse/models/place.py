from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import Enum, Float, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, new_id


class PlaceKind(StrEnum):
    home = "home"
    work = "work"
    customer = "customer"
    other = "other"


class Place(TimestampedMixin, Base):
    """A driver's known place: a trip end within `radius_m` of the centre is labelled with it."""

    __tablename__ = "place"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[PlaceKind] = mapped_column(
        Enum(PlaceKind, name="place_kind", native_enum=False, length=10, validate_strings=True), nullable=False
    )
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    radius_m: Mapped[float] = mapped_column(Float, nullable=False)
