from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, new_id


class Plan(TimestampedMixin, Base):
    """A Data API plan (Basic, Premium, Enterprise, or one an admin adds); its numbers are its `PlanTerms`."""

    __tablename__ = "plan"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    is_default: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, comment="the plan a newly registered client is on"
    )


class PlanTerms(Base):
    """A plan's quota and prices from one UTC day on: a change is a new row from the next day, so the past stays."""

    __tablename__ = "plan_terms"
    __table_args__ = (UniqueConstraint("plan_id", "effective_from"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False)
    effective_from: Mapped[date] = mapped_column(Date, nullable=False, comment="a UTC day")
    daily_quota: Mapped[int | None] = mapped_column(
        Integer, nullable=True, comment="billable units per UTC day; NULL: unlimited"
    )
    unit_price_minor: Mapped[int] = mapped_column(Integer, nullable=False, comment="net, per billable unit")
    burst_per_second: Mapped[int] = mapped_column(Integer, nullable=False)
