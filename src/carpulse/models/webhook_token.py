from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id, utcnow


class WebhookToken(Base):
    """A phone's credential for one car's trip webhooks: shown once, kept as an HMAC, revocable."""

    __tablename__ = "webhook_token"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    car_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("car.id", ondelete="CASCADE"), nullable=False, index=True)
    driver_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True, comment="whose trips it records"
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    display_prefix: Mapped[str] = mapped_column(String(24), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True, comment="HMAC-SHA256, hex")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
