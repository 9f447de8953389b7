from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id, utcnow


class InboundEvent(Base):
    """A webhook delivery exactly as received, keyed by (provider, event id): replays insert nothing."""

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    event_type: Mapped[str] = mapped_column(String(128), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
