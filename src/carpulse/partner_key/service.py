"""Our EC P-256 partner key pair, which a brand verifies our registration with; only the public half is served."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from carpulse.config import Settings
from carpulse.kit.logs import get_logger

log = get_logger("carpulse.partner_key")


class PartnerKeyService:
    def generate(self, private_path: Path, public_path: Path, *, overwrite: bool = False) -> str:
        """Write a new prime256v1 pair (private key 0600); returns the public PEM."""
        if not overwrite and (private_path.exists() or public_path.exists()):
            raise FileExistsError(f"{private_path} or {public_path} exists; pass overwrite to replace it")
        key = ec.generate_private_key(ec.SECP256R1())
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_path.parent.mkdir(parents=True, exist_ok=True)
        public_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private_pem)
        public_path.write_bytes(public_pem)
        log.info("partner_key.generated", public_key_path=str(public_path))
        return public_pem.decode()

    def ensure_configured(self, settings: Settings) -> None:
        """The sandbox makes its own pair at first start (at the configured paths), so the public key answers."""
        self.ensure(Path(settings.tesla.private_key_path), Path(settings.tesla.public_key_path))

    def ensure(self, private_path: Path, public_path: Path) -> None:
        """Generate a pair unless its public half exists; processes sharing the folder write one pair between them."""
        if public_path.exists():
            return
        public_path.parent.mkdir(parents=True, exist_ok=True)
        # Replicas starting together would otherwise interleave two pairs: one's private key, another's public.
        with public_path.with_name(f"{public_path.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not public_path.exists():
                self.generate(private_path, public_path, overwrite=True)

    def public_pem(self, public_path: Path) -> str | None:
        """The public key as PEM, or None when none is configured or it is not a P-256 public key."""
        try:
            data = public_path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            return None
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            log.warning("partner_key.unreadable", public_key_path=str(public_path))
            return None
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            log.warning("partner_key.wrong_curve", public_key_path=str(public_path))
            return None
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


partner_key = PartnerKeyService()
