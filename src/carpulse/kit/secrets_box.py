"""Encryption at rest for vendor tokens: MultiFernet, so keys rotate without a flag day.

The first key encrypts; every key decrypts. `rotate()` re-encrypts an old token under the
first key.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class UndecryptableSecret(ValueError):
    """No configured key opens this ciphertext (a key was removed, or the data was altered)."""


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise UndecryptableSecret("cannot decrypt with any configured key") from exc

    def rotate(self, ciphertext: str) -> str:
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise UndecryptableSecret("cannot decrypt with any configured key") from exc
