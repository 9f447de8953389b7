"""The priced selection a quote computes and its order keeps, column for column."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column


class PricedSelection:
    package: Mapped[str] = mapped_column(String(16), nullable=False)
    vins: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    discount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    net_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    vat_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    gross_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    voucher_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("voucher.id", ondelete="SET NULL"), nullable=True)
    voucher_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    customer_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


PRICED_FIELDS = (
    "package", "vins", "lines", "currency", "subtotal_cents", "discount_cents", "net_cents", "vat_rate",
    "vat_cents", "gross_cents", "voucher_id", "voucher_code", "customer_key",
)  # fmt: skip


def priced_values(source: PricedSelection) -> dict[str, Any]:
    """The priced columns of a quote, to freeze into its order (lists copied, not shared)."""
    values = {name: getattr(source, name) for name in PRICED_FIELDS}
    values["vins"] = list(values["vins"])
    values["lines"] = list(values["lines"])
    return values
