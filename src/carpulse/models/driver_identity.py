from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime, new_id


class DriverIdentity(TimestampedMixin, Base):
    """Who a driver account is at an identity provider: Google's `sub` is the key (an address can change)."""

    __tablename__ = "driver_identity"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("account.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    # As the provider said at the last sign-in (the account's `email` follows it).
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    picture: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
