"""Webhook events of the fake: envelopes, the RSA-SHA256 transmission signature (reference §3.9), deliveries."""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from fakes.paypal.orders import new_id

AUTH_ALGO = "SHA256withRSA"
EVENT_VERSION = "1.0"
RESOURCE_VERSION = "2.0"


@dataclass(frozen=True)
class WebhookEvent:
    """One event as PayPal would store it; `body` is the exact bytes every delivery sends."""

    id: str
    event_type: str
    resource_type: str
    body: bytes
    created_at: datetime

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass(frozen=True)
class Delivery:
    """One transmission of an event: its own transmission id, time and signature."""

    event_id: str
    event_type: str
    url: str
    transmission_id: str
    headers: dict[str, str]
    body: bytes
    status_code: int | None
    error: str | None
    delivered_at: datetime

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def event_id() -> str:
    return f"WH-{new_id()}-{new_id()}"


def serialize(payload: dict[str, Any]) -> bytes:
    """Compact JSON, as PayPal sends it; the postback check re-serializes the same way."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def transmission_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_message(transmission_id: str, time: str, webhook_id: str, body: bytes) -> bytes:
    """`transmission_id|transmission_time|webhook_id|crc32(body)`, the CRC as an unsigned decimal."""
    return f"{transmission_id}|{time}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}".encode()


def envelope(
    ident: str,
    event_type: str,
    resource_type: str,
    summary: str,
    resource: dict[str, Any],
    created_at: datetime,
    root: str,
) -> dict[str, Any]:
    url = f"{root}/v1/notifications/webhooks-events/{ident}"
    return {
        "id": ident,
        "create_time": created_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "resource_type": resource_type,
        "event_type": event_type,
        "event_version": EVENT_VERSION,
        "resource_version": RESOURCE_VERSION,
        "summary": summary,
        "resource": resource,
        "links": [
            {"href": url, "rel": "self", "method": "GET"},
            {"href": f"{url}/resend", "rel": "resend", "method": "POST"},
        ],
    }


class Signer:
    """An RSA-2048 key and a self-signed certificate, valid from the day before the fake started.

    Both are made on first use (the key takes about 0.1 s, and most fakes a test builds never sign):
    each fake keeps a key of its own, so another fake's signature never verifies.
    """

    def __init__(self, now: datetime) -> None:
        self.name = f"CERT-360caa42-fca2a594-{uuid.uuid4().hex[:8]}"
        self._now = now

    @cached_property
    def _key(self) -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @cached_property
    def certificate_pem(self) -> bytes:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PayPal fake"),
                x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.sandbox.paypal.fake"),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now - timedelta(days=1))
            .not_valid_after(self._now + timedelta(days=365))
            .sign(self._key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, message: bytes) -> str:
        signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def verify(self, message: bytes, signature: str) -> bool:
        try:
            raw = base64.b64decode(signature, validate=True)
            self._key.public_key().verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True
