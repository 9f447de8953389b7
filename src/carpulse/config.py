"""Settings: one `Settings` composed of grouped models, read from `CARPULSE_*` variables.

The seed's deployment sets a few unprefixed names (`ADMIN_USERNAME`, `JWT_SECRET_KEY`,
`CORS_ORIGINS`, ...); those are accepted too, with a lower priority than the prefixed ones.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
from collections import Counter
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "CARPULSE_"
ENV_FILE = ".env"

# Development defaults that production refuses (see `Settings._refuse_development_defaults`).
DEVELOPMENT_JWT_SECRET = "carpulse-development-jwt-secret-not-for-production"  # noqa: S105
DEVELOPMENT_SIGNING_KEY = "carpulse-development-url-signing-key-not-for-production"
DEVELOPMENT_API_KEY_SECRET = "carpulse-development-api-key-hmac-secret-not-for-production"  # noqa: S105
DEVELOPMENT_WEBHOOK_TOKEN_SECRET = "carpulse-development-webhook-token-hmac-secret-not-for-production"  # noqa: S105
# Encrypts vendor tokens at rest outside production (a Fernet key; production refuses it).
DEVELOPMENT_TOKEN_KEY = "XweNrc8aljJ6gRXjvp0z9WInInjfju4jybOwk73nBoI="  # noqa: S105
DEVELOPMENT_TESLA_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the bundled fake's secret
DEVELOPMENT_STRIPE_SECRET_KEY = "sk_test_sandbox"  # noqa: S105 - the bundled Stripe fake's key
DEVELOPMENT_STRIPE_WEBHOOK_SECRET = "whsec_sandbox"  # noqa: S105
DEVELOPMENT_PAYPAL_CLIENT_SECRET = "paypal-sandbox-secret"  # noqa: S105
DEVELOPMENT_MAPS_API_KEY = "sandbox-maps-key"  # the bundled Google Maps fake's key
DEVELOPMENT_OPEN_CHARGE_MAP_KEY = "ocm-sandbox-key"  # the bundled Open Charge Map fake's key
# The sandbox Google project's OAuth clients (the bundled fake registers them); production refuses them.
SANDBOX_GOOGLE_WEB_CLIENT_ID = "sandbox-web.apps.googleusercontent.com"
SANDBOX_GOOGLE_IOS_CLIENT_ID = "sandbox-ios.apps.googleusercontent.com"
SANDBOX_GOOGLE_CLIENT_ID = "sandbox-general.apps.googleusercontent.com"
DEVELOPMENT_GOOGLE_CLIENT_SECRET = "google-sandbox-secret"  # noqa: S105
# Lets the sandbox's alice and bob in (and carol, whose address Google has not verified, as far as that).
DEVELOPMENT_ALLOWED_EMAILS = ("@example.com",)
# The password of the admin seeded when no hash is configured, outside production only.
DEVELOPMENT_ADMIN_PASSWORD = "carpulse-admin"  # noqa: S105


# Production keys must look like a random generator's output (see `key_strength_bits`).
MIN_KEY_CHARACTERS = 32
MIN_KEY_BITS = 128
KEY_ADVICE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Alphabet sizes per character class; anything else counts as one of the 33 ASCII symbols and space.
_CHARACTER_CLASSES = (("abcdefghijklmnopqrstuvwxyz", 26), ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26), ("0123456789", 10))
_OTHER_CHARACTERS = 33


def key_strength_bits(key: str) -> float:
    """Estimated bits of a key: its unpredictable characters times the bits per character of the
    classes it uses, capped by the Shannon entropy of its characters.

    A character is predictable when it repeats the one before, continues a step (`abc`, `975`), or
    completes a pair of characters seen earlier (`abcabc`, `passwordpassword`).
    """
    if not key:
        return 0.0
    alphabet = sum(size for members, size in _CHARACTER_CLASSES if any(c in members for c in key))
    if any(all(c not in members for members, _ in _CHARACTER_CLASSES) for c in key):
        alphabet += _OTHER_CHARACTERS
    pairs: set[str] = set()
    unpredictable = 0
    for i, c in enumerate(key):
        predictable = False
        if i >= 1:
            pair = key[i - 1 : i + 1]
            predictable = c == key[i - 1] or pair in pairs
            pairs.add(pair)
        if i >= 2 and ord(c) - ord(key[i - 1]) == ord(key[i - 1]) - ord(key[i - 2]):
            predictable = True
        unpredictable += not predictable
    shannon = -sum(n / len(key) * math.log2(n / len(key)) for n in Counter(key).values())
    return max(0.0, min(unpredictable * math.log2(alphabet), len(key) * shannon))


def _key_problem(variable: str, key: str, development_default: str) -> str | None:
    if key == development_default:
        return f"{variable} is the development key; set a random one: {KEY_ADVICE}"
    if len(key) < MIN_KEY_CHARACTERS:
        return f"{variable} has {len(key)} characters, under {MIN_KEY_CHARACTERS}; set a random one: {KEY_ADVICE}"
    bits = key_strength_bits(key)
    if bits < MIN_KEY_BITS:
        return (
            f"{variable} is too predictable (about {bits:.0f} of {MIN_KEY_BITS} estimated bits: repeats, "
            f"sequences or few distinct characters); set a random one: {KEY_ADVICE}"
        )
    return None


def _local_or_plain_origin(url: str) -> str | None:
    """Why a browser origin is unfit for production (not https, or this machine), else None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "is not a URL"
    if parts.scheme != "https" or not host:
        return "is not an https:// origin"
    if host == "localhost" or host.endswith(".localhost"):
        return "points at localhost"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return "points at this machine" if address.is_loopback or address.is_unspecified else None


class UnsafeProductionSettings(ValueError):
    """The production guard's refusal: one line per problem, each naming the variable to set."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("refusing to start in production: " + "; ".join(problems))
        self.problems = problems


def settings_problems(error: ValidationError) -> list[str]:
    """One line per problem of a `Settings` validation error, naming the variable (never its value)."""
    lines: list[str] = []
    for item in error.errors():
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, UnsafeProductionSettings):
            lines.extend(cause.problems)
            continue
        message = item["msg"].removeprefix("Value error, ")
        # A list position is no variable of its own: `CARPULSE_SECURITY__TOKEN_KEYS`, not `…__0`.
        location = "__".join(part for part in item["loc"] if isinstance(part, str)).upper()
        lines.append(f"{ENV_PREFIX}{location}: {message}" if location else message)
    return lines


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


def _split_list(value: Any) -> Any:
    """Accept a JSON list or the seed's comma-separated form (`https://a,https://b`)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


class DatabaseSettings(BaseModel):
    url: str = Field(
        default="sqlite+aiosqlite:///var/carpulse.db",
        description="SQLAlchemy async URL; production: postgresql+asyncpg://user:pass@host/db",
    )
    echo: bool = False
    pool_size: int = Field(default=20, ge=1)
    pool_timeout_seconds: float = Field(default=5.0, gt=0)
    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    pool_pre_ping: bool = Field(default=False, description="ping each pooled connection before use")
    pool_recycle_seconds: int = Field(default=1800, ge=60, description="replace pooled connections this old")
    sqlite_begin: str = Field(
        default="immediate", pattern="^(immediate|deferred)$", description="SQLite only: how transactions take locks"
    )


