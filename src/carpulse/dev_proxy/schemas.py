from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carpulse.connect.schemas import Locale

TunnelName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$", examples=["alice"])]
OAuthState = Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
# S256 of a verifier: 32 bytes, unpadded base64url.
CodeChallenge = Annotated[str, Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]


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
    state: OAuthState | None = Field(
        default=None,
        description="your local instance's state (its `POST /api/v1/{brand}/oauth/initiate` with `via_dev_proxy`); "
        "with `code_challenge`. Without both, the flow is this API's own and completes here.",
    )
    code_challenge: CodeChallenge | None = Field(
        default=None, description="your local instance's S256 code challenge for that state; with `state`"
    )

    @model_validator(mode="after")
    def _state_with_challenge(self) -> Self:
        if (self.state is None) != (self.code_challenge is None):
            raise ValueError("state and code_challenge go together: give both or neither")
        return self


class InitiateOAuthResponse(BaseModel):
    authorization_url: str
    state: str
    expires_in: int
    relay_to: str | None = Field(
        description="the tunnel's callback URL the browser is relayed to with `code` and `state`; "
        "null when the flow is completed here (no `state` and `code_challenge` given)"
    )


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
    # OAuth states relayed to this tunnel; their relays are dropped when the registration is replaced or removed.
    pending_states: list[str] = Field(default_factory=list, repr=False)
