from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ReconcileRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    started_at: datetime
    finished_at: datetime
    process: str = Field(description="host and pid of the replica that ran it")
    found: dict[str, int] = Field(description="per sweep that ran: what it found (re-queued jobs, handled rows)")
    failed: dict[str, str] = Field(description="per sweep that raised: the error's type and message")
    total_found: int


class ReconcileRunList(BaseModel):
    runs: list[ReconcileRunRead] = Field(description="newest first")
    kept_days: int = Field(description="rounds older than this are forgotten")