class RedisSettings(BaseModel):
    url: SecretStr | None = Field(
        default=None,
        description="redis://host:6379/0; unset = in-process ephemeral store and rate limits",
    )
    key_prefix: str = "carpulse:"
    socket_timeout_seconds: float = Field(default=2.0, gt=0)


class StorageSettings(BaseModel):
    url: str = Field(
        default="var/storage",
        description=(
            "where PDFs, photos and invoices live: a local directory (path or file:// URL), "
            "s3://bucket/optional/prefix?endpoint=…&region=… or gs://bucket/optional/prefix?endpoint=…"
        ),
    )
    signing_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SIGNING_KEY),
        description="HMAC key of the app-signed /files links (local storage only)",
    )
    signed_url_ttl_seconds: int = Field(default=3600, ge=1, description="lifetime of a signed download link")
    endpoint: str | None = Field(
        default=None,
        description="S3-compatible endpoint (MinIO, a test fake) or GCS base URL; the URL's ?endpoint= wins",
    )
    region: str | None = Field(default=None, description="S3 region; the URL's ?region= wins")
    access_key_id: str | None = Field(
        default=None, description="S3 access key id; unset uses the ambient AWS chain (env, instance role)"
    )
    secret_access_key: SecretStr | None = Field(default=None, description="S3 secret access key, with access_key_id")
    service_account_path: Path | None = Field(
        default=None,
        description="GCS service-account JSON key file; unset uses application default credentials",
    )
    timeout_seconds: float = Field(default=30.0, gt=0, le=300, description="per request to S3 or GCS")

    @field_validator(
        "endpoint",
        "region",
        "access_key_id",
        "secret_access_key",
        "service_account_path",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `CARPULSE_STORAGE__REGION=` in an env file means "not configured".
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(raw, str) and not raw.strip() else value


class AuthSettings(BaseModel):
    jwt_secret_key: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_access_token_expire_minutes: int = Field(default=30, ge=1, le=24 * 60)
    jwt_issuer: str = "carpulse"
    jwt_audience: str = "carpulse-api"


class AdminSettings(BaseModel):
    username: str = Field(default="admin", max_length=150)
    password_hash: SecretStr | None = Field(
        default=None,
        description="argon2 or bcrypt hash (`carpulse admin hash-password`)",
    )

    @field_validator("password_hash", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `ADMIN_PASSWORD_HASH=` in an env file means "not configured", never "empty password".
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(raw, str) and not raw.strip() else value


class HttpSettings(BaseModel):
    cors_origins: CommaList = Field(default_factory=lambda: ["http://localhost:3000", "http://localhost:5173"])
    trusted_proxies: CommaList = Field(
        default_factory=list,
        description="addresses or CIDR networks whose X-Forwarded-For is believed",
    )
    trusted_proxy_widest_ipv4: int = Field(
        default=24, ge=0, le=32, description="production refuses a trusted IPv4 network wider than this prefix"
    )
    trusted_proxy_widest_ipv6: int = Field(
        default=64, ge=0, le=128, description="production refuses a trusted IPv6 network wider than this prefix"
    )
    docs: bool | None = Field(
        default=None, description="serve /docs, /redoc and /openapi.json; unset: everywhere but production"
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="request body limit of photo uploads (several photos at once)"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or network (10.0.1.0/24, 2001:db8::/64)") from exc
        return entries

    def wide_proxy_networks(self) -> list[tuple[str, int]]:
        """Trusted networks wider than the widest prefix allowed, with that prefix."""
        wide = []
        for entry in self.trusted_proxies:
            network = ipaddress.ip_network(entry, strict=False)
            widest = self.trusted_proxy_widest_ipv4 if network.version == 4 else self.trusted_proxy_widest_ipv6
            if network.prefixlen < widest:
                wide.append((str(network), widest))
        return wide


DEFAULT_RATE_LIMIT_POLICIES = {
    "payment": "10/minute",
    "verification": "30/minute",
    "pdf": "10/minute",
    "webhook": "100/minute",
    "login": "5/minute",
    # By cost: a stored invoice is one Fleet call, a ZIP up to hundreds, a history read a few pages.
    "invoice": "60/minute",
    "invoice_zip": "3/minute",
    "charging_history": "30/minute",
    # Charging-station searches per driver: each may cost an Open Charge Map call, which bans floods.
    "charging_stations": "60/minute",
    "oauth_initiate": "20/minute",
    "photo_upload": "10/minute",
    # Report renders (each seconds of CPU), queued or while you wait: per order, and per client IP.
    "render": "10/minute",
    "render_ip": "30/minute",
    # Voucher checks (validate-voucher, quotes with a code): per client IP and per connect session.
    "voucher": "10/minute",
    # Data API sign-up: registrations per client IP and per address (each sends a mail), resends alike,
    # confirmations per client IP.
    "register": "10/hour",
    "confirmation_resend": "5/hour",
    "confirm": "30/minute",
    # Logbook sign-ins with a Google ID token, and refreshes of our tokens: per client IP.
    "driver_sign_in": "30/minute",
}


class ServerSettings(BaseModel):
    """`carpulse serve`: how long a connection may idle or dawdle, and how many the process takes."""

    header_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="a connection whose request head is not complete in this long is closed"
    )
    keep_alive_timeout_seconds: int = Field(
        default=5, ge=1, le=3600, description="an idle keep-alive connection is closed after this long"
    )
    limit_concurrency: int = Field(
        default=1000, ge=1, description="connections plus tasks at once; past it new requests get 503"
    )
    backlog: int = Field(default=2048, ge=1, description="connections the kernel queues before accept")
    max_head_bytes: int = Field(
        default=64 * 1024, ge=1024, le=1024 * 1024, description="a larger request head (line + headers) gets 431"
    )


class RateLimitSettings(BaseModel):
    enabled: bool = True
    policies: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMIT_POLICIES),
        description="overrides are merged over the defaults, so naming one policy keeps the others",
    )

    @field_validator("policies", mode="after")
    @classmethod
    def _merge_over_defaults(cls, value: dict[str, str]) -> dict[str, str]:
        from limits import parse

        for name, rate in value.items():
            try:
                parse(rate)
            except ValueError as exc:
                raise ValueError(f"rate limit policy {name!r}: {rate!r} is not a rate like '10/minute'") from exc
        return {**DEFAULT_RATE_LIMIT_POLICIES, **value}


SecretList = Annotated[list[SecretStr], NoDecode, BeforeValidator(_split_list)]


class SecuritySettings(BaseModel):
    token_keys: SecretList = Field(
        default_factory=lambda: [SecretStr(DEVELOPMENT_TOKEN_KEY)],
        description="Fernet keys for vendor tokens at rest; the first encrypts, all decrypt (rotation)",
        min_length=1,
    )

    @field_validator("token_keys")
    @classmethod
    def _fernet_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        from cryptography.fernet import Fernet

        for position, key in enumerate(keys):
            try:
                Fernet(key.get_secret_value().encode())
            except ValueError as exc:
                raise ValueError(f"token key #{position + 1} is not a Fernet key (32 url-safe base64 bytes)") from exc
        return keys


