"""Response headers for S3 (SigV4) and GCS (V4) signed links.

obstore signs a method, a path and an expiry, nothing more (obstore#746: the upstream `Signer` has no
query parameters), while both providers sign every query parameter. So a link that must carry
`response-content-disposition` is obstore's own link with the parameter added and signed again with
the same key, which only works when we hold that key (an S3 secret key, a GCS service-account key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def attachment(filename: str) -> str:
    """A `Content-Disposition` that downloads as `filename` (RFC 6266; RFC 8187 for non-ASCII names)."""
    if filename.isascii() and filename.isprintable() and '"' not in filename and "\\" not in filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


def _encode(value: str) -> str:
    # Both specifications percent-encode everything but the RFC 3986 unreserved characters.
    return quote(value, safe="-_.~")


def _resign(url: str, extra: Mapping[str, str], prefix: str, sign: Callable[[str, str], str]) -> str:
    """`url` with `extra` query parameters, signed again; `prefix` is `X-Amz` or `X-Goog`."""
    parts = urlsplit(url)
    pairs = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)]
    fields = dict(pairs)
    if fields.get(f"{prefix}-SignedHeaders") != "host":
        raise ValueError(f"cannot extend a signed link that signs more than its host: {prefix}-SignedHeaders")
    pairs = [(name, value) for name, value in pairs if name != f"{prefix}-Signature"] + list(extra.items())
    query = "&".join(f"{name}={value}" for name, value in sorted((_encode(n), _encode(v)) for n, v in pairs))
    # The credential is `<key id or e-mail>/<date>/<region>/<service>/<terminator>`; the rest is the scope.
    scope = fields[f"{prefix}-Credential"].split("/", 1)[1]
    canonical_request = "\n".join(("GET", parts.path, query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"))
    string_to_sign = "\n".join(
        (
            fields[f"{prefix}-Algorithm"],
            fields[f"{prefix}-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        )
    )
    signature = sign(string_to_sign, scope)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, f"{query}&{prefix}-Signature={signature}", ""))


@dataclass(frozen=True)
class S3LinkSigner:
    """Signs S3 presigned GET links again (AWS Signature Version 4, query-string form)."""

    secret_access_key: str = field(repr=False)

    def extend(self, url: str, extra: Mapping[str, str]) -> str:
        return _resign(url, extra, "X-Amz", self._sign)

    def _sign(self, string_to_sign: str, scope: str) -> str:
        # kSigning = HMAC chain over the scope's date, region, service and "aws4_request".
        key = f"AWS4{self.secret_access_key}".encode()
        for part in scope.split("/"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class GcsLinkSigner:
    """Signs GCS V4 links again with the service account's RSA key (GOOG4-RSA-SHA256)."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._private_key = private_key

    def __repr__(self) -> str:
        return "GcsLinkSigner()"

    @classmethod
    def from_service_account(cls, path: Path) -> GcsLinkSigner:
        """The `private_key` of a service-account JSON key file."""
        try:
            pem = json.loads(path.read_text())["private_key"]
            private_key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (KeyError, TypeError, AttributeError, ValueError):
            # Raised afresh: the original error can carry the file's text, private key included.
            raise ValueError(f"{path} is not a service-account key file with a PEM private_key") from None
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"the service account key in {path} is not an RSA key")
        return cls(private_key)

    def extend(self, url: str, extra: Mapping[str, str]) -> str:
        return _resign(url, extra, "X-Goog", self._sign)

    def _sign(self, string_to_sign: str, scope: str) -> str:
        return self._private_key.sign(string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()
