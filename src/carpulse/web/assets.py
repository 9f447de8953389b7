"""The static files under `web/static/`, served under names that carry a hash of their content.

`asset_url("htmx/htmx.min.js")` answers `/static/htmx/htmx.min.<hash>.js`: a new version of a file is a
new URL, so every answer may be cached for a year. Stylesheets' relative `url(…)`s are rewritten to
the hashed URLs of the files they name (Leaflet's images) before the stylesheet itself is hashed.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/"
CACHE_CONTROL = "public, max-age=31536000, immutable"
HASH_LENGTH = 12

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}
# PNGs and fonts are compressed already.
_COMPRESSIBLE = frozenset({".js", ".css", ".svg"})
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)""")


@dataclass
class Asset:
    """One static file as served: its logical name, hashed URL, bytes and media type."""

    name: str
    url: str
    body: bytes
    media_type: str
    etag: str
    compressible: bool
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def gzipped(self) -> bytes:
        # Compressed on first request, not at startup: the suite starts thousands of apps per process.
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=9, mtime=0)
        return self._gzipped


class AssetManifest:
    """Logical name → asset, and hashed URL → asset, for every servable file under one folder."""

    def __init__(self, assets: list[Asset]) -> None:
        self._by_name = {asset.name: asset for asset in assets}
        self._by_url = {asset.url: asset for asset in assets}

    @classmethod
    def build(cls, root: Path) -> AssetManifest:
        files = sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if path.is_file() and path.suffix in MEDIA_TYPES
        )
        assets: dict[str, Asset] = {}
        # Stylesheets last, so the files they point at have their URLs already.
        for name in sorted(files, key=lambda name: name.endswith(".css")):
            body = (root / name).read_bytes()
            if name.endswith(".css"):
                body = _rewrite_css_urls(name, body, assets)
            assets[name] = _asset(name, body)
        return cls(list(assets.values()))

    def url(self, name: str) -> str:
        """The hashed URL of the file at `name` under `static/`; KeyError for a file that is not there."""
        try:
            return self._by_name[name].url
        except KeyError:
            raise KeyError(f"no static file {name!r} under {STATIC_DIR}") from None

    def find(self, url: str) -> Asset | None:
        return self._by_url.get(url)

    def __iter__(self) -> Iterator[Asset]:
        return iter(self._by_name.values())


def _asset(name: str, body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
    path = PurePosixPath(name)
    hashed = path.with_name(f"{path.stem}.{digest}{path.suffix}")
    return Asset(
        name=name,
        url=f"{STATIC_PREFIX}{hashed}",
        body=body,
        media_type=MEDIA_TYPES[path.suffix],
        etag=f'"{digest}"',
        compressible=path.suffix in _COMPRESSIBLE,
    )


def _rewrite_css_urls(name: str, body: bytes, known: dict[str, Asset]) -> bytes:
    folder = PurePosixPath(name).parent

    def hashed(match: re.Match[str]) -> str:
        target = match[2]
        if ":" in target or target.startswith(("/", "#")):
            return match[0]
        asset = known.get(_normalise(folder / target))
        return f'url("{asset.url}")' if asset else match[0]

    return _CSS_URL.sub(hashed, body.decode("utf-8")).encode("utf-8")


def _normalise(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


@cache
def manifest() -> AssetManifest:
    """The manifest of the package's static files, built once per process."""
    return AssetManifest.build(STATIC_DIR)


def asset_url(name: str) -> str:
    """The URL to load `name` (a path under `web/static/`, e.g. `"leaflet/leaflet.css"`) from."""
    return manifest().url(name)