class TeslaSettings(BaseModel):
    client_id: str = "carpulse-sandbox"
    client_secret: SecretStr = SecretStr(DEVELOPMENT_TESLA_CLIENT_SECRET)
    redirect_uri: str | None = Field(
        default=None, description="registered callback; default: {public base}/api/v1/tesla/oauth/callback"
    )
    authorize_url: str | None = Field(
        default=None, description="browser consent page; default: the sandbox fake, else auth.tesla.com"
    )
    token_url: str | None = Field(default=None, description="default: the sandbox fake, else fleet-auth")
    fleet_base_urls: dict[str, str] = Field(
        default_factory=dict, description="per region (na, eu, cn); default: the sandbox fake, else Tesla's hosts"
    )
    default_region: str = Field(default="eu", pattern="^(na|eu|cn)$")
    scopes: str = "openid offline_access user_data vehicle_device_data vehicle_location vehicle_charging_cmds"
    frontend_url: str | None = Field(
        default=None, description="where the browser goes after the callback, with ?session_id=; default: /"
    )
    timeout_seconds: float = Field(default=15.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)
    retry_after_cap_seconds: float = Field(
        default=10.0, ge=0, description="a longer Retry-After is surfaced as 'try later', not slept"
    )
    public_key_path: str = Field(default="var/keys/tesla-public-key.pem", description="EC P-256 public key (PEM)")
    private_key_path: str = Field(default="var/keys/tesla-private-key.pem", description="never served")


class GoogleSettings(BaseModel):
    """Google as the Logbook's identity provider: the project's OAuth clients and where Google is."""

    web_client_id: str = Field(
        default=SANDBOX_GOOGLE_WEB_CLIENT_ID, min_length=1, description="the web client: our callback's code exchange"
    )
    web_client_secret: SecretStr = SecretStr(DEVELOPMENT_GOOGLE_CLIENT_SECRET)
    ios_client_id: str | None = Field(
        default=SANDBOX_GOOGLE_IOS_CLIENT_ID, description="ID tokens of the iOS and watch apps; blank: none accepted"
    )
    client_id: str | None = Field(
        default=SANDBOX_GOOGLE_CLIENT_ID, description="the general OAuth client's ID tokens; blank: none accepted"
    )
    discovery_url: str | None = Field(
        default=None,
        description="OpenID configuration; default: the sandbox fake, else "
        "https://accounts.google.com/.well-known/openid-configuration",
    )
    redirect_uri: str | None = Field(
        default=None, description="registered callback; default: {public base}/api/v1/logbook/auth/google/callback"
    )
    scopes: str = "openid email profile"
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    clock_skew_seconds: int = Field(default=60, ge=0, le=300, description="leeway on an ID token's iat and exp")
    jwks_refetch_min_seconds: float = Field(
        default=30.0,
        ge=0,
        description="an unknown key id refetches Google's keys at most this often (a flood of bogus ids cannot "
        "hammer Google)",
    )

    @field_validator("ios_client_id", "client_id", "discovery_url", "redirect_uri", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `GOOGLE_IOS_CLIENT_ID=` means "no iOS app", never "an empty audience".
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def client_ids(self) -> tuple[str, ...]:
        """Every audience an ID token may name: the web, iOS and general clients."""
        return tuple(dict.fromkeys(i for i in (self.web_client_id, self.ios_client_id, self.client_id) if i))


class LogbookAuthSettings(BaseModel):
    """Who may sign in to the Logbook, and how long a driver stays signed in."""

    enabled: bool = Field(
        default=True,
        description="false: every Logbook call acts as one implicit local driver, without a token (never in "
        "production)",
    )
    allowed_emails: CommaList = Field(
        default_factory=lambda: list(DEVELOPMENT_ALLOWED_EMAILS),
        description="exact addresses and @domain entries; empty: nobody may sign in",
    )
    refresh_token_days: int = Field(default=30, ge=1, le=365, description="an unused refresh token lives this long")
    state_ttl_seconds: int = Field(default=10 * 60, ge=30, le=3600, description="a web sign-in must finish within")

    @field_validator("allowed_emails")
    @classmethod
    def _entries(cls, entries: list[str]) -> list[str]:
        cleaned = []
        for entry in entries:
            value = entry.strip().lower()
            local, at, domain = value.rpartition("@")
            if not at or not domain or "." not in domain or "@" in local:
                raise ValueError(f"{entry!r} is neither an address (jane@example.com) nor a domain (@example.com)")
            cleaned.append(value)
        return cleaned


class PricingSettings(BaseModel):
    vat_rate_percent: Decimal = Field(default=Decimal("25.5"), ge=0, le=100, description="Finnish VAT since 2024-09")
    currency: str = "EUR"
    quote_ttl_seconds: int = Field(default=30 * 60, ge=60)
    order_ttl_seconds: int = Field(default=60 * 60, ge=300, description="an unpaid order expires after this")


class StripeSettings(BaseModel):
    secret_key: SecretStr = SecretStr(DEVELOPMENT_STRIPE_SECRET_KEY)
    publishable_key: str = "pk_test_sandbox"
    webhook_secret: SecretStr = SecretStr(DEVELOPMENT_STRIPE_WEBHOOK_SECRET)
    api_base: str | None = Field(default=None, description="default: the sandbox fake, else https://api.stripe.com")
    webhook_tolerance_seconds: int = Field(
        default=300, ge=30, le=3600, description="how old a signature's timestamp may be"
    )
    webhook_clock_skew_seconds: int = Field(
        default=60, ge=0, le=600, description="how far in the future a signature's timestamp may be"
    )
    mobilepay: bool = Field(default=True, description="the account has MobilePay on: `provider=mobilepay` is offered")
    apple_pay_configuration: str | None = Field(
        default=None,
        pattern=r"^pmc_[A-Za-z0-9]+$",
        description="a payment method configuration (pmc_…) with only Apple Pay on; unset: `apple_pay` is not offered "
        "(the sandbox uses its fake's)",
    )
    google_pay_configuration: str | None = Field(
        default=None,
        pattern=r"^pmc_[A-Za-z0-9]+$",
        description="a payment method configuration (pmc_…) with only Google Pay on; unset: `google_pay` is not "
        "offered (the sandbox uses its fake's)",
    )
    apple_pay_domain_association: Path | None = Field(
        default=None,
        description="the domain-association file from Stripe's Dashboard, served at "
        "/.well-known/apple-developer-merchantid-domain-association; unset: 404",
    )


class PayPalSettings(BaseModel):
    client_id: str = "paypal-sandbox-client"
    client_secret: SecretStr = SecretStr(DEVELOPMENT_PAYPAL_CLIENT_SECRET)
    webhook_id: str = "WH-SANDBOX"
    mode: str = Field(default="sandbox", pattern="^(sandbox|live)$")
    api_base: str | None = Field(
        default=None, description="default: the sandbox fake, else api-m.sandbox.paypal.com / api-m.paypal.com"
    )
    certificate_hosts: CommaList = Field(
        default_factory=lambda: [
            "api.paypal.com",
            "api.sandbox.paypal.com",
            "api-m.paypal.com",
            "api-m.sandbox.paypal.com",
        ],
        description="webhook signing certificates are fetched only from these hosts (plus the sandbox's own)",
    )


OPEN_CHARGE_MAP_API_BASE = "https://api.openchargemap.io/v3"


class OpenChargeMapSettings(BaseModel):
    """Charging-station search through Open Charge Map (seed 003: `OPENCHARGEMAP_API_KEY`, `CHARGING_CACHE_TTL`)."""

    api_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_OPEN_CHARGE_MAP_KEY),
        description="the key of your app registered at openchargemap.org (sent as X-API-Key)",
    )
    api_base: str | None = Field(
        default=None, description=f"default: the sandbox fake, else {OPEN_CHARGE_MAP_API_BASE}"
    )
    cache_seconds: int = Field(
        default=300, ge=0, le=24 * 3600, description="an answer is reused this long (0: ask OCM every time)"
    )
    stale_seconds: int = Field(
        default=24 * 3600,
        ge=0,
        le=7 * 24 * 3600,
        description="an older answer is kept this long, and served (marked cached) only while OCM fails",
    )
    reference_cache_seconds: int = Field(
        default=24 * 3600, ge=60, description="OCM's reference data (operator names and ids) is reused this long"
    )
    timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="per request to OCM")
    deadline_seconds: float = Field(
        default=10.0, gt=0, le=120, description="a search waits this long for OCM, retries included, then gives up"
    )
    max_retries: int = Field(default=2, ge=0, le=5)
    retry_after_cap_seconds: float = Field(
        default=5.0, ge=0, description="a longer Retry-After from OCM is passed on to the caller, not slept"
    )
    user_agent: str = Field(
        default="CarPulse/1.0 (+https://carpulsetracker.com)",
        min_length=1,
        description="OCM asks every app for a custom User-Agent",
    )
    client_id: str = Field(default="carpulse", min_length=1, description="sent as OCM's `client` parameter")

    @field_validator("api_base", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class CompanySettings(BaseModel):
    """The seller on receipts (seed 000: COMPANY_* secrets)."""

    # The receipt's layout is tested with values of these lengths (tests/receipt/test_receipt_layout.py).
    name: str = Field(default="Car Pulse Oy", max_length=120)
    address: str = Field(default="Esimerkkikatu 1, 00100 Helsinki, Finland", max_length=200)
    y_tunnus: str = Field(default="1234567-8", max_length=9, description="Finnish business id: 1234567-8")
    vat_number: str = Field(
        default="FI12345678", max_length=14, description="EU VAT numbers have at most 14 characters"
    )
    email: str = Field(
        default="billing@carpulsetracker.com",
        max_length=254,
        description="an address has at most 254 characters (RFC 5321)",
    )
    website: str = Field(default="https://carpulsetracker.com", max_length=200)


class DataApiSettings(BaseModel):
    """The Data API: how keys are kept, how long retries are answered again, what its answers read."""

    key_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_API_KEY_SECRET),
        description="HMAC key the API keys are stored under; changing it invalidates every key",
    )
    key_cache_seconds: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="a replica trusts a key it checked this long: a revocation reaches every replica within it",
    )
    idempotency_hours: int = Field(default=24, ge=1, le=24 * 7, description="an Idempotency-Key is honoured so long")
    batch_max_vins: int = Field(default=100, ge=1, le=1000)
    synthetic: bool | None = Field(
        default=None,
        description="answer from the simulator's readings instead of real ones; default: with the sandbox on",
    )
    min_cohort: int = Field(
        default=5, ge=2, description="a trendline bin is published only with this many distinct vehicles"
    )


