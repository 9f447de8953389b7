from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Enum, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carpulse.models.base import Base, TimestampedMixin, UTCDateTime, new_id


class AccountRole(StrEnum):
    admin = "admin"
    customer = "customer"
    api_client = "api_client"
    # A Logbook user, signed in with Google.
    driver = "driver"


class Account(TimestampedMixin, Base):
    __tablename__ = "account"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    # Stored lower-cased: usernames are compared case-insensitively.
    username: Mapped[str] = mapped_column(String(150), unique=True, nullable=False)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[AccountRole] = mapped_column(
        Enum(AccountRole, name="account_role", native_enum=False, length=20, validate_strings=True),
        nullable=False,
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A Data API client's business, given at sign-up (the VAT number as its compact form, EL for Greece).
    company_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    vat_number: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # When the owner followed the confirmation link; a self-registered account is inactive until then.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
