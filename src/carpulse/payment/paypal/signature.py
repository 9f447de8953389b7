"""Offline verification of PayPal webhook signatures (reference §3.9, "option B").

The signature is RSA-SHA256 (PKCS#1 v1.5) over `transmission_id|transmission_time|webhook_id|crc32(body)`
with the CRC as an unsigned decimal. The certificate at `PAYPAL-CERT-URL` is fetched only from the
configured hosts and cached by URL; the webhook id in the message is always ours, never the sender's.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.payment.gateway import WebhookSignatureInvalid
from carpulse.payment.paypal.client import PayPalClient
from carpulse.payment.paypal.errors import PayPalError, PayPalRateLimited, PayPalTimeout, PayPalUnavailable

log = get_logger("carpulse.paypal")

AUTH_ALGO = "SHA256withRSA"
MAX_CACHED_CERTIFICATES = 32
SIGNATURE_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}".encode()


DEFAULT_PORTS = {"https": 443, "http": 80}


def certificate_url_allowed(url: str, hosts: list[str]) -> bool:
    """Whether a `PAYPAL-CERT-URL` points at a configured host (exact match) and port: the one the
    entry lists (the sandbox lists its own), else only the scheme's default.

    `https` always; `http` only for a listed host outside paypal.com (the sandbox lists its own host),
    or for an entry that names the scheme itself (`http://127.0.0.1:8100`).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme not in DEFAULT_PORTS or not host or parts.username or parts.password:
        return False
    default_port = DEFAULT_PORTS[parts.scheme]
    port = default_port if port is None else port
    for entry in hosts:
        allowed = urlsplit(entry if "://" in entry else f"//{entry}")
        try:
            allowed_port = allowed.port
        except ValueError:
            continue
        # Another port on PayPal's host is another server (a forwarded or co-hosted one).
        if (allowed.hostname or "") != host or port != (allowed_port if allowed_port is not None else default_port):
            continue
        if allowed.scheme:
            if allowed.scheme == parts.scheme:
                return True
        elif parts.scheme == "https" or not (host == "paypal.com" or host.endswith(".paypal.com")):
            return True
    return False


class SignatureVerifier:
    """Checks a delivery's `PAYPAL-*` headers against its raw body; raises `WebhookSignatureInvalid`."""

    def __init__(self, client: PayPalClient, webhook_id: str, certificate_hosts: list[str], clock: Clock) -> None:
        self.client = client
        self.webhook_id = webhook_id
        self.certificate_hosts = list(certificate_hosts)
        self.clock = clock
        self._keys: dict[str, rsa.RSAPublicKey] = {}

    def forget_certificates(self) -> None:
        self._keys.clear()

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        lowered = {key.lower(): value for key, value in headers.items()}
        missing = [name for name in SIGNATURE_HEADERS if not lowered.get(name)]
        if missing:
            raise WebhookSignatureInvalid(f"missing {', '.join(missing)}")
        if lowered["paypal-auth-algo"] != AUTH_ALGO:
            raise WebhookSignatureInvalid(f"unsupported signature algorithm {lowered['paypal-auth-algo']!r}")
        key = await self.public_key(lowered["paypal-cert-url"])
        try:
            signature = base64.b64decode(lowered["paypal-transmission-sig"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WebhookSignatureInvalid("the signature is not base64") from exc
        message = signed_message(
            lowered["paypal-transmission-id"], lowered["paypal-transmission-time"], self.webhook_id, body
        )
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise WebhookSignatureInvalid("the signature does not match") from exc

    async def public_key(self, url: str) -> rsa.RSAPublicKey:
        cached = self._keys.get(url)
        if cached is not None:
            return cached
        if not certificate_url_allowed(url, self.certificate_hosts):
            log.warning("payment.paypal_certificate_refused", cert_url=url)
            raise WebhookSignatureInvalid("the certificate URL is not on an allowed PayPal host")
        try:
            pem = await self.client.fetch_certificate(url)
        except (PayPalUnavailable, PayPalTimeout, PayPalRateLimited):
            raise  # we could not check: a 503/504 makes PayPal deliver again later
        except PayPalError as exc:
            raise WebhookSignatureInvalid("the certificate could not be fetched") from exc
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise WebhookSignatureInvalid("the certificate is not a PEM X.509 certificate") from exc
        if not certificate.not_valid_before_utc <= self.clock.now() <= certificate.not_valid_after_utc:
            raise WebhookSignatureInvalid("the certificate is not valid now")
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise WebhookSignatureInvalid("the certificate does not hold an RSA key")
        if len(self._keys) >= MAX_CACHED_CERTIFICATES:
            self._keys.pop(next(iter(self._keys)))
        self._keys[url] = key
        return key