class LogbookSettings(BaseModel):
    """Trips from phone webhooks: how they are told apart, recovered, kept and labelled."""

    webhook_token_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_WEBHOOK_TOKEN_SECRET),
        description="HMAC key webhook tokens are stored under; changing it invalidates every token",
    )
    token_cache_seconds: float = Field(
        default=0.5, ge=0, le=5, description="a replica trusts a webhook token it checked this long"
    )
    assembly_debounce_seconds: float = Field(
        default=1.0, ge=0, le=30, description="pings of a car queue its trip assembly at most twice in this window"
    )
    open_measure_seconds: float = Field(
        default=10.0, ge=0, le=600, description="an open trip's distance and ends are measured again at most this often"
    )
    max_events_per_request: int = Field(default=500, ge=1, le=2000, description="a phone's offline backlog in one call")
    recover_after_seconds: int = Field(
        default=15 * 60, ge=60, description="an open trip with no fix for this long is closed at its last fix"
    )
    gap_seconds: int = Field(
        default=15 * 60,
        ge=60,
        description="a fix this close to a trip without a start (or an end) event belongs to it",
    )
    end_match_seconds: int = Field(
        default=6 * 3600, ge=60, description="an `end` with no open trip ends the trip before it within this long"
    )
    track_retention_days: int = Field(
        default=730, ge=1, description="tracks older than this are thinned to their ends (distance and ends kept)"
    )
    place_radius_m: float = Field(default=150.0, gt=0, le=5000, description="default radius of a known place")
    home_lat: float | None = Field(default=None, ge=-90, le=90, description="the seed's CONFIG_HOME_LAT")
    home_lon: float | None = Field(default=None, ge=-180, le=180)
    office_lat: float | None = Field(default=None, ge=-90, le=90, description="the seed's CONFIG_OFFICE_LAT")
    office_lon: float | None = Field(default=None, ge=-180, le=180)


class ConnectSettings(BaseModel):
    session_ttl_seconds: int = Field(default=30 * 60, ge=60, description="a connect session lives this long, once")
    state_ttl_seconds: int = Field(default=10 * 60, ge=30)
    connection_days: int = Field(
        default=30,
        ge=1,
        le=366,
        description="a paid order opens its vehicles' data this long after payment; then its tokens are deleted",
    )


class DevProxySettings(BaseModel):
    enabled: bool = Field(default=True, description="the dev OAuth relay; never served in production")
    allowed_tunnel_suffixes: CommaList = Field(
        default_factory=lambda: [".ngrok-free.app", ".ngrok.app", ".ngrok.io", ".trycloudflare.com", ".loca.lt"],
        description="a developer's tunnel host must end with one of these",
    )


