from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime


class DataClient(TimestampedMixin, Base):
    """An API client account's standing with the Data API: its plan, and whether an admin suspended it."""

    __tablename__ = "data_client"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan.id", ondelete="RESTRICT"), nullable=False)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    suspended_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
