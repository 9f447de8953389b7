from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime, new_id, utcnow
from carpulse.models.observation import DataSharing
from carpulse.models.priced import PricedSelection


class OrderStatus(StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    fulfilled = "fulfilled"
    failed = "failed"
    expired = "expired"
    refunded = "refunded"


def order_reference(order_id: str) -> str:
    """The order's public reference (receipts, payment return URLs): support can match it; it opens nothing."""
    return "CP-" + hashlib.sha256(f"order-reference:{order_id}".encode()).hexdigest()[:12].upper()


class Order(PricedSelection, TimestampedMixin, Base):
    __tablename__ = "order"
    __table_args__ = (UniqueConstraint("provider", "provider_payment_id"),)

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("quote.id", ondelete="RESTRICT"), nullable=False, unique=True)
    status: Mapped[OrderStatus] = mapped_column(
        Enum(OrderStatus, native_enum=False, length=24), nullable=False, default=OrderStatus.pending_payment, index=True
    )
    locale: Mapped[str] = mapped_column(String(8), nullable=False)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    provider_payment_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    redirect_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The method actually used is `payment_method`, read from the provider once paid.
    checkout_method: Mapped[str | None] = mapped_column(
        String(32),
        nullable=True,
        comment="the method the customer chose (the checkout offers only it); null: every method of provider",
    )
    payment_method: Mapped[str | None] = mapped_column(String(32), nullable=True)
    payment_reference: Mapped[str | None] = mapped_column(String(255), nullable=True)
    flagged_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    refunded_cents: Mapped[int | None] = mapped_column(Integer, nullable=True, comment="money given back, in full")
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    refund_id: Mapped[str | None] = mapped_column(String(255), nullable=True, comment="the provider's refund id")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    data_sharing: Mapped[DataSharing] = mapped_column(
        Enum(DataSharing, native_enum=False, length=32, validate_strings=True),
        nullable=False,
        default=DataSharing.private,
        server_default=DataSharing.private.value,
        comment="what the buyer lets us do with the cars' readings beyond the report; they may change it",
    )


class OrderTransition(Base):
    """Every change of an order's status: who, when, why."""

    __tablename__ = "order_transition"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), nullable=False, index=True)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str] = mapped_column(String(24), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
