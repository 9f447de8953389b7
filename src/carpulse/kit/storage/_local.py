"""A local directory whose links are signed by the app and served by `/files/{key}` on this API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.storage._interface import InvalidKey, StoredObject, normalize_key, normalize_prefix

FILES_PATH = "/files"
_TEMPORARY_PREFIX = ".tmp-"


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

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        return self.root / normalize_key(key)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY_PREFIX)
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

    def _scan(self, prefix: str) -> tuple[StoredObject, ...]:
        found: list[StoredObject] = []
        for directory, _, names in os.walk(self.root / prefix if prefix else self.root):
            for name in names:
                # A half-written file of a `put` still in flight is not an object yet.
                if name.startswith(_TEMPORARY_PREFIX):
                    continue
                path = Path(directory, name)
                try:
                    key = normalize_key(path.relative_to(self.root).as_posix())
                    stat = path.stat()
                except (InvalidKey, FileNotFoundError):
                    # Not addressable through this API, or deleted while we walked.
                    continue
                modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
                found.append(StoredObject(key=key, size=stat.st_size, last_modified=modified))
        return tuple(sorted(found, key=lambda stored: stored.key))

    async def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Objects below `prefix` in key order; `last_modified` is the file's mtime."""
        for stored in await asyncio.to_thread(self._scan, normalize_prefix(prefix)):
            yield stored

    def signed_url(self, key: str, ttl_seconds: int | None = None, filename: str | None = None) -> str:
        return self.signer.sign(normalize_key(key), ttl_seconds, filename)

    async def ping(self) -> None:
        def probe() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise PermissionError(f"storage root {self.root} is not writable")

        await asyncio.to_thread(probe)