class JobSettings(BaseModel):
    broker: str = Field(default="memory", pattern="^(memory|redis)$", description="redis needs CARPULSE_REDIS__URL")
    in_process_worker: bool = Field(
        default=True, description="with the redis broker, also consume jobs inside the API process"
    )
    queue_name: str = "carpulse-jobs"
    reconcile_every_seconds: float = Field(
        default=15.0,
        gt=0,
        description="how often a process running jobs looks for work whose job was lost (a live job is not re-sent)",
    )
    concurrency: int = Field(default=10, ge=1, le=1000, description="jobs one worker process runs at once")
    prefetch: int = Field(
        default=1,
        ge=1,
        le=100,
        description="messages a worker takes from the stream per read; a killed worker strands at most these",
    )
    claim_idle_seconds: float = Field(
        default=30.0,
        ge=1,
        description="a message no live worker has touched this long (its worker died) is claimed by another",
    )
    max_stream_length: int = Field(
        default=100_000,
        ge=100,
        description="a safety cap per stream (it holds only jobs in flight); past it the oldest are trimmed",
    )
    heartbeat_path: str = Field(
        default="var/worker.heartbeat", description="file `carpulse worker` touches while its event loop runs"
    )
    heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="how often the heartbeat is touched; `carpulse worker --check` allows 3×"
    )


# Where the vendor fakes answer, on this process (`make run`) or on `carpulse sandbox`.
SANDBOX_PATH = "/_sandbox"
DEFAULT_SANDBOX_PORT = 8200


class SandboxSettings(BaseModel):
    enabled: bool = Field(default=True, description="use the vendor fakes instead of Tesla, Stripe and PayPal")
    url: str | None = Field(
        default=None,
        description=(
            "the one sandbox every process uses (`carpulse sandbox`), e.g. http://sandbox.internal:8200/_sandbox; "
            "unset: this process mounts its own fakes under /_sandbox"
        ),
    )
    seed: int = Field(default=7, description="the synthetic fleet is deterministic from this seed")
    wake_delay_seconds: float = Field(default=5.0, ge=0, description="how long a sandbox car takes to wake")

    @field_validator("url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("url")
    @classmethod
    def _sandbox_root(cls, value: str | None) -> str | None:
        if value is None:
            return None
        example = f"e.g. http://sandbox.internal:{DEFAULT_SANDBOX_PORT}{SANDBOX_PATH}"
        try:
            parts = urlsplit(value.strip())
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a URL ({example})") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL with a host ({example})")
        if parts.username is not None or parts.query or parts.fragment:
            raise ValueError(f"{value!r} must be a plain address, without credentials, query or fragment ({example})")
        path = parts.path.rstrip("/")
        if not path.endswith(SANDBOX_PATH):
            raise ValueError(
                f"{value!r} must end with {SANDBOX_PATH}, where `carpulse sandbox` serves the fakes ({example})"
            )
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        return f"{parts.scheme}://{netloc}{f':{port}' if port is not None else ''}{path}"


class MailSettings(BaseModel):
    """Outgoing mail through SMTP (with the sandbox on, mail is kept at /_sandbox/mail instead)."""

    model_config = ConfigDict(populate_by_name=True)

    host: str | None = Field(default=None, description="SMTP server; production: required")
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = Field(default=None, description="SMTP login; unset: no AUTH")
    password: SecretStr | None = None
    starttls: bool = Field(
        default=True, description="upgrade the connection with STARTTLS (refused if the server cannot)"
    )
    from_address: str | None = Field(
        default=None,
        alias="from",
        description="the From header, e.g. 'Car Pulse <no-reply@carpulsetracker.com>'; production: required",
    )
    timeout_seconds: float = Field(default=15.0, gt=0, le=300, description="per SMTP conversation")
    max_attempts: int = Field(default=8, ge=1, le=50, description="sends tried before a mail is given up as failed")
    retry_seconds: tuple[float, float] = Field(
        default=(30.0, 3600.0), description="a failed send tries again spaced from the first to the second"
    )
    lease_seconds: int = Field(default=120, ge=10, description="a send whose worker died is taken over after this long")

    @field_validator("host", "username", "from_address", "password", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(raw, str) and not raw.strip() else value

    @field_validator("retry_seconds")
    @classmethod
    def _spacing(cls, value: tuple[float, float]) -> tuple[float, float]:
        first, last = value
        if not 0 < first <= last:
            raise ValueError("a spacing is [first, last] seconds with 0 < first <= last, e.g. [30, 3600]")
        return value


class SignupSettings(BaseModel):
    confirmation_ttl_seconds: int = Field(
        default=24 * 3600, ge=300, le=30 * 24 * 3600, description="a confirmation link works this long, once"
    )


class GeoSettings(BaseModel):
    """Trip geometry: cleaning thresholds, reverse geocoding (addresses) and routing (sparse tracks)."""

    geocoder: Literal["offline", "google", "nominatim"] = Field(
        default="offline", description="offline: the town from a bundled data set (no network); google; nominatim"
    )
    router: Literal["offline", "google"] = Field(
        default="offline", description="road distance of sparse tracks: offline estimate (straight × detour) or google"
    )
    google_api_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_MAPS_API_KEY),
        description="Google Maps Platform key with the Geocoding and Directions APIs (seed: MAPS_API_KEY)",
    )
    google_api_base: str | None = Field(
        default=None, description="default: the sandbox fake, else https://maps.googleapis.com"
    )
    language: str | None = Field(default=None, description="language of addresses (e.g. fi, de); unset: the vendor's")
    nominatim_url: str | None = Field(
        default=None, description="default: the sandbox fake, else https://nominatim.openstreetmap.org"
    )
    nominatim_user_agent: str = Field(
        default="CarPulse/0.1 (+https://carpulsetracker.com)",
        min_length=8,
        description="Nominatim's usage policy asks for a User-Agent naming the application and a contact",
    )
    nominatim_min_interval_seconds: float = Field(
        default=1.0, ge=1.0, description="spacing of Nominatim requests per process (the policy: at most 1 a second)"
    )
    timeout_seconds: float = Field(default=10.0, gt=0)
    cache_ttl_seconds: int = Field(
        default=30 * 24 * 3600, ge=60, description="how long an address is kept in the shared cache"
    )
    replica_cache_entries: int = Field(default=4096, ge=0, description="addresses each replica also keeps in memory")
    offline_max_distance_m: float = Field(
        default=50_000.0, gt=0, description="offline geocoder: farther than this from any town there is no address"
    )
    max_accuracy_m: float = Field(default=50.0, gt=0, description="fixes reporting a worse accuracy are dropped")
    simplify_tolerance_m: float = Field(default=5.0, ge=0, description="stored tracks keep the shape within this")
    detour_factor: float = Field(
        default=1.3, ge=1.0, le=3.0, description="offline router: road distance = straight line × this"
    )


class WebSettings(BaseModel):
    """The web app's pages: map tiles and cookies."""

    tile_url: str | None = Field(
        default=None,
        description=(
            "the map tile URL template ({z}/{x}/{y}), e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; "
            "none: maps draw tracks on a plain background (offline, tests)"
        ),
    )
    tile_attribution: str = Field(
        default="© OpenStreetMap contributors", description="the credit the tile provider asks maps to show"
    )
    session_hours: int = Field(default=12, ge=1, le=24 * 30, description="how long a page sign-in lasts")
    secure_cookies: bool | None = Field(
        default=None, description="send cookies over HTTPS only; default: when the public base URL is https"
    )


class LogSettings(BaseModel):
    level: str = "INFO"
    json_lines: bool = Field(default=True, description="JSON lines (Cloud Logging); else console")


