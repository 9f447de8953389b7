"""The dev proxy relays to the brand's own callback, and only for brands that sign in through one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Literal

import pytest

from carpulse.dev_proxy.schemas import DevTunnelRecord
from carpulse.dev_proxy.service import oauth_sign_in, relay_target
from carpulse.errors import NotFound
from carpulse.provider.base import BrandInfo, GrantedTokens, SignInKind
from carpulse.provider.tesla.brand import INFO as TESLA

ACME = dataclasses.replace(TESLA, name="acme", label="Acme", sign_in=SignInKind.credentials)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class CredentialsOnly:
    kind: Literal[SignInKind.credentials] = SignInKind.credentials

    async def sign_in(self, username: str, password: str) -> GrantedTokens:
        raise AssertionError("not called")

    async def refresh(self, refresh_token: str) -> GrantedTokens:
        raise AssertionError("not called")


@dataclasses.dataclass
class AcmeBrand:
    info: BrandInfo = ACME
    sign_in: CredentialsOnly = dataclasses.field(default_factory=CredentialsOnly)


def record() -> DevTunnelRecord:
    return DevTunnelRecord(
        name="alice", tunnel_url="https://alice.ngrok-free.app", registered_by="admin", created_at=NOW, expires_at=NOW
    )


class TestRelayTarget:
    def test_is_the_brand_mounts_callback_on_the_tunnel(self) -> None:
        assert relay_target(record(), TESLA) == "https://alice.ngrok-free.app/api/v1/tesla/oauth/callback"
        assert relay_target(record(), ACME) == "https://alice.ngrok-free.app/api/v1/acme/oauth/callback"


class TestOAuthOnly:
    def test_a_brand_signing_in_with_credentials_has_nothing_to_relay(self) -> None:
        with pytest.raises(NotFound, match="Acme signs in without a redirect"):
            oauth_sign_in(AcmeBrand())  # type: ignore[arg-type]  # only `info` and `sign_in` are read
