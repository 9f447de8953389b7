"""`GoogleFake`: the state of a fake Google OAuth 2.0 / OpenID Connect provider, and the ASGI app serving it.

The real provider: discovery at https://accounts.google.com/.well-known/openid-configuration, issuer
`https://accounts.google.com` (ID tokens also say `accounts.google.com`), authorize at
accounts.google.com/o/oauth2/v2/auth, token at oauth2.googleapis.com/token, keys at
www.googleapis.com/oauth2/v3/certs, userinfo at openidconnect.googleapis.com/v1/userinfo. The fake serves
them all under one root, and its issuer is that root (under the sandbox `{base}/_sandbox/google`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jwt
from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from fakes.google.keys import KeyRing, key_id, stranger_key
from fakes.google.users import SANDBOX_USERS, SandboxUser

CODE_LIFETIME = timedelta(minutes=10)
ACCESS_TOKEN_SECONDS = 3599
ID_TOKEN_SECONDS = 3600
# Google answers the certs with a max-age of some hours (it varies per answer); discovery with an hour.
JWKS_MAX_AGE_SECONDS = 21600
DISCOVERY_MAX_AGE_SECONDS = 3600
# The scopes Google grants, written back the way Google writes them in the token answer.
SCOPE_NAMES = {
    "openid": "openid",
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
SCOPE_ALIASES = {value: key for key, value in SCOPE_NAMES.items()} | {key: key for key in SCOPE_NAMES}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Forgery(StrEnum):
    """The bad ID tokens `GoogleFake.mint_forged` makes: each must be refused by a verifier."""

    wrong_key = "wrong_key"  # RS256, a kid the JWKS does not publish, signed by a stranger's key
    published_kid_wrong_key = "published_kid_wrong_key"  # the signing key's kid, a stranger's signature
    expired = "expired"
    other_audience = "other_audience"
    alg_none = "alg_none"
    hs256 = "hs256"  # HMAC-signed, with a published kid (the classic algorithm confusion)
    wrong_issuer = "wrong_issuer"
    unverified_email = "unverified_email"
    future_iat = "future_iat"


class OAuthError(Exception):
    """An error answer of the token endpoint, in Google's `{"error", "error_description"}` form."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status, self.error, self.description = status, error, description


@dataclass(frozen=True)
class GoogleClient:
    """An OAuth client registered in the Google Cloud project: web clients have a secret, iOS clients none."""

    client_id: str
    client_secret: str | None = None
    redirect_uris: tuple[str, ...] = ()


@dataclass
class _Code:
    user: SandboxUser
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    challenge_method: str | None
    nonce: str | None
    issued_at: datetime
    used: bool = False


@dataclass
class _AccessToken:
    user: SandboxUser
    scopes: tuple[str, ...]
    expires_at: datetime


@cache
def _included_routes() -> tuple[BaseRoute, ...]:
    """The fake's routes, included once per process and shared by every fake's app (see `fake_of`)."""
    from fakes.google import routes

    parent = APIRouter()
    parent.include_router(routes.router)
    return tuple(parent.routes)


