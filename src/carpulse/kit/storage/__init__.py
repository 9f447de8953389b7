"""Object storage behind one small interface, with signed download links.

The embedded default is a local directory whose links point at `/files/{key}` on this API, which
checks the app's HMAC and the expiry before serving the file. `s3://` and `gs://` URLs open a bucket
through obstore, and their links are the provider's own signed URLs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from carpulse.kit.storage._interface import (
    InvalidKey,
    ObjectStoreOptions,
    Storage,
    StoredObject,
    normalize_key,
    normalize_prefix,
)
from carpulse.kit.storage._local import FILES_PATH, LocalStorage, UrlSigner
from carpulse.kit.storage._object_store import MAX_SIGNED_URL_TTL_SECONDS, ObjectStorage, open_object_storage

__all__ = [
    "FILES_PATH",
    "MAX_SIGNED_URL_TTL_SECONDS",
    "InvalidKey",
    "LocalStorage",
    "ObjectStorage",
    "ObjectStoreOptions",
    "Storage",
    "StoredObject",
    "UrlSigner",
    "normalize_key",
    "normalize_prefix",
    "open_storage",
]


def open_storage(url: str, signer: UrlSigner, options: ObjectStoreOptions | None = None) -> Storage:
    """A local path or `file://` URL, or an `s3://` / `gs://` bucket; other schemes are refused."""
    parsed = urlparse(url)
    if parsed.scheme == "":
        return LocalStorage(Path(url).expanduser(), signer)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file:// storage must be on this host, not {parsed.netloc!r}")
        return LocalStorage(Path(unquote(parsed.path)), signer)
    if parsed.scheme in ("s3", "gs"):
        return open_object_storage(url, options, signer.default_ttl_seconds)
    raise ValueError(
        f"storage scheme {parsed.scheme!r} is not supported; use a local path, file://, s3://bucket or gs://bucket"
    )
