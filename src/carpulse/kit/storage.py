"""Object storage behind one small interface, with links signed by the app.

The embedded default is a local directory; a signed link points at `/files/{key}` on this
API, which checks the HMAC and the expiry before serving the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlparse

from carpulse.kit.clock import Clock, system_clock

FILES_PATH = "/files"


class InvalidKey(ValueError):
    """A storage key that could escape the storage root or is empty."""


class Storage(Protocol):
    name: str

    async def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> bool: ...

    async def exists(self, key: str) -> bool: ...

    def signed_url(self, key: str, ttl_seconds: int | None = None, filename: str | None = None) -> str: ...

    async def ping(self) -> None:
        """Raise when the storage cannot be written."""
        ...


def normalize_key(key: str) -> str:
    """`reports/a.pdf` stays; `../x`, `/abs`, `a//b`, backslashes and control characters are refused."""
    if not key or len(key) > 512 or "\\" in key or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise InvalidKey(key)
    # Check the raw segments: a path parser would silently drop "." and empty ones.
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidKey(key)
    return key


@dataclass(frozen=True)
class UrlSigner:
    """HMAC-SHA256 over key and expiry; the signature is the only secret in the link."""

    key: bytes
    base_url: str
    default_ttl_seconds: int = 3600
    clock: Clock = system_clock

    def _signature(self, key: str, expires: int, filename: str | None) -> str:
        message = f"{key}\n{expires}\n{filename or ''}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def sign(self, key: str, ttl_seconds: int | None = None, filename: str | None = None) -> str:
        expires = int(self.clock.now().timestamp()) + (ttl_seconds or self.default_ttl_seconds)
        signature = self._signature(key, expires, filename)
        url = f"{self.base_url}{FILES_PATH}/{quote(key)}?expires={expires}&signature={signature}"
        if filename:
            url += f"&filename={quote(filename)}"
        return url

    def verify(self, key: str, expires: int, signature: str, filename: str | None = None) -> str | None:
        """None when the link is good, else why it is not."""
        # compare_digest refuses non-ASCII str; compare bytes so a hostile signature is just wrong.
        if not hmac.compare_digest(self._signature(key, expires, filename).encode(), signature.encode()):
            return "the link's signature does not match"
        if expires < self.clock.now().timestamp():
            return "the link has expired"
        return None


class LocalStorage:
    """Files under one directory; writes are atomic (temp file + rename)."""

    name = "local"

    def __init__(self, root: Path, signer: UrlSigner) -> None:
        self.root = root
        self.signer = signer

    def path_for(self, key: str) -> Path:
        return self.root / normalize_key(key)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        await asyncio.to_thread(self._write, self.path_for(key), data)

    async def get(self, key: str) -> bytes | None:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    async def delete(self, key: str) -> bool:
        path = self.path_for(key)
        try:
            await asyncio.to_thread(path.unlink)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False
        return True

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_for(key).is_file)

    def signed_url(self, key: str, ttl_seconds: int | None = None, filename: str | None = None) -> str:
        return self.signer.sign(normalize_key(key), ttl_seconds, filename)

    async def ping(self) -> None:
        def probe() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise PermissionError(f"storage root {self.root} is not writable")

        await asyncio.to_thread(probe)


def open_storage(url: str, signer: UrlSigner) -> LocalStorage:
    """A local path or `file://` URL; other schemes are refused with a clear message."""
    parsed = urlparse(url)
    if parsed.scheme == "":
        return LocalStorage(Path(url).expanduser(), signer)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file:// storage must be on this host, not {parsed.netloc!r}")
        return LocalStorage(Path(unquote(parsed.path)), signer)
    raise ValueError(f"storage scheme {parsed.scheme!r} is not supported by this build; use a local path")