@dataclass
class GoogleFake:
    """A deterministic Google: discovery, authorize (with a consent page), token, JWKS, userinfo, revoke.

    `issuer` is what its ID tokens say and its discovery document names (default: the root it is served
    at). `clients` are the registered OAuth clients. `clock` returns an aware UTC datetime.
    """

    clients: list[GoogleClient]
    issuer: str | None = None
    users: Mapping[str, SandboxUser] = field(default_factory=lambda: dict(SANDBOX_USERS))
    clock: Callable[[], datetime] = _utc_now
    jwks_max_age_seconds: int = JWKS_MAX_AGE_SECONDS
    keys: KeyRing = field(default_factory=KeyRing.initial)
    # Requests by path relative to the fake's root (`/oauth2/v3/certs`: how often a verifier fetched keys).
    requests: Counter[str] = field(default_factory=Counter)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _access_tokens: dict[str, _AccessToken] = field(default_factory=dict)
    app: FastAPI = field(init=False)

    def __post_init__(self) -> None:
        self.app = self._create_app()

    def _create_app(self) -> FastAPI:
        app = FastAPI(title="Google OAuth 2.0 fake", version="1", docs_url=None, redoc_url=None, openapi_url=None)
        app.state.fake = self
        app.router.routes.extend(_included_routes())
        return app

    def client(self, client_id: str | None) -> GoogleClient | None:
        return next((client for client in self.clients if client.client_id == client_id), None)

    def issuer_at(self, root: str) -> str:
        return self.issuer or root

    def reset(self) -> None:
        self._codes.clear()
        self._access_tokens.clear()
        self.requests.clear()
        self.keys = KeyRing.initial()

    # --- keys ---------------------------------------------------------------------------------------

    def rotate_keys(self) -> str:
        """A new key signs from now on (published at once); the old ones stay published until retired."""
        return self.keys.rotate()

    def retire_key(self) -> str | None:
        """Stop publishing the oldest key: tokens it signed no longer verify once a verifier refetches."""
        return self.keys.retire()

    def jwks(self) -> dict[str, Any]:
        return self.keys.jwks()

    # --- authorize and token ------------------------------------------------------------------------

    def issue_code(
        self,
        user: SandboxUser,
        client: GoogleClient,
        *,
        redirect_uri: str,
        scopes: tuple[str, ...],
        challenge: str | None,
        challenge_method: str | None,
        nonce: str | None,
    ) -> str:
        # Google's codes start with "4/0" and are URL-safe.
        code = f"4/0{secrets.token_urlsafe(48)}"
        self._codes[code] = _Code(
            user, client.client_id, redirect_uri, scopes, challenge, challenge_method, nonce, self.clock()
        )
        return code

    def _authenticate_client(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> GoogleClient:
        client_id, secret = basic if basic is not None else (form.get("client_id"), form.get("client_secret"))
        client = self.client(client_id)
        if client is None:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if client.client_secret is not None and not hmac.compare_digest(secret or "", client.client_secret):
            raise OAuthError(401, "invalid_client", "Unauthorized")
        return client

    def exchange_code(self, form: Mapping[str, str], basic: tuple[str, str] | None, root: str) -> dict[str, Any]:
        """`grant_type=authorization_code`: one use per code, PKCE checked, the ID token minted for the client."""
        if form.get("grant_type") != "authorization_code":
            raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type: " + form.get("grant_type", ""))
        client = self._authenticate_client(form, basic)
        grant = self._codes.get(form.get("code", ""))
        if grant is None or grant.client_id != client.client_id:
            raise OAuthError(400, "invalid_grant", "Malformed auth code.")
        if grant.used or self.clock() - grant.issued_at > CODE_LIFETIME:
            raise OAuthError(400, "invalid_grant", "Bad Request")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        if grant.challenge is not None:
            verifier = form.get("code_verifier")
            if not verifier:
                raise OAuthError(400, "invalid_grant", "Missing code verifier.")
            expected = verifier
            if grant.challenge_method == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not hmac.compare_digest(expected, grant.challenge):
                raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
        grant.used = True
        access_token = f"ya29.{secrets.token_urlsafe(96)}"
        self._access_tokens[access_token] = _AccessToken(
            grant.user, grant.scopes, self.clock() + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        )
        body: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(SCOPE_NAMES[scope] for scope in grant.scopes),
            "token_type": "Bearer",
        }
        if "openid" in grant.scopes:
            body["id_token"] = self.mint_id_token(
                grant.user, client.client_id, nonce=grant.nonce, issuer=self.issuer_at(root), scopes=grant.scopes
            )
        return body

    def userinfo(self, authorization: str | None) -> dict[str, Any] | None:
        scheme, _, token = (authorization or "").partition(" ")
        record = self._access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if record is None or self.clock() >= record.expires_at:
            return None
        claims: dict[str, Any] = {"sub": record.user.subject}
        profile = record.user.profile()
        if "email" in record.scopes:
            claims |= {"email": profile["email"], "email_verified": profile["email_verified"]}
        if "profile" in record.scopes:
            claims |= {key: value for key, value in profile.items() if key not in ("email", "email_verified")}
        return claims

    def revoke(self, token: str) -> bool:
        return self._access_tokens.pop(token, None) is not None

    # --- ID tokens ----------------------------------------------------------------------------------

    def _user(self, user: SandboxUser | str) -> SandboxUser:
        return user if isinstance(user, SandboxUser) else self.users[user]

    def default_audience(self) -> str:
        """What a phone's Google Sign-In gets an ID token for: the first client without a secret (iOS)."""
        native = [client for client in self.clients if client.client_secret is None]
        return (native or self.clients)[0].client_id

    def _claims(
        self,
        user: SandboxUser,
        audience: str,
        *,
        nonce: str | None,
        issuer: str | None,
        scopes: tuple[str, ...],
        issued_at: datetime | None,
        lifetime_seconds: int,
    ) -> dict[str, Any]:
        iat = int((issued_at or self.clock()).timestamp())
        claims: dict[str, Any] = {
            "iss": issuer or self.issuer or "https://accounts.google.com",
            "azp": audience,
            "aud": audience,
            "sub": user.subject,
            "iat": iat,
            "exp": iat + lifetime_seconds,
        }
        profile = user.profile()
        if "email" in scopes:
            claims |= {"email": profile["email"], "email_verified": profile["email_verified"]}
        if "profile" in scopes:
            claims |= {key: value for key, value in profile.items() if key not in ("email", "email_verified")}
        if nonce is not None:
            claims["nonce"] = nonce
        return claims

    def mint_id_token(
        self,
        user: SandboxUser | str = "alice",
        audience: str | None = None,
        *,
        nonce: str | None = None,
        issuer: str | None = None,
        scopes: tuple[str, ...] = ("openid", "email", "profile"),
        issued_at: datetime | None = None,
        lifetime_seconds: int = ID_TOKEN_SECONDS,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A genuine ID token for `audience` (default: the iOS client), signed by the current key with its kid.

        This is what an iOS or watch app gets from Google Sign-In and sends to our API.
        """
        body = self._claims(
            self._user(user),
            audience or self.default_audience(),
            nonce=nonce,
            issuer=issuer,
            scopes=scopes,
            issued_at=issued_at,
            lifetime_seconds=lifetime_seconds,
        )
        body |= dict(claims or {})
        return jwt.encode(body, self.keys.signing, algorithm="RS256", headers={"kid": self.keys.signing_kid})

    def mint_signed_by_oldest(
        self, user: SandboxUser | str = "alice", audience: str | None = None, *, issuer: str | None = None
    ) -> str:
        """A genuine token signed by the oldest published key (before a rotation it was the signing key)."""
        oldest = self.keys.published()[0]
        body = self._claims(
            self._user(user),
            audience or self.default_audience(),
            nonce=None,
            issuer=issuer,
            scopes=("openid", "email", "profile"),
            issued_at=None,
            lifetime_seconds=ID_TOKEN_SECONDS,
        )
        return jwt.encode(body, oldest, algorithm="RS256", headers={"kid": key_id(oldest)})

    def mint_forged(
        self,
        forgery: Forgery,
        user: SandboxUser | str = "alice",
        audience: str | None = None,
        *,
        nonce: str | None = None,
        issuer: str | None = None,
    ) -> str:
        """An ID token a verifier must refuse, forged as `forgery` says (and otherwise like a genuine one)."""
        person = self._user(user)
        audience = audience or self.default_audience()
        now = self.clock()
        genuine = self._claims(
            person,
            audience,
            nonce=nonce,
            issuer=issuer,
            scopes=("openid", "email", "profile"),
            issued_at=None,
            lifetime_seconds=ID_TOKEN_SECONDS,
        )
        kid = self.keys.signing_kid
        if forgery is Forgery.wrong_key:
            return jwt.encode(genuine, stranger_key(), algorithm="RS256", headers={"kid": key_id(stranger_key())})
        if forgery is Forgery.published_kid_wrong_key:
            return jwt.encode(genuine, stranger_key(), algorithm="RS256", headers={"kid": kid})
        if forgery is Forgery.alg_none:
            return jwt.encode(genuine, "", algorithm="none", headers={"kid": kid})
        if forgery is Forgery.hs256:
            return jwt.encode(genuine, secrets.token_bytes(32), algorithm="HS256", headers={"kid": kid})
        if forgery is Forgery.expired:
            two_hours_ago = now - timedelta(hours=2)
            return self.mint_id_token(person, audience, nonce=nonce, issuer=issuer, issued_at=two_hours_ago)
        if forgery is Forgery.future_iat:
            return self.mint_id_token(person, audience, nonce=nonce, issuer=issuer, issued_at=now + timedelta(hours=1))
        if forgery is Forgery.other_audience:
            other = "000000000000-another-project.apps.googleusercontent.com"
            return self.mint_id_token(person, other, nonce=nonce, issuer=issuer)
        if forgery is Forgery.wrong_issuer:
            return self.mint_id_token(person, audience, nonce=nonce, issuer="https://accounts.example.net")
        return self.mint_id_token(person, audience, nonce=nonce, issuer=issuer, claims={"email_verified": False})

    @staticmethod
    def registered(redirect_uri: str, client: GoogleClient) -> bool:
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and redirect_uri in client.redirect_uris