class _SeedEnvironmentSource(PydanticBaseSettingsSource):
    """The seed's unprefixed variable names, mapped onto the grouped settings."""

    aliases: ClassVar[dict[str, tuple[str, ...]]] = {
        "APP_NAME": ("app_name",),
        "APP_VERSION": ("app_version",),
        "HOST": ("host",),
        "PORT": ("port",),
        "CORS_ORIGINS": ("http", "cors_origins"),
        "JWT_SECRET_KEY": ("auth", "jwt_secret_key"),
        "JWT_ACCESS_TOKEN_EXPIRE_MINUTES": ("auth", "jwt_access_token_expire_minutes"),
        "ADMIN_USERNAME": ("admin", "username"),
        "ADMIN_PASSWORD_HASH": ("admin", "password_hash"),
        "TESLA_CLIENT_ID": ("tesla", "client_id"),
        "TESLA_CLIENT_SECRET": ("tesla", "client_secret"),
        "TESLA_REDIRECT_URI": ("tesla", "redirect_uri"),
        "GOOGLE_WEB_CLIENT_ID": ("google", "web_client_id"),
        "GOOGLE_IOS_CLIENT_ID": ("google", "ios_client_id"),
        "GOOGLE_OAUTH_CLIENT_ID": ("google", "client_id"),
        # The seed's secret `google-oauth-client-secret`: the secret of the client that exchanges codes (web).
        "GOOGLE_OAUTH_CLIENT_SECRET": ("google", "web_client_secret"),
        "AUTH_ENABLED": ("logbook_auth", "enabled"),
        "AUTH_ALLOWED_EMAILS": ("logbook_auth", "allowed_emails"),
        "STRIPE_SECRET_KEY": ("stripe", "secret_key"),
        "STRIPE_PUBLISHABLE_KEY": ("stripe", "publishable_key"),
        "STRIPE_WEBHOOK_SECRET": ("stripe", "webhook_secret"),
        "PAYPAL_CLIENT_ID": ("paypal", "client_id"),
        "PAYPAL_CLIENT_SECRET": ("paypal", "client_secret"),
        "PAYPAL_WEBHOOK_ID": ("paypal", "webhook_id"),
        "PAYPAL_MODE": ("paypal", "mode"),
        "VAT_RATE": ("pricing", "vat_rate_percent"),
        "COMPANY_NAME": ("company", "name"),
        "COMPANY_ADDRESS": ("company", "address"),
        "COMPANY_Y_TUNNUS": ("company", "y_tunnus"),
        "COMPANY_VAT_NUMBER": ("company", "vat_number"),
        "COMPANY_EMAIL": ("company", "email"),
        "COMPANY_WEBSITE": ("company", "website"),
        "CONFIG_HOME_LAT": ("logbook", "home_lat"),
        "CONFIG_HOME_LON": ("logbook", "home_lon"),
        "CONFIG_OFFICE_LAT": ("logbook", "office_lat"),
        "CONFIG_OFFICE_LON": ("logbook", "office_lon"),
        "MAPS_API_KEY": ("geo", "google_api_key"),
        "OPENCHARGEMAP_API_KEY": ("open_charge_map", "api_key"),
        "CHARGING_CACHE_TTL": ("open_charge_map", "cache_seconds"),
    }

    def __init__(self, settings_cls: type[BaseSettings], env_file: str | None) -> None:
        super().__init__(settings_cls)
        self.env_file = env_file

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, str | None] = {}
        if self.env_file and Path(self.env_file).is_file():
            values.update(dotenv_values(self.env_file))
        values.update(os.environ)
        out: dict[str, Any] = {}
        for name, path in self.aliases.items():
            value = values.get(name)
            if value is None:
                continue
            target = out
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        return out


class ChargingSettings(BaseModel):
    history_cache_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="a vehicle's charging history read from Tesla is reused this long (0: read on every request)",
    )


