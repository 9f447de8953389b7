"""Password hashing: argon2 for new hashes, bcrypt accepted (the seed's admin hash is bcrypt)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

password_hash = PasswordHash((Argon2Hasher(), BcryptHasher()))


def hash_password(password: str) -> str:
    return password_hash.hash(password)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return password_hash.hash("carpulse-decoy-password")


def verify_password(password: str, hashed: str | None) -> bool:
    """Check a password; with no hash, spend the same time on a decoy and say no."""
    if not hashed:
        password_hash.verify(password, _decoy_hash())
        return False
    try:
        return password_hash.verify(password, hashed)
    except Exception:
        # An unreadable hash in the database must not become a 500 for the client.
        password_hash.verify(password, _decoy_hash())
        return False
