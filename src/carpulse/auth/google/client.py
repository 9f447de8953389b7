"""An OpenID Connect client for Google over the injected vendor `httpx.AsyncClient`.

Discovery and Google's signing keys are cached as long as Google's `Cache-Control: max-age` allows;
a token naming a key we do not hold refetches the keys once (at most every `jwks_refetch_min_seconds`,
so a flood of made-up key ids cannot hammer Google). ID tokens are verified with PyJWT: RS256 only.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import httpx
import jwt
from pydantic import ValidationError

from carpulse.auth.google.errors import (
    GoogleError,
    GoogleSignInFailed,
    GoogleTimeout,
    GoogleUnavailable,
    InvalidIdToken,
)
from carpulse.auth.google.schemas import Discovery, IdTokenClaims, TokenResponse
from carpulse.config import Settings
from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.http import CircuitOpen, RetryPolicy, VendorHttp
from carpulse.kit.logs import get_logger
from carpulse.kit.resilience import CircuitBreakers

log = get_logger("carpulse.google")
T = TypeVar("T")

GOOGLE_ISSUER = "https://accounts.google.com"
# Google's ID tokens carry either form of its issuer (https://developers.google.com/identity/openid-connect).
GOOGLE_ISSUERS = (GOOGLE_ISSUER, "accounts.google.com")
ALGORITHM = "RS256"
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age=(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-store|no-cache)(?:$|[,\s])", re.IGNORECASE)
# Without a max-age we keep an answer this long; however long Google says, we look again within a day.
DEFAULT_MAX_AGE_SECONDS = 300.0
LONGEST_MAX_AGE_SECONDS = 24 * 3600.0


def max_age_seconds(cache_control: str | None) -> float:
    """How long an answer may be reused by its `Cache-Control`: max-age, 0 for no-store/no-cache."""
    if not cache_control:
        return DEFAULT_MAX_AGE_SECONDS
    if _NO_CACHE.search(cache_control):
        return 0.0
    match = _MAX_AGE.search(cache_control)
    if match is None:
        return DEFAULT_MAX_AGE_SECONDS
    return min(float(match.group(1)), LONGEST_MAX_AGE_SECONDS)


@dataclass(frozen=True)
class GoogleClientConfig:
    """Our project's OAuth clients and where Google is."""

    discovery_url: str
    audiences: tuple[str, ...]
    web_client_id: str
    web_client_secret: str
    redirect_uri: str
    scopes: str = "openid email profile"
    timeout_seconds: float = 10.0
    clock_skew_seconds: int = 60
    jwks_refetch_min_seconds: float = 30.0

    @classmethod
    def of(cls, settings: Settings) -> GoogleClientConfig:
        google = settings.google
        return cls(
            discovery_url=settings.google_discovery_url,
            audiences=google.client_ids,
            web_client_id=google.web_client_id,
            web_client_secret=google.web_client_secret.get_secret_value(),
            redirect_uri=settings.google_redirect_uri,
            scopes=google.scopes,
            timeout_seconds=google.timeout_seconds,
            clock_skew_seconds=google.clock_skew_seconds,
            jwks_refetch_min_seconds=google.jwks_refetch_min_seconds,
        )


@dataclass
class _Cached(Generic[T]):
    value: T
    fresh_until: float  # on the monotonic clock
    generation: int  # the how-manieth fetch this was

    def fresh(self, now: float) -> bool:
        return self.fresh_until > now