class ReportSettings(BaseModel):
    start_on_payment: bool = Field(
        default=True, description="render the paid-for reports as soon as an order is paid (and reconcile them)"
    )
    snapshot_max_age_seconds: int = Field(
        default=900, ge=0, description="reuse a vehicle's acquired data this long (9 languages = 1 acquisition)"
    )
    lease_seconds: int = Field(
        default=20,
        ge=5,
        description="a render whose worker stopped renewing (every third of this) is taken over after this long",
    )
    max_attempts: int = Field(default=3, ge=1, le=10, description="renders tried before a report is failed")
    retry_window_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        description="how long a report waits out a throttling or sleeping vendor before it is failed",
    )
    defer_seconds: tuple[float, float] = Field(
        default=(5.0, 30.0),
        description="a throttled render tries again after Tesla's Retry-After, spaced from the first to the second",
    )
    retry_seconds: tuple[float, float] = Field(
        default=(15.0, 600.0), description="a failed render tries again spaced from the first to the second"
    )
    concurrent_renders: int = Field(
        default=4,
        ge=1,
        le=64,
        description="reports one process works on at once: reading the car, then waiting for a document slot",
    )
    reconcile_after_seconds: int = Field(
        default=15,
        ge=1,
        description="a paid order without reports, or a due report, this long is re-queued (unless its job is live)",
    )
    retention_days: int = Field(default=30, ge=1, description="reports and photos are deleted after this many days")
    wake_budget_seconds: float = Field(default=45.0, ge=0, description="how long to wait for a car to wake")
    wake_poll_seconds: float = Field(default=5.0, gt=0)
    history_months: int = Field(default=24, ge=1, le=24, description="charging history shown in Pro reports")

    @field_validator("defer_seconds", "retry_seconds")
    @classmethod
    def _spacing(cls, value: tuple[float, float]) -> tuple[float, float]:
        first, last = value
        if not 0 < first <= last:
            raise ValueError("a spacing is [first, last] seconds with 0 < first <= last, e.g. [5, 30]")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=ENV_FILE,
        extra="ignore",
    )

    environment: Environment = Environment.development
    app_name: str = "Car Pulse API"
    app_version: str | None = Field(default=None, description="else the latest git tag, else the package version")
    debug: bool = False
    host: str = "0.0.0.0"
    port: int = Field(default=8100, ge=1, le=65535)
    public_base_url: str | None = Field(
        default=None, description="base of every URL the app builds; default: where it serves"
    )
    replicas: int = Field(default=1, ge=1, description="how many `carpulse serve` processes share this configuration")

    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    storage: StorageSettings = StorageSettings()
    server: ServerSettings = ServerSettings()
    auth: AuthSettings = AuthSettings()
    admin: AdminSettings = AdminSettings()
    http: HttpSettings = HttpSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    security: SecuritySettings = SecuritySettings()
    tesla: TeslaSettings = TeslaSettings()
    google: GoogleSettings = GoogleSettings()
    logbook_auth: LogbookAuthSettings = LogbookAuthSettings()
    connect: ConnectSettings = ConnectSettings()
    pricing: PricingSettings = PricingSettings()
    stripe: StripeSettings = StripeSettings()
    paypal: PayPalSettings = PayPalSettings()
    open_charge_map: OpenChargeMapSettings = OpenChargeMapSettings()
    company: CompanySettings = CompanySettings()
    data_api: DataApiSettings = DataApiSettings()
    logbook: LogbookSettings = LogbookSettings()
    dev_proxy: DevProxySettings = DevProxySettings()
    jobs: JobSettings = JobSettings()
    report: ReportSettings = ReportSettings()
    charging: ChargingSettings = ChargingSettings()
    sandbox: SandboxSettings = SandboxSettings()
    mail: MailSettings = MailSettings()
    signup: SignupSettings = SignupSettings()
    geo: GeoSettings = GeoSettings()
    web: WebSettings = WebSettings()
    log: LogSettings = LogSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = settings_cls.model_config.get("env_file")
        seed = _SeedEnvironmentSource(settings_cls, env_file if isinstance(env_file, str) else None)
        return init_settings, env_settings, dotenv_settings, seed, file_secret_settings

    @model_validator(mode="after")
    def _jobs_need_redis(self) -> Settings:
        if self.jobs.broker == "redis" and self.redis.url is None:
            raise ValueError("CARPULSE_JOBS__BROKER=redis needs CARPULSE_REDIS__URL")
        return self

    @model_validator(mode="after")
    def _sandbox_url_needs_the_sandbox(self) -> Settings:
        if self.sandbox.url is not None and not self.sandbox.enabled and not self.is_production:
            raise ValueError(
                "CARPULSE_SANDBOX__URL names a sandbox, but CARPULSE_SANDBOX__ENABLED is false: "
                "unset the URL to use the real vendors, or enable the sandbox"
            )
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults(self) -> Settings:
        if self.environment is not Environment.production:
            return self
        problems = []
        for variable, key, default in (
            ("CARPULSE_AUTH__JWT_SECRET_KEY (or JWT_SECRET_KEY)", self.auth.jwt_secret_key, DEVELOPMENT_JWT_SECRET),
            ("CARPULSE_STORAGE__SIGNING_KEY", self.storage.signing_key, DEVELOPMENT_SIGNING_KEY),
            ("CARPULSE_DATA_API__KEY_SECRET", self.data_api.key_secret, DEVELOPMENT_API_KEY_SECRET),
            (
                "CARPULSE_LOGBOOK__WEBHOOK_TOKEN_SECRET",
                self.logbook.webhook_token_secret,
                DEVELOPMENT_WEBHOOK_TOKEN_SECRET,
            ),
        ):
            if problem := _key_problem(variable, key.get_secret_value(), default):
                problems.append(problem)
        if self.sandbox.enabled:
            problems.append(
                "CARPULSE_SANDBOX__ENABLED must be false: its fakes would stand in for Tesla, Stripe and PayPal"
            )
        if self.sandbox.url is not None:
            problems.append(
                "CARPULSE_SANDBOX__URL must be unset: it points Tesla, Stripe and PayPal at a sandbox's fakes"
            )
        if self.admin.password_hash is None:
            problems.append(
                "CARPULSE_ADMIN__PASSWORD_HASH (or ADMIN_PASSWORD_HASH) must be set (`carpulse admin hash-password`): "
                "without it the admin's password is the development one"
            )
        if not self.public_base_url or not self.public_base_url.startswith("https://"):
            problems.append(
                "CARPULSE_PUBLIC_BASE_URL must be an https:// URL: every link, callback and return URL starts with it"
            )
        if self.debug:
            problems.append("CARPULSE_DEBUG must be false")
        if self.data_api.synthetic:
            problems.append("CARPULSE_DATA_API__SYNTHETIC must be false: the simulator's readings are not for sale")

        if DEVELOPMENT_TOKEN_KEY in (key.get_secret_value() for key in self.security.token_keys):
            problems.append(
                "CARPULSE_SECURITY__TOKEN_KEYS must not contain the development key: it is public, and it decrypts "
                "the stored Tesla tokens"
            )
        if self.tesla.client_secret.get_secret_value() == DEVELOPMENT_TESLA_CLIENT_SECRET:
            problems.append("CARPULSE_TESLA__CLIENT_SECRET (or TESLA_CLIENT_SECRET) must be set")
        if self.stripe.secret_key.get_secret_value() == DEVELOPMENT_STRIPE_SECRET_KEY:
            problems.append("CARPULSE_STRIPE__SECRET_KEY (or STRIPE_SECRET_KEY) must be set")
        if self.stripe.webhook_secret.get_secret_value() == DEVELOPMENT_STRIPE_WEBHOOK_SECRET:
            problems.append("CARPULSE_STRIPE__WEBHOOK_SECRET (or STRIPE_WEBHOOK_SECRET) must be set")
        if self.paypal.client_secret.get_secret_value() == DEVELOPMENT_PAYPAL_CLIENT_SECRET:
            problems.append("CARPULSE_PAYPAL__CLIENT_SECRET (or PAYPAL_CLIENT_SECRET) must be set")
        for label, value, default in (
            ("CARPULSE_TESLA__CLIENT_ID (or TESLA_CLIENT_ID)", self.tesla.client_id, TeslaSettings().client_id),
            ("CARPULSE_PAYPAL__CLIENT_ID (or PAYPAL_CLIENT_ID)", self.paypal.client_id, PayPalSettings().client_id),
            ("CARPULSE_PAYPAL__WEBHOOK_ID (or PAYPAL_WEBHOOK_ID)", self.paypal.webhook_id, PayPalSettings().webhook_id),
            ("CARPULSE_COMPANY__Y_TUNNUS (or COMPANY_Y_TUNNUS)", self.company.y_tunnus, CompanySettings().y_tunnus),
            (
                "CARPULSE_COMPANY__VAT_NUMBER (or COMPANY_VAT_NUMBER)",
                self.company.vat_number,
                CompanySettings().vat_number,
            ),
        ):
            if value == default:
                problems.append(f"{label} must be set (the built-in default is not a real one)")
        uses_google_maps = self.geo.geocoder == "google" or self.geo.router == "google"
        if uses_google_maps and self.geo.google_api_key.get_secret_value() == DEVELOPMENT_MAPS_API_KEY:
            problems.append(
                "CARPULSE_GEO__GOOGLE_API_KEY (or MAPS_API_KEY) must be set: CARPULSE_GEO__GEOCODER or "
                "CARPULSE_GEO__ROUTER uses Google"
            )
        if self.open_charge_map.api_key.get_secret_value() == DEVELOPMENT_OPEN_CHARGE_MAP_KEY:
            problems.append("CARPULSE_OPEN_CHARGE_MAP__API_KEY (or OPENCHARGEMAP_API_KEY) must be set")
        if not self.logbook_auth.enabled:
            problems.append(
                "CARPULSE_LOGBOOK_AUTH__ENABLED (or AUTH_ENABLED) must be true: off, anyone is the Logbook's one "
                "implicit driver, without signing in"
            )
        if self.google.web_client_secret.get_secret_value() == DEVELOPMENT_GOOGLE_CLIENT_SECRET:
            problems.append("CARPULSE_GOOGLE__WEB_CLIENT_SECRET (or GOOGLE_OAUTH_CLIENT_SECRET) must be set")
        for label, client_id in (
            ("CARPULSE_GOOGLE__WEB_CLIENT_ID (or GOOGLE_WEB_CLIENT_ID)", self.google.web_client_id),
            ("CARPULSE_GOOGLE__IOS_CLIENT_ID (or GOOGLE_IOS_CLIENT_ID)", self.google.ios_client_id),
            ("CARPULSE_GOOGLE__CLIENT_ID (or GOOGLE_OAUTH_CLIENT_ID)", self.google.client_id),
        ):
            if client_id in (SANDBOX_GOOGLE_WEB_CLIENT_ID, SANDBOX_GOOGLE_IOS_CLIENT_ID, SANDBOX_GOOGLE_CLIENT_ID):
                problems.append(f"{label} is the sandbox's client: set your Google project's, or blank it")
        if tuple(self.logbook_auth.allowed_emails) == DEVELOPMENT_ALLOWED_EMAILS:
            problems.append(
                "CARPULSE_LOGBOOK_AUTH__ALLOWED_EMAILS (or AUTH_ALLOWED_EMAILS) is the development list (@example.com):"
                " list your drivers' addresses or @domains (empty lets nobody in)"
            )
        if self.paypal.mode != "live":
            problems.append("CARPULSE_PAYPAL__MODE (or PAYPAL_MODE) must be live")
        if not self.sandbox.enabled:
            if self.mail.host is None:
                problems.append("CARPULSE_MAIL__HOST must be set: confirmation links and other mail go out through it")
            if self.mail.from_address is None:
                problems.append("CARPULSE_MAIL__FROM must be set: the sender of every mail")
        problems.extend(self._unsafe_in_production())
        if problems:
            raise UnsafeProductionSettings(problems)
        return self

    def _unsafe_in_production(self) -> list[str]:
        """Values that work but open production to abuse or to losing state between replicas."""
        problems = []
        for origin in self.http.cors_origins:
            reason = _local_or_plain_origin(origin)
            if reason:
                problems.append(
                    f"CARPULSE_HTTP__CORS_ORIGINS (or CORS_ORIGINS) lists {origin!r}, which {reason}; list only your "
                    "front ends' https:// origins (they are also the allowed Tesla connect return_url origins)"
                )
        if self.tesla.frontend_url and (reason := _local_or_plain_origin(self.tesla.frontend_url)):
            problems.append(
                f"CARPULSE_TESLA__FRONTEND_URL {reason}; set your front end's https:// URL "
                "(browsers are sent there, and its origin is an allowed return_url origin)"
            )
        for network, widest in self.http.wide_proxy_networks():
            version = "IPV4" if ":" not in network else "IPV6"
            problems.append(
                f"CARPULSE_HTTP__TRUSTED_PROXIES trusts {network}, wider than /{widest}: any client inside it can "
                "forge X-Forwarded-For and dodge the rate limits; list your load balancer's addresses "
                f"(or raise CARPULSE_HTTP__TRUSTED_PROXY_WIDEST_{version} if its range really is that wide)"
            )
        if not self.rate_limit.enabled:
            problems.append(
                "CARPULSE_RATE_LIMIT__ENABLED must be true: without limits, logins, payments and webhooks "
                "are open to guessing and floods"
            )
        if self.replicas > 1:
            declared = f"CARPULSE_REPLICAS={self.replicas}"
            if self.redis.url is None:
                problems.append(
                    f"CARPULSE_REDIS__URL must be set with {declared}: otherwise each replica keeps its own "
                    "connect sessions, OAuth states and rate-limit counters"
                )
            if self.jobs.broker == "memory":
                problems.append(
                    f"CARPULSE_JOBS__BROKER must be redis with {declared}: the in-memory broker keeps each "
                    "replica's jobs to itself and loses them when it stops"
                )
            if self.database.url.startswith("sqlite"):
                problems.append(
                    f"CARPULSE_DATABASE__URL must be PostgreSQL with {declared}: a SQLite file belongs to one machine"
                )
        if self.database.echo:
            problems.append("CARPULSE_DATABASE__ECHO must be false: it logs every SQL statement")
        if self.log.level.strip().upper() == "DEBUG":
            problems.append(
                "CARPULSE_LOG__LEVEL must be INFO or higher: DEBUG logs the internals of every request and vendor call"
            )
        return problems

    @property
    def base_url(self) -> str:
        """The public base URL every self-built link starts with, without a trailing slash."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def sandbox_root(self) -> str | None:
        """Where the vendor fakes answer: the one sandbox named, else this process's own; None without one."""
        if not self.sandbox.enabled:
            return None
        return self.sandbox.url or f"{self.base_url}{SANDBOX_PATH}"

    @property
    def serves_sandbox(self) -> bool:
        """This process mounts its own fakes: the sandbox is on and no other one is named."""
        return self.sandbox.enabled and self.sandbox.url is None

    @property
    def frontend_url(self) -> str:
        """Where a browser goes after connecting or paying (set as the seed named it, `tesla.frontend_url`)."""
        return self.tesla.frontend_url or f"{self.base_url}/"

    @property
    def vendor_timeout_seconds(self) -> float:
        """The shared vendor connection pool's default timeout; each client sets its own per call."""
        return self.tesla.timeout_seconds

    @property
    def open_charge_map_api_base(self) -> str:
        """Where Open Charge Map's API answers: the one named, else the sandbox's fake, else OCM itself."""
        if self.open_charge_map.api_base:
            return self.open_charge_map.api_base.rstrip("/")
        sandbox_root = self.sandbox_root
        return f"{sandbox_root}/open_charge_map/v3" if sandbox_root else OPEN_CHARGE_MAP_API_BASE

    @property
    def google_redirect_uri(self) -> str:
        return self.google.redirect_uri or f"{self.base_url}/api/v1/logbook/auth/google/callback"

    @property
    def google_discovery_url(self) -> str:
        """Google's OpenID configuration, or the sandbox fake's when the sandbox is on."""
        if self.google.discovery_url:
            return self.google.discovery_url
        if self.sandbox_root:
            return f"{self.sandbox_root}/google/.well-known/openid-configuration"
        return "https://accounts.google.com/.well-known/openid-configuration"

    @property
    def tesla_redirect_uri(self) -> str:
        return self.tesla.redirect_uri or f"{self.base_url}/api/v1/tesla/oauth/callback"

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def api_key_environment(self) -> str:
        """What this deployment's API keys say they are for: `live` in production, `test` everywhere else."""
        return "live" if self.is_production else "test"

    @property
    def data_api_synthetic(self) -> bool:
        """The Data API answers from the simulator's readings (with the sandbox on, unless told), else real ones."""
        return self.data_api.synthetic if self.data_api.synthetic is not None else self.sandbox.enabled

    @property
    def docs_enabled(self) -> bool:
        return self.http.docs if self.http.docs is not None else not self.is_production


@lru_cache
def get_settings() -> Settings:
    return Settings()
