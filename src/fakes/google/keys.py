"""The signing keys of the fake: a ring that publishes two RSA keys, as Google's JWKS does, and rotates."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa


@cache
def _generated(index: int) -> rsa.RSAPrivateKey:
    """The process's `index`-th RSA key, generated on first use (about 0.1 s each): tests build many fakes.

    Fakes share these keys, so a token of one fake verifies against another's keys; tests that need a key
    no JWKS publishes use `stranger_key`.
    """
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def stranger_key() -> rsa.RSAPrivateKey:
    """A key no fake ever publishes: what a forger signs with."""
    return _generated(-1)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_id(key: rsa.RSAPrivateKey) -> str:
    """40 hex characters, like Google's `kid`s, derived from the public modulus."""
    numbers = key.public_key().public_numbers()
    return hashlib.sha1(numbers.n.to_bytes(256, "big"), usedforsecurity=False).hexdigest()


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": key_id(key), "n": _b64(numbers.n), "e": _b64(numbers.e)}


@dataclass
class KeyRing:
    """Published keys, oldest first; the newest signs. `rotate` adds a signing key, `retire` drops the oldest.

    Google publishes a new key some time before it signs with it and keeps an old one published for a
    while after; the fake starts as Google is most of the time: two keys published, the newer one signing.
    """

    _indexes: list[int]
    _next: int

    @classmethod
    def initial(cls) -> KeyRing:
        return cls([0, 1], 2)

    @property
    def signing(self) -> rsa.RSAPrivateKey:
        return _generated(self._indexes[-1])

    @property
    def signing_kid(self) -> str:
        return key_id(self.signing)

    def published(self) -> list[rsa.RSAPrivateKey]:
        return [_generated(index) for index in self._indexes]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(key) for key in reversed(self.published())]}

    def rotate(self) -> str:
        """A new key signs from now on; the previous ones stay published. Returns the new `kid`."""
        self._indexes.append(self._next)
        self._next += 1
        return self.signing_kid

    def retire(self) -> str | None:
        """Stop publishing the oldest key (never the signing one); its `kid`, or None when only one is left."""
        if len(self._indexes) < 2:
            return None
        return key_id(_generated(self._indexes.pop(0)))

    def key_for(self, kid: str) -> rsa.RSAPrivateKey | None:
        return next((key for key in self.published() if key_id(key) == kid), None)
