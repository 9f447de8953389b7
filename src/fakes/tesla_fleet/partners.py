"""Partner registrations per region (`/api/1/partner_accounts`, reference §2.1-2.2)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fakes.tesla_fleet.catalog import Region


def _point_hex(key: ec.EllipticCurvePublicKey) -> str:
    """The uncompressed EC point (04 + X + Y) in hex, as Tesla reports it."""
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint).hex()


class Partners:
    """The partner application's registered domains per region, and the public keys hosted on them.

    The real service fetches the key from the domain's `.well-known` path; the fake never goes to the
    network: it uses a PEM handed to `set_public_key`, else a key derived from the domain name.
    """

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.account_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"tesla-fleet-fake:{client_id}"))
        self.hosted_keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self.registrations: dict[Region, dict[str, dict[str, Any]]] = {}

    def set_public_key(self, domain: str, pem: str | bytes) -> None:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("Tesla accepts prime256v1 (P-256) public keys only")
        self.hosted_keys[domain] = key

    def _hosted_key(self, domain: str) -> ec.EllipticCurvePublicKey:
        if domain not in self.hosted_keys:
            secret = int.from_bytes(hashlib.sha256(domain.encode()).digest(), "big") % (2**255) + 1
            self.hosted_keys[domain] = ec.derive_private_key(secret, ec.SECP256R1()).public_key()
        return self.hosted_keys[domain]

    def register(self, region: Region, domain: str, now: datetime) -> dict[str, Any]:
        public_key = _point_hex(self._hosted_key(domain))
        stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        existing = self.registrations.setdefault(region, {}).get(domain)
        record = {
            "client_id": self.client_id,
            "name": "Car Pulse (sandbox)",
            "description": "Read-only vehicle reports",
            "domain": domain,
            "ca": None,
            "created_at": existing["created_at"] if existing else stamp,
            "updated_at": stamp,
            "enterprise_tier": "free",
            "account_id": self.account_id,
            "issuer": None,
            "csr": None,
            "csr_updated_at": None,
            "public_key": public_key,
            "public_key_hash": hashlib.sha256(bytes.fromhex(public_key)).hexdigest(),
        }
        self.registrations[region][domain] = record
        return record

    def public_key(self, region: Region, domain: str) -> str | None:
        record = self.registrations.get(region, {}).get(domain)
        return str(record["public_key"]) if record else None

    def registered(self, region: Region) -> bool:
        return bool(self.registrations.get(region))

    def reset(self) -> None:
        self.registrations.clear()
