"""The authorization server's state and rules (reference §3): codes, RS256 access tokens, refresh-token rotation."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, cached_property
from typing import Any, Literal
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from fakes.tesla_fleet.fleet import Account

SCOPES = frozenset(
    {
        "openid",
        "offline_access",
        "user_data",
        "vehicle_device_data",
        "vehicle_location",
        "vehicle_cmds",
        "vehicle_charging_cmds",
        "energy_device_data",
        "energy_cmds",
    }
)
PARTNER_SCOPES = ("openid", "vehicle_device_data", "vehicle_cmds", "vehicle_charging_cmds")
CALLBACK_SUFFIX = "/api/v1/tesla/oauth/callback"
CODE_LIFETIME = timedelta(minutes=10)
REFRESH_LIFETIME = timedelta(days=90)
REFRESH_GRACE = timedelta(hours=24)


@cache
def _signing_key() -> rsa.RSAPrivateKey:
    """The RS256 key, generated once per process on first use (about 0.1 s): tests build many fakes.

    Sharing it lets no token cross fakes: each fake accepts only the token ids it issued itself.
    """
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OAuthError(Exception):
    """An OAuth error answer of the token endpoint (reference §3.8)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status, self.error, self.description = status, error, description


class TokenRejected(Exception):
    """A bearer token the Fleet API refuses; `account` is known when the token itself was genuine."""

    def __init__(self, message: str, account: str | None = None) -> None:
        super().__init__(message)
        self.message, self.account = message, account


@dataclass(frozen=True)
class ClientRegistration:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] | None  # None: any http(s) URI ending with our callback path

    def accepts(self, redirect_uri: str) -> bool:
        if self.redirect_uris is not None:
            return redirect_uri in self.redirect_uris
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.path.endswith(CALLBACK_SUFFIX)


@dataclass
class _Code:
    account: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    nonce: str | None
    state: str
    issued_at: datetime
    used: bool = False


@dataclass
class _Family:
    """The refresh tokens descending from one consent; `last_used` is the generation used most recently."""

    account: str
    scopes: tuple[str, ...]
    generations: int = 0
    last_used: int = 0
    last_used_at: datetime | None = None


@dataclass
class _RefreshToken:
    family: _Family
    generation: int
    issued_at: datetime
    used: bool = False


@dataclass(frozen=True)
class AccessToken:
    """What the server knows about an access token it issued."""

    kind: Literal["user", "partner"]
    account: str | None
    scopes: frozenset[str]
    serial: int
    expires_at: datetime


