from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id, utcnow


class DriverRefreshToken(Base):
    """A driver's refresh token, kept as its SHA-256 only. Each use rotates it: the used one is stamped and
    its successor shares its `family_id`; a stamped token presented again revokes the whole family."""

    __tablename__ = "driver_refresh_token"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # One sign-in's chain of rotations (one device's session).
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
