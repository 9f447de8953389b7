from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

REDIRECT_TO_MAX_LENGTH = 512


class InitiateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redirect_to: str | None = Field(
        default=None,
        max_length=REDIRECT_TO_MAX_LENGTH,
        description="where the browser goes after signing in: a path on this site (`/logbook`); default `/`",
        examples=["/logbook/trips"],
    )

    @field_validator("redirect_to")
    @classmethod
    def _same_origin_path(cls, value: str | None) -> str | None:
        return same_origin_path(value)


def same_origin_path(value: str | None) -> str | None:
    """A path on this origin, or ValueError: `//host`, `/\\host` and anything with a scheme lead elsewhere."""
    if value is None:
        return None
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(character in value for character in "\\\r\n\t")
        or any(ord(character) < 32 for character in value)
    ):
        raise ValueError("redirect_to must be a path on this site, starting with a single /")
    return value


class InitiateResponse(BaseModel):
    authorization_url: str = Field(description="send the browser here: Google's consent page")
    expires_in: int = Field(description="seconds within which the sign-in must finish")


class IdTokenSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_token: str = Field(
        min_length=1, max_length=8192, description="the ID token Google Sign-In gave the iOS or watch app"
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="the app's refresh token; omitted: the browser's session cookie is used",
    )


class DriverTokens(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - not a secret
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str | None = Field(
        default=None,
        description="single use: each refresh answers a new one; null when it travels in the browser's cookie",
    )
    refresh_expires_in: int = Field(description="seconds until the refresh token expires unused")


class DriverRead(BaseModel):
    id: uuid.UUID
    email: str | None
    name: str | None = None
    picture: str | None = None
    sign_in: Literal["google", "local"] = Field(description="`local`: the implicit driver while sign-in is off")
    created_at: datetime
    last_login_at: datetime | None
