from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from carpulse.connect.schemas import Locale

TunnelName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$", examples=["alice"])]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TunnelName
    tunnel_url: str = Field(
        min_length=1,
        max_length=300,
        description="https origin of the developer's tunnel; its host must end with an allowed suffix",
        examples=["https://alice.ngrok-free.app"],
    )
    ttl_seconds: int = Field(default=3600, ge=60, le=24 * 60 * 60)


class UnregisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TunnelName


class InitiateOAuthRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TunnelName
    locale: Locale = Locale.en


class InitiateOAuthResponse(BaseModel):
    authorization_url: str
    state: str
    expires_in: int
    relay_to: str = Field(description="the tunnel's callback URL the browser is relayed to with `code` and `state`")


class DevTunnel(BaseModel):
    name: str
    tunnel_url: str
    relay_to: str
    created_at: datetime
    expires_at: datetime
    expires_in: int


class DevProxyStatus(BaseModel):
    registrations: list[DevTunnel]
    allowed_tunnel_suffixes: list[str]


class DevTunnelRecord(BaseModel):
    """A registration as stored in the ephemeral store, for its TTL."""

    name: str
    tunnel_url: str
    registered_by: str
    created_at: datetime
    expires_at: datetime
    # OAuth states started for this tunnel; revoked when the registration is replaced or removed.
    pending_states: list[str] = Field(default_factory=list, repr=False)
