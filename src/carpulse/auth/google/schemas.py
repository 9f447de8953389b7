"""Google's payloads: the OpenID configuration, the token answer, and the ID token's claims."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Discovery(BaseModel):
    """The parts of `/.well-known/openid-configuration` we use."""

    model_config = ConfigDict(extra="ignore")

    issuer: str = Field(min_length=1)
    authorization_endpoint: str = Field(min_length=1)
    token_endpoint: str = Field(min_length=1)
    jwks_uri: str = Field(min_length=1)
    userinfo_endpoint: str | None = None


class TokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    expires_in: int
    token_type: str
    id_token: str = Field(min_length=1)
    scope: str | None = None


class IdTokenClaims(BaseModel):
    """A verified ID token's claims about the person (the registered claims are checked before this)."""

    model_config = ConfigDict(extra="ignore")

    # Google's `sub` is a decimal string of about 21 digits; the account's username holds "google:" + sub.
    sub: str = Field(min_length=1, max_length=128)
    email: str | None = Field(default=None, max_length=320)
    email_verified: bool = False
    name: str | None = Field(default=None, max_length=300)
    picture: str | None = Field(default=None, max_length=2048)
    hd: str | None = Field(default=None, max_length=253, description="the Google Workspace domain")
    aud: str | list[str]
    azp: str | None = None

    @field_validator("email_verified", mode="before")
    @classmethod
    def _boolean_or_string(cls, value: Any) -> Any:
        # Older Google tokens said "true" as a string; anything but true (or "true") is not verified.
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return value is True