@dataclass
class AuthorizationServer:
    client: ClientRegistration
    accounts: Mapping[str, Account]
    clock: Callable[[], datetime]
    access_token_lifetime: timedelta
    _codes: dict[str, _Code] = field(default_factory=dict)
    _refresh_tokens: dict[str, _RefreshToken] = field(default_factory=dict)
    _access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    _serial: int = 0
    # Tokens with a serial at or below the mark are expired: per account name, None for all accounts.
    _expired_up_to: dict[str | None, int] = field(default_factory=dict)
    partner_subject: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Tokens' `ou_code` is only a hint at Tesla and has been seen wrong (reference §3.5, §5).
    region_hints: dict[str, str] = field(default_factory=dict)

    @property
    def _key(self) -> rsa.RSAPrivateKey:
        return _signing_key()

    @cached_property
    def key_id(self) -> str:
        numbers = self._key.public_key().public_numbers()
        return hashlib.sha256(numbers.n.to_bytes(256, "big")).hexdigest()[:16]

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()

        def b64(number: int) -> str:
            raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        key = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.key_id, "n": b64(numbers.n), "e": b64(numbers.e)}
        return {"keys": [key]}

    def reset(self) -> None:
        self._codes.clear()
        self._refresh_tokens.clear()
        self._access_tokens.clear()
        self._expired_up_to.clear()

    # --- authorize ---------------------------------------------------------------------------------

    def issue_code(
        self,
        account: Account,
        *,
        redirect_uri: str,
        scopes: tuple[str, ...],
        challenge: str | None,
        nonce: str | None,
        state: str,
    ) -> str:
        code = f"{account.region.upper()}_{secrets.token_hex(32)}"
        self._codes[code] = _Code(account.name, redirect_uri, scopes, challenge, nonce, state, self.clock())
        return code

    # --- token endpoint ----------------------------------------------------------------------------

    def _check_client(self, form: Mapping[str, str], *, secret_required: bool) -> None:
        if form.get("client_id") != self.client.client_id:
            raise OAuthError(401, "unauthorized_client", "client_id and client_secret combination not recognized")
        secret = form.get("client_secret")
        if (secret is not None or secret_required) and secret != self.client.client_secret:
            raise OAuthError(401, "unauthorized_client", "client_id and client_secret combination not recognized")

    def exchange_code(self, form: Mapping[str, str], root: str) -> tuple[str, dict[str, Any]]:
        """`grant_type=authorization_code`; returns the account name and the token response."""
        self._check_client(form, secret_required=False)
        grant = self._codes.get(form.get("code", ""))
        if grant is None or grant.used or self.clock() - grant.issued_at > CODE_LIFETIME:
            raise OAuthError(400, "invalid_auth_code", "The authorization code is invalid, expired or already used")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError(400, "invalid_redirect_url", "redirect_uri does not match the authorize request")
        verifier = form.get("code_verifier")
        if grant.challenge is not None:
            digest = hashlib.sha256((verifier or "").encode()).digest()
            if verifier is None or base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
                raise OAuthError(400, "invalid_grant", "code_verifier does not match the code_challenge")
        elif form.get("client_secret") is None:
            raise OAuthError(401, "unauthorized_client", "client_secret is required without PKCE")
        if not form.get("audience"):
            raise OAuthError(400, "invalid_request", "audience is required")
        scopes = self._narrow(grant.scopes, form.get("scope"))
        grant.used = True
        family = _Family(grant.account, scopes)
        return grant.account, self._user_tokens(family, root, nonce=grant.nonce, state=grant.state)

    def refresh(self, form: Mapping[str, str], root: str) -> tuple[str, dict[str, Any]]:
        """`grant_type=refresh_token`: single use, with 24 h grace for the most recently used token (§3.6)."""
        self._check_client(form, secret_required=False)
        record = self._refresh_tokens.get(form.get("refresh_token", ""))
        now = self.clock()
        if record is None or now - record.issued_at > REFRESH_LIFETIME:
            raise OAuthError(401, "login_required", "Login required")
        family = record.family
        if record.used:
            in_grace = (
                record.generation == family.last_used
                and family.last_used_at is not None
                and now - family.last_used_at <= REFRESH_GRACE
            )
            if not in_grace:
                raise OAuthError(401, "login_required", "Login required")
        elif record.generation < family.last_used:
            # Superseded: a younger refresh token of this consent has been used already.
            raise OAuthError(401, "login_required", "Login required")
        else:
            record.used, family.last_used, family.last_used_at = True, record.generation, now
        scopes = self._narrow(family.scopes, form.get("scope"))
        return family.account, self._user_tokens(family, root, nonce=None, state=None, scopes=scopes)

    def client_credentials(self, form: Mapping[str, str], root: str) -> dict[str, Any]:
        """`grant_type=client_credentials`: a partner token, never a refresh token."""
        self._check_client(form, secret_required=True)
        if not form.get("audience"):
            raise OAuthError(400, "invalid_request", "audience is required")
        scopes = self._narrow(PARTNER_SCOPES, form.get("scope"))
        token = self._access_token("partner", None, scopes, root)
        return {"access_token": token, "expires_in": self._lifetime_seconds, "token_type": "Bearer"}

    @staticmethod
    def _narrow(granted: tuple[str, ...], requested: str | None) -> tuple[str, ...]:
        if not requested:
            return granted
        wanted = tuple(requested.split())
        if not set(wanted) <= set(granted):
            raise OAuthError(400, "invalid_scope", "scope exceeds what was granted")
        return wanted

    @property
    def _lifetime_seconds(self) -> int:
        return int(self.access_token_lifetime.total_seconds())

    def _user_tokens(
        self,
        family: _Family,
        root: str,
        *,
        nonce: str | None,
        state: str | None,
        scopes: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        scopes = scopes or family.scopes
        account = self.accounts[family.account]
        body: dict[str, Any] = {"access_token": self._access_token("user", account, scopes, root)}
        if "offline_access" in scopes:
            family.generations += 1
            value = f"{account.region.upper()}_{secrets.token_hex(32)}"
            self._refresh_tokens[value] = _RefreshToken(family, family.generations, self.clock())
            body["refresh_token"] = value
        if "openid" in scopes:
            body["id_token"] = self._id_token(account, root, nonce)
        body |= {"expires_in": self._lifetime_seconds, "token_type": "Bearer"}
        if state is not None:
            body["state"] = state
        return body

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.key_id})

    def _access_token(
        self, kind: Literal["user", "partner"], account: Account | None, scopes: tuple[str, ...], root: str
    ) -> str:
        now = self.clock()
        self._serial += 1
        token_id = uuid.uuid4().hex
        expires_at = now + self.access_token_lifetime
        if account is not None and account.region == "cn":
            audience = [f"{root}/cn", f"{root}/oauth2/v3/userinfo"]
        else:
            audience = [f"{root}/na", f"{root}/eu", f"{root}/oauth2/v3/userinfo"]
        claims: dict[str, Any] = {
            "iss": f"{root}/oauth2/v3/nts",
            "azp": self.client.client_id,
            "sub": account.subject if account else self.partner_subject,
            "aud": audience,
            "scp": list(scopes),
            "amr": ["pwd", "mfa"],
            "exp": int(expires_at.timestamp()),
            "iat": int(now.timestamp()),
            "jti": token_id,
        }
        if account is not None:
            hint = self.region_hints.get(account.name, account.region)
            claims.update(ou_code=hint.upper(), locale="en-US", auth_time=int(now.timestamp()))
        self._access_tokens[token_id] = AccessToken(
            kind, account.name if account else None, frozenset(scopes), self._serial, expires_at
        )
        return self._sign(claims)

    def _id_token(self, account: Account, root: str, nonce: str | None) -> str:
        now = int(self.clock().timestamp())
        claims: dict[str, Any] = {
            "iss": f"{root}/oauth2/v3",
            "aud": self.client.client_id,
            "sub": account.subject,
            "email": account.email,
            "email_verified": True,
            "iat": now,
            "exp": now + self._lifetime_seconds,
            "auth_time": now,
            "amr": ["pwd", "mfa"],
        }
        if nonce:
            claims["nonce"] = nonce
        return self._sign(claims)

    # --- Fleet API side ----------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> AccessToken:
        """The access token of an `Authorization: Bearer` header, or TokenRejected."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise TokenRejected("invalid bearer token")
        try:
            claims = jwt.decode(
                token.strip(),
                self._key.public_key(),
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidTokenError:
            raise TokenRejected("invalid bearer token") from None
        record = self._access_tokens.get(str(claims.get("jti")))
        if record is None:
            raise TokenRejected("invalid bearer token")
        mark = max(self._expired_up_to.get(record.account, 0), self._expired_up_to.get(None, 0))
        if self.clock() >= record.expires_at or record.serial <= mark:
            raise TokenRejected("token expired (401)", record.account)
        return record

    def expire_access_tokens(self, account: str | None) -> None:
        """Treat every access token issued so far (to one account, or to all) as expired."""
        self._expired_up_to[account] = self._serial