class GoogleIdentity:
    """Authorize URL, code exchange and ID-token verification; one per app (its caches are per replica)."""

    def __init__(self, http: httpx.AsyncClient, config: GoogleClientConfig, clock: Clock = system_clock) -> None:
        self.config = config
        self.clock = clock
        self.http = VendorHttp(
            http,
            vendor="google",
            timeout_seconds=config.timeout_seconds,
            policy=RetryPolicy(max_retries=1, retry_after_cap_seconds=2.0),
            breakers=CircuitBreakers(),
            clock=clock,
        )
        self._discovery: _Cached[Discovery] | None = None
        self._keys: _Cached[dict[str, Any]] | None = None
        self._last_forced_refetch: float | None = None
        # One fetch of each at a time: concurrent verifications after expiry share the answer.
        self._discovery_lock = asyncio.Lock()
        self._keys_lock = asyncio.Lock()

    # --- the web flow -------------------------------------------------------------------------------

    async def authorization_url(self, state: str, code_challenge: str, nonce: str) -> str:
        discovery = await self.discovery()
        query = {
            "client_id": self.config.web_client_id,
            "redirect_uri": self.config.redirect_uri,
            "response_type": "code",
            "scope": self.config.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "prompt": "select_account",
        }
        separator = "&" if "?" in discovery.authorization_endpoint else "?"
        return f"{discovery.authorization_endpoint}{separator}{urlencode(query)}"

    async def exchange_code(self, code: str, code_verifier: str) -> TokenResponse:
        """The token answer for an authorization code; the code is single-use, so this call is never retried."""
        discovery = await self.discovery()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": code_verifier,
            "client_id": self.config.web_client_id,
            "client_secret": self.config.web_client_secret,
            "redirect_uri": self.config.redirect_uri,
        }
        response = await self._send("POST", discovery.token_endpoint, data=form, retry_safe=False)
        if response.status_code == 200:
            try:
                return TokenResponse.model_validate_json(response.content)
            except ValidationError as exc:
                raise GoogleError("Google's token answer carries no ID token.") from exc
        error = _oauth_error(response)
        log.warning("google.code_refused", status=response.status_code, error=error)
        if response.status_code >= 500:
            raise GoogleUnavailable("Google's token endpoint is failing; sign in again in a moment.")
        if error == "invalid_grant":
            raise GoogleSignInFailed("Google refused the sign-in code (used already or expired); sign in again.")
        raise GoogleError("Google refused our sign-in request; the operators have been told.")

    # --- ID tokens ----------------------------------------------------------------------------------

    async def verify_id_token(self, token: str, *, nonce: str | None = None) -> IdTokenClaims:
        """The claims of a genuine Google ID token for one of our clients, else `InvalidIdToken`.

        `nonce`: the web flow's, which the token must carry; None for tokens a phone obtained itself.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidIdToken("The ID token is not a well-formed JWT.") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidIdToken("The ID token is not signed the way Google signs (RS256).")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidIdToken("The ID token names no signing key.")
        key = await self._signing_key(kid)
        discovery = await self.discovery()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=list(self.config.audiences),
                issuer=self._issuers(discovery),
                # Expiry and issue time against our clock, below (the PyJWT checks use the machine's).
                options={"require": ["iss", "aud", "sub", "iat", "exp"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError as exc:
            raise InvalidIdToken("The ID token's signature does not verify.") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidIdToken("The ID token was issued for another application.") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidIdToken("The ID token was not issued by Google.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidIdToken(f"The ID token lacks the {exc.claim!r} claim.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidIdToken("The ID token is not valid.") from exc
        self._check_times(claims)
        self._check_party(claims)
        if nonce is not None:
            presented = claims.get("nonce")
            if not isinstance(presented, str) or not hmac.compare_digest(presented, nonce):
                raise InvalidIdToken("The ID token does not belong to this sign-in (its nonce differs).")
        try:
            return IdTokenClaims.model_validate(claims)
        except ValidationError as exc:
            raise InvalidIdToken("The ID token's claims are not what Google issues.") from exc

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self.clock.now().timestamp()
        skew = self.config.clock_skew_seconds
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise InvalidIdToken("The ID token's times are not numbers.")
        if exp + skew < now:
            raise InvalidIdToken("The ID token has expired; sign in with Google again.")
        if iat - skew > now:
            raise InvalidIdToken("The ID token claims to be issued in the future.")

    def _check_party(self, claims: dict[str, Any]) -> None:
        # OIDC Core §3.1.3.7: several audiences need an authorized party; when one is named it must be ours
        # (an iOS app's token for our web client names the iOS client as `azp`).
        audience, party = claims.get("aud"), claims.get("azp")
        if isinstance(audience, list) and len(audience) > 1 and party is None:
            raise InvalidIdToken("The ID token names several audiences but no authorized party.")
        if party is not None and party not in self.config.audiences:
            raise InvalidIdToken("The ID token was issued to another application.")

    @staticmethod
    def _issuers(discovery: Discovery) -> tuple[str, ...]:
        return GOOGLE_ISSUERS if discovery.issuer in GOOGLE_ISSUERS else (discovery.issuer,)

    # --- discovery and keys -------------------------------------------------------------------------

    async def discovery(self) -> Discovery:
        cached = self._discovery
        if cached is not None and cached.fresh(self.clock.monotonic()):
            return cached.value
        async with self._discovery_lock:
            cached = self._discovery
            if cached is not None and cached.fresh(self.clock.monotonic()):
                return cached.value
            try:
                response = await self._get(self.config.discovery_url)
                document = Discovery.model_validate_json(response.content)
            except (GoogleUnavailable, GoogleTimeout, GoogleError, ValidationError) as exc:
                if cached is not None:
                    # Google's endpoints change rarely: a stale document beats failing every sign-in.
                    log.warning("google.discovery_stale", error=type(exc).__name__)
                    return cached.value
                if isinstance(exc, ValidationError):
                    raise GoogleError("Google's OpenID configuration is not readable.") from exc
                raise
            ttl = max_age_seconds(response.headers.get("cache-control"))
            generation = (cached.generation if cached is not None else 0) + 1
            self._discovery = _Cached(document, self.clock.monotonic() + ttl, generation)
            return document

    async def _signing_key(self, kid: str) -> Any:
        keys = await self._current_keys()
        if kid in keys:
            return keys[kid]
        now = self.clock.monotonic()
        last = self._last_forced_refetch
        if last is not None and now - last < self.config.jwks_refetch_min_seconds:
            raise InvalidIdToken("The ID token is signed by a key Google does not publish.")
        self._last_forced_refetch = now
        log.info("google.keys_refetched", reason="unknown_kid")
        seen = self._keys.generation if self._keys is not None else 0
        keys = await self._current_keys(after=seen)
        if kid not in keys:
            raise InvalidIdToken("The ID token is signed by a key Google does not publish.")
        return keys[kid]

    async def _current_keys(self, *, after: int | None = None) -> dict[str, Any]:
        """Google's keys by kid: the cached ones while fresh, or (`after`) those of a fetch later than that one."""

        def usable(cached: _Cached[dict[str, Any]] | None) -> bool:
            if cached is None:
                return False
            if after is not None:
                return cached.generation > after
            return cached.fresh(self.clock.monotonic())

        if usable(self._keys):
            return self._keys.value  # type: ignore[union-attr]
        discovery = await self.discovery()
        async with self._keys_lock:
            cached = self._keys
            if usable(cached):
                return cached.value  # type: ignore[union-attr]
            try:
                response = await self._get(discovery.jwks_uri)
                keys = _public_keys(response.json())
            except (GoogleUnavailable, GoogleTimeout, GoogleError, ValueError, jwt.PyJWKSetError) as exc:
                if cached is not None:
                    log.warning("google.keys_stale", error=type(exc).__name__)
                    return cached.value
                if isinstance(exc, GoogleUnavailable | GoogleTimeout | GoogleError):
                    raise
                raise GoogleError("Google's signing keys are not readable.") from exc
            ttl = max_age_seconds(response.headers.get("cache-control"))
            generation = (cached.generation if cached is not None else 0) + 1
            self._keys = _Cached(keys, self.clock.monotonic() + ttl, generation)
            log.info("google.keys_fetched", keys=len(keys), max_age_s=ttl)
            return keys

    async def _get(self, url: str) -> httpx.Response:
        response = await self._send("GET", url)
        if response.status_code >= 500 or response.status_code == 429:
            raise GoogleUnavailable("Google's sign-in service is failing; try again in a moment.")
        if response.status_code != 200:
            raise GoogleError(f"Google answered {response.status_code} for its own configuration.")
        return response

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.http.send(method, url, **kwargs)
        except CircuitOpen as exc:
            raise GoogleUnavailable(
                "Google's sign-in service has been failing; try again shortly.",
                headers={"Retry-After": str(max(1, round(exc.retry_after)))},
            ) from exc
        except httpx.TimeoutException as exc:
            raise GoogleTimeout("Google did not answer in time; try again.") from exc
        except httpx.TransportError as exc:
            raise GoogleUnavailable("Google cannot be reached right now; try again in a moment.") from exc


def _public_keys(document: Any) -> dict[str, Any]:
    """The RS256 keys of a JWKS document by `kid` (PyJWT parses them; other kinds are left out)."""
    key_set = jwt.PyJWKSet.from_dict(document)
    return {
        key.key_id: key.key
        for key in key_set.keys
        if key.key_id and key.key_type == "RSA" and key.algorithm_name == ALGORITHM
    }


def _oauth_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error)[:64] if error else None
