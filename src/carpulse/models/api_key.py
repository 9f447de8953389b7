from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id, utcnow


class ApiKey(Base):
    """A Data API key: shown once, kept only as an HMAC of the whole key, revocable at once."""

    __tablename__ = "api_key"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    environment: Mapped[str] = mapped_column(String(8), nullable=False, comment="live or test: the key's prefix")
    display_prefix: Mapped[str] = mapped_column(
        String(24), nullable=False, comment="the key's first characters, to recognise it in a list"
    )
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True, comment="HMAC-SHA256, hex")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
