from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, UTCDateTime, new_id


class ReconcileRun(Base):
    """One round of the reconciler (every declared sweep due that round): when, where, what it found."""

    __tablename__ = "reconcile_run"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    process: Mapped[str] = mapped_column(String(128), nullable=False, comment="host and pid of the replica")
    found: Mapped[dict[str, int]] = mapped_column(
        JSON, nullable=False, comment="per sweep: the lost work it re-queued or the rows it handled"
    )
    failed: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, comment="per sweep that raised: the error")
    total_found: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
