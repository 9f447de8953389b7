from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime


class InvoiceSequence(Base):
    """The last invoice number issued per year; bumped in the invoice's own transaction (gap-free)."""

    __tablename__ = "invoice_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Invoice(Base):
    """A Data API invoice: the unbilled usage of one client up to a cutoff, closed once, never edited."""

    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("year", "sequence"), UniqueConstraint("account_id", "period_end"))

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, comment="the cutoff, exclusive")
    seller: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    net_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    vat_treatment: Mapped[str] = mapped_column(
        String(32), nullable=False, comment="finnish_vat, reverse_charge or outside_eu"
    )
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    vat_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    gross_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    usage_count: Mapped[int] = mapped_column(Integer, nullable=False, comment="the usage records it closed")
