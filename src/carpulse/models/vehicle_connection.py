from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime


class VehicleConnection(TimestampedMixin, Base):
    """A connected vehicle account kept past its connect session, once an order needs it.

    The connect session (ephemeral, 30 min) is copied here at checkout, because report jobs and the
    `/orders/{id}/…` routes outlive it. Tokens are encrypted (MultiFernet); from then on this row is
    the tokens' record: a brand's refresh tokens may be single-use, so there must be one current pair.
    """

    __tablename__ = "vehicle_connection"

    id: Mapped[str] = mapped_column(String(128), primary_key=True, comment="the connect session id")
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    region: Mapped[str] = mapped_column(String(16), nullable=False)
    fleet_base_url: Mapped[str] = mapped_column(Text, nullable=False)
    access_token: Mapped[str] = mapped_column(Text, nullable=False)
    refresh_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    locale: Mapped[str] = mapped_column(String(8), nullable=False)
    vehicles: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)

    def __repr__(self) -> str:
        return f"VehicleConnection(id={self.id[:8]}…, provider={self.provider}, region={self.region})"
