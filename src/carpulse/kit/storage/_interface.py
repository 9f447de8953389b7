"""What every storage backend offers, and the key rules they all share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr


class InvalidKey(ValueError):
    """A storage key that could escape the storage root or is empty."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One stored object as a listing sees it; `last_modified` is timezone-aware UTC."""

    key: str
    size: int
    last_modified: datetime


class Storage(Protocol):
    name: str

    async def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> bool: ...

    async def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Every object below `prefix`, by whole segments: `reports` finds `reports/a.pdf`, not `reports-old/a`."""
        ...

    def signed_url(self, key: str, ttl_seconds: int | None = None, filename: str | None = None) -> str: ...

    async def ping(self) -> None:
        """Raise when the storage cannot be written."""
        ...


class ObjectStoreOptions(Protocol):
    """What an S3 or GCS bucket needs beyond its URL; `config.StorageSettings` is one."""

    @property
    def endpoint(self) -> str | None: ...

    @property
    def region(self) -> str | None: ...

    @property
    def access_key_id(self) -> str | None: ...

    @property
    def secret_access_key(self) -> SecretStr | None: ...

    @property
    def service_account_path(self) -> Path | None: ...

    @property
    def timeout_seconds(self) -> float: ...


def normalize_key(key: str) -> str:
    """`reports/a.pdf` stays; `../x`, `/abs`, `a//b`, backslashes and control characters are refused."""
    if not key or len(key) > 512 or "\\" in key or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise InvalidKey(key)
    # Check the raw segments: a path parser would silently drop "." and empty ones.
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidKey(key)
    return key


def normalize_prefix(prefix: str) -> str:
    """A listing prefix: empty for everything, else a valid key; one trailing slash is forgiven."""
    if prefix == "":
        return ""
    return normalize_key(prefix.removesuffix("/"))
