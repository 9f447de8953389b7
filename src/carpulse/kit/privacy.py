"""Masking of personal data and secrets before anything is logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]"
_EMAIL = re.compile(rf"(?<!{_LOCAL})({_LOCAL}){_LOCAL}*@([\w-]+(?:\.[\w-]+)+)")
# A JWT (three base64url parts, the first a JSON header) anywhere in a string.
_JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+")
# 17-character VINs (no I, O or Q), which we keep only the last 6 characters of.
_VIN = re.compile(
    r"(?<![A-Z0-9])(?=[A-HJ-NPR-Z0-9]*[0-9])(?=[A-HJ-NPR-Z0-9]*[A-Z])[A-HJ-NPR-Z0-9]{11}([A-HJ-NPR-Z0-9]{6})(?![A-Z0-9])"
)
# Query parameters that carry secrets in URLs (OAuth codes, signatures, tokens).
_SECRET_QUERY = re.compile(
    r"(?i)(?<![\w-])((?:[\w-]*[_-])?(?:code|token|signature|sig|password|secret|key|apikey))=[^&\s]+"
)

# Unguessable ids in URL paths (sessions, orders, receipts) are capabilities: keep only a prefix.
_CAPABILITY_IN_PATH = re.compile(r"(?<=/)([A-Za-z0-9_-]{6})[A-Za-z0-9_-]{26,}")

_SECRET_KEY_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "cookie",
    "api_key",
    "apikey",
    "signature",
    "credential",
)


def mask_vin(vin: str) -> str:
    """`5YJ3E1EA7KF000316` → `***000316`: enough to tell vehicles apart."""
    return "***" + vin[-6:] if len(vin) > 6 else "***"


def mask_email(email: str) -> str:
    """`jane.doe@example.com` → `j***@example.com`."""
    local, _, domain = email.partition("@")
    if not domain:
        return REDACTED
    return f"{local[:1]}***@{domain}"


def mask_text(text: str) -> str:
    """Mask every e-mail, token, VIN and secret query parameter found in free text."""
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _CAPABILITY_IN_PATH.sub(lambda m: f"{m.group(1)}…", text)
    return _VIN.sub(lambda m: "***" + m.group(1), text)


def _is_secret_key(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return any(part in lowered for part in _SECRET_KEY_PARTS)


def mask_value(key: str, value: Any) -> Any:
    if value is None:
        return value
    if _is_secret_key(key):
        return REDACTED
    if isinstance(value, bool | int | float):
        return value
    lowered = key.lower()
    if isinstance(value, str):
        if lowered == "vin" or lowered.endswith("_vin"):
            return mask_vin(value)
        if lowered == "email" or lowered.endswith("_email"):
            return mask_email(value)
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(key, item) for item in value]
    return mask_text(str(value))


def mask_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: mask_value(key, value) for key, value in data.items()}
