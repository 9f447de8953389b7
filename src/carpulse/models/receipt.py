from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime


class ReceiptSequence(Base):
    """The last receipt number issued per year; bumped in the receipt's own transaction (gap-free)."""

    __tablename__ = "receipt_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Receipt(Base):
    __tablename__ = "receipt"
    __table_args__ = (UniqueConstraint("year", "sequence"), UniqueConstraint("order_id"))

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="RESTRICT"), nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    locale: Mapped[str] = mapped_column(String(8), nullable=False)
    seller: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    discount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    net_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    vat_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    gross_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    payment_method: Mapped[str | None] = mapped_column(String(32), nullable=True)
    payment_provider: Mapped[str] = mapped_column(String(16), nullable=False)
    payment_reference: Mapped[str | None] = mapped_column(String(255), nullable=True)
    voucher_code: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CreditNoteSequence(Base):
    """The last credit-note number issued per year: a series of its own, as gap-free as the receipts'."""

    __tablename__ = "credit_note_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class CreditNote(Base):
    """A credit note (hyvityslasku) cancelling a receipt in full: the receipt itself is never edited.

    Amounts are negative and carry the receipt's VAT breakdown.
    """

    __tablename__ = "credit_note"
    __table_args__ = (UniqueConstraint("year", "sequence"), UniqueConstraint("receipt_id"))

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    receipt_id: Mapped[str] = mapped_column(ForeignKey("receipt.id", ondelete="RESTRICT"), nullable=False)
    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="RESTRICT"), nullable=False, index=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    refund_reference: Mapped[str | None] = mapped_column(String(255), nullable=True)
    discount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    net_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    vat_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    gross_cents: Mapped[int] = mapped_column(Integer, nullable=False)
