from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carpulse.models import AccountRole


class LoginJson(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - not a secret
    expires_in: int = Field(description="seconds until the token expires")


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    email: str | None
    role: AccountRole
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    company_name: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2")
    vat_number: str | None = Field(default=None, description="EU VAT number, compact, with its prefix (EL for Greece)")
    email_confirmed_at: datetime | None = None
