"""An S3 or GCS bucket through obstore; links are the provider's own signed URLs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import obstore
from obstore.store import GCSStore, S3Store

from carpulse.kit.storage._interface import (
    InvalidKey,
    ObjectStoreOptions,
    StoredObject,
    normalize_key,
    normalize_prefix,
)
from carpulse.kit.storage._signed_urls import GcsLinkSigner, S3LinkSigner, attachment

if TYPE_CHECKING:
    from obstore.store import ClientConfig, GCSConfig, RetryConfig, S3Config

# S3 SigV4 and GCS V4 both refuse a signed URL valid for longer than seven days.
MAX_SIGNED_URL_TTL_SECONDS = 7 * 24 * 3600
DEFAULT_TIMEOUT_SECONDS = 30.0
# `ping` writes and removes one object here.
PING_PREFIX = ".carpulse-ping"
# The non-secret options a URL may carry, per scheme.
_URL_OPTIONS = {"s3": ("endpoint", "region"), "gs": ("endpoint",)}


class _LinkSigner(Protocol):
    def extend(self, url: str, extra: dict[str, str]) -> str: ...


class ObjectStorage:
    """Objects in one bucket, below an optional prefix; keys are relative to that prefix."""

    def __init__(
        self,
        store: S3Store | GCSStore,
        *,
        name: str,
        location: str,
        default_ttl_seconds: int = 3600,
        link_signer: _LinkSigner | None = None,
    ) -> None:
        self.name = name
        self.location = location
        self.store = store
        self.default_ttl_seconds = default_ttl_seconds
        self._link_signer = link_signer

    def __repr__(self) -> str:
        # `location` is the URL without query or credentials; the store's config holds secrets.
        return f"ObjectStorage({self.location!r})"

    async def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        await obstore.put_async(self.store, normalize_key(key), data, attributes={"Content-Type": content_type})

    async def get(self, key: str) -> bytes | None:
        path = normalize_key(key)
        try:
            result = await obstore.get_async(self.store, path)
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            return None

    async def exists(self, key: str) -> bool:
        path = normalize_key(key)
        try:
            await obstore.head_async(self.store, path)
        except FileNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> bool:
        # S3 answers a DELETE of a missing object with success, so ask first to tell the two apart.
        path = normalize_key(key)
        if not await self.exists(path):
            return False
        try:
            await obstore.delete_async(self.store, path)
        except FileNotFoundError:
            return False
        return True

    async def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Objects below `prefix` in the provider's order (key order on S3 and GCS)."""
        stream = obstore.list(self.store, normalize_prefix(prefix) or None, chunk_size=1000)
        async for batch in stream:
            for meta in batch:
                try:
                    key = normalize_key(meta["path"])
                except InvalidKey:
                    # Written by another tool under a name this API could not address.
                    continue
                yield StoredObject(key=key, size=meta["size"], last_modified=meta["last_modified"].astimezone(UTC))

    def signed_url(self, key: str, ttl_seconds: int | None = None, filename: str | None = None) -> str:
        """A presigned GET (S3) or V4 signed URL (GCS), downloading as `filename` when we hold the signing key."""
        path = normalize_key(key)
        ttl = ttl_seconds or self.default_ttl_seconds
        if not 0 < ttl <= MAX_SIGNED_URL_TTL_SECONDS:
            raise ValueError(f"a signed URL lives 1 to {MAX_SIGNED_URL_TTL_SECONDS} seconds, not {ttl}")
        url = obstore.sign(self.store, "GET", path, timedelta(seconds=ttl))
        if filename and self._link_signer is not None:
            url = self._link_signer.extend(url, {"response-content-disposition": attachment(filename)})
        return url

    async def ping(self) -> None:
        """Write and remove a probe object: proves the bucket exists and these credentials may write."""
        probe = f"{PING_PREFIX}/{uuid.uuid4().hex}"
        try:
            await obstore.put_async(self.store, probe, b"")
        except FileNotFoundError as exc:
            # obstore reports a write into a missing bucket as a missing object.
            raise FileNotFoundError(f"{self.location}: the bucket does not exist") from exc
        await obstore.delete_async(self.store, probe)


