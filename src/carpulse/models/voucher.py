from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime, new_id


class VoucherKind(StrEnum):
    percent = "percent"
    fixed = "fixed"


class RedemptionState(StrEnum):
    reserved = "reserved"
    confirmed = "confirmed"
    released = "released"


class Voucher(TimestampedMixin, Base):
    __tablename__ = "voucher"
    __table_args__ = (
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        CheckConstraint("max_redemptions IS NULL OR uses <= max_redemptions", name="uses_within_cap"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[VoucherKind] = mapped_column(Enum(VoucherKind, native_enum=False, length=16), nullable=False)
    percent_off: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    amount_off_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    max_redemptions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_per_customer: Mapped[int | None] = mapped_column(Integer, nullable=True)
    packages: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    min_amount_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Reserved + confirmed redemptions; moved only by conditional UPDATEs so the last use goes once.
    uses: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Payments honoured after their reserved use was released and no use was left (see OrderService._paid).
    over_cap_uses: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class VoucherRedemption(TimestampedMixin, Base):
    __tablename__ = "voucher_redemption"
    __table_args__ = (UniqueConstraint("order_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    voucher_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("voucher.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), nullable=False)
    customer_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    state: Mapped[RedemptionState] = mapped_column(Enum(RedemptionState, native_enum=False, length=16), nullable=False)
