from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, utcnow


class VehicleModel(Base):
    """One version of a model as sold, with a source for every figure; synced from the shipped catalogue."""

    __tablename__ = "vehicle_model"

    model_id: Mapped[str] = mapped_column(String(96), primary_key=True, comment="a stable slug")
    make: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    model: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[str] = mapped_column(String(128), nullable=False)
    year_from: Mapped[int] = mapped_column(Integer, nullable=False)
    year_to: Mapped[int | None] = mapped_column(Integer, nullable=True, comment="null: still sold")
    body: Mapped[str | None] = mapped_column(String(32), nullable=True)
    drive: Mapped[str | None] = mapped_column(String(8), nullable=True)
    motor: Mapped[str | None] = mapped_column(String(24), nullable=True)
    chemistry: Mapped[str | None] = mapped_column(String(8), nullable=True)
    nominal_kwh: Mapped[Decimal | None] = mapped_column(Numeric(6, 1), nullable=True)
    usable_kwh: Mapped[Decimal | None] = mapped_column(Numeric(6, 1), nullable=True)
    rated_range_km: Mapped[Decimal | None] = mapped_column(Numeric(6, 1), nullable=True)
    rated_range_error_percent: Mapped[Decimal | None] = mapped_column(
        Numeric(4, 1), nullable=True, comment="half-width of the interval the rating lies in"
    )
    range_rating: Mapped[str] = mapped_column(String(64), nullable=False, comment="EPA rated or WLTP")
    warranty_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    warranty_km: Mapped[int | None] = mapped_column(Integer, nullable=True)
    warranty_unlimited_km: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    warranty_retained_percent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    factories: Mapped[list[str]] = mapped_column(JSON, nullable=False, comment="WMIs it is built under; []: any")
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, comment="figure name -> {source, confirmed}")
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