def _client_options(endpoint: str | None, timeout_seconds: float) -> ClientConfig:
    options: ClientConfig = {
        "timeout": timedelta(seconds=timeout_seconds),
        "connect_timeout": timedelta(seconds=min(timeout_seconds, 5.0)),
    }
    if endpoint and endpoint.startswith("http://"):
        # An S3-compatible server on a private network (MinIO, a test fake).
        options["allow_http"] = True
    return options


def open_object_storage(
    url: str, options: ObjectStoreOptions | None = None, default_ttl_seconds: int = 3600
) -> ObjectStorage:
    """`s3://bucket/optional/prefix?endpoint=…&region=…` or `gs://bucket/optional/prefix?endpoint=…`.

    The URL's options win over `options`; credentials come only from `options` (or the provider's
    ambient chain: environment, instance role, workload identity), never from the URL.
    """
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme not in _URL_OPTIONS:
        raise ValueError(f"object storage scheme {scheme!r} is not one of s3://, gs://")
    if "@" in parts.netloc:
        raise ValueError(f"{scheme}:// storage URL must not carry credentials; set them in the storage settings")
    bucket = parts.netloc
    if not bucket or ":" in bucket:
        raise ValueError(f"{scheme}:// storage needs a bucket name: {scheme}://bucket/optional/prefix")
    raw_prefix = unquote(parts.path).strip("/")
    prefix = normalize_key(raw_prefix) if raw_prefix else None

    query: dict[str, str] = {}
    for option, value in parse_qsl(parts.query, keep_blank_values=True):
        if option not in _URL_OPTIONS[scheme]:
            allowed = ", ".join(_URL_OPTIONS[scheme])
            raise ValueError(
                f"{scheme}:// storage URL option {option!r} is not one of: {allowed}"
                " (credentials belong in the storage settings, never in the URL)"
            )
        if option in query:
            raise ValueError(f"{scheme}:// storage URL option {option!r} is given twice")
        query[option] = value

    endpoint = query.get("endpoint") or (options.endpoint if options else None)
    timeout = options.timeout_seconds if options else DEFAULT_TIMEOUT_SECONDS
    client_options = _client_options(endpoint, timeout)
    retry: RetryConfig = {"max_retries": 3, "retry_timeout": timedelta(seconds=timeout)}
    location = f"{scheme}://{bucket}/{prefix or ''}"

    if scheme == "s3":
        s3: S3Config = {}
        if endpoint:
            s3["endpoint"] = endpoint
        region = query.get("region") or (options.region if options else None)
        if region:
            s3["region"] = region
        s3_signer = None
        if options and (options.access_key_id or options.secret_access_key):
            if not (options.access_key_id and options.secret_access_key):
                raise ValueError("S3 credentials need both an access key id and a secret access key")
            s3["access_key_id"] = options.access_key_id
            s3["secret_access_key"] = options.secret_access_key.get_secret_value()
            s3_signer = S3LinkSigner(options.secret_access_key.get_secret_value())
        store: S3Store | GCSStore = S3Store(
            bucket, prefix=prefix, config=s3, client_options=client_options, retry_config=retry
        )
        return ObjectStorage(
            store, name="s3", location=location, default_ttl_seconds=default_ttl_seconds, link_signer=s3_signer
        )

    gcs: GCSConfig = {}
    if endpoint:
        gcs["base_url"] = endpoint
    gcs_signer = None
    if options and options.service_account_path:
        gcs["service_account"] = str(options.service_account_path)
        gcs_signer = GcsLinkSigner.from_service_account(options.service_account_path)
    store = GCSStore(bucket, prefix=prefix, config=gcs, client_options=client_options, retry_config=retry)
    return ObjectStorage(
        store, name="gcs", location=location, default_ttl_seconds=default_ttl_seconds, link_signer=gcs_signer
    )
