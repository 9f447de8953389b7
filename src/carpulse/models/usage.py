from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id


class UsageRecord(Base):
    """One billable answer of the Data API, written in the answer's own transaction: what is billed, once."""

    __tablename__ = "usage_record"
    __table_args__ = (
        Index("ix_usage_record_account_day", "account_id", "day"),
        Index("ix_usage_record_account_invoice", "account_id", "invoice_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="RESTRICT"), nullable=False)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="SET NULL"), nullable=True, comment="NULL: called with the account's JWT"
    )
    endpoint: Mapped[str] = mapped_column(String(64), nullable=False, comment="the operation, e.g. vehicle.dynamic")
    vin: Mapped[str | None] = mapped_column(String(17), nullable=True, comment="NULL for model data and batches")
    units: Mapped[int] = mapped_column(Integer, nullable=False, comment="1, or the VINs a batch answered")
    plan_code: Mapped[str] = mapped_column(String(32), nullable=False)
    unit_price_minor: Mapped[int] = mapped_column(Integer, nullable=False, comment="net, the plan's price that day")
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False, comment="the UTC day it counts against")
    invoice_id: Mapped[str | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="RESTRICT"), nullable=True, comment="NULL until an invoice closes it"
    )
