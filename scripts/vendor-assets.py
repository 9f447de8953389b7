#!/usr/bin/env python3
"""Fetch the pinned front-end packages from the npm registry into src/carpulse/web/static/.

Each tarball is checked against the sha512 integrity the registry's metadata gives for that version
before a file is taken from it; VENDORED.md records what came from where. To update a package, change
its version below, run `python3 scripts/vendor-assets.py`, look at the pages, commit the result.
Only the standard library: it runs before `uv sync` as well as after.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
STATIC = Path(__file__).resolve().parents[1] / "src" / "carpulse" / "web" / "static"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    folder: str
    # file in the tarball (below `package/`) → name under static/<folder>/
    files: dict[str, str]
    # what its licence asks to keep beside the files (Apache-2.0: the NOTICE too)
    licence_files: tuple[str, ...] = ("LICENSE",)
    # name under static/<folder>/ → (text, replacement, why): edits each found exactly once, or the run fails
    patches: tuple[tuple[str, str, str, str], ...] = ()


PACKAGES = (
    Package(
        "swagger-ui-dist",
        "5.35.0",
        "swagger-ui",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "oauth2-redirect.js": "oauth2-redirect.js",
            "favicon-32x32.png": "favicon-32x32.png",
        },
        licence_files=("LICENSE", "NOTICE"),
    ),
    Package(
        "redoc",
        "2.5.4",
        "redoc",
        {"bundles/redoc.standalone.js": "redoc.standalone.js"},
        patches=(
            (
                "redoc.standalone.js",
                "https://cdn.redoc.ly/redoc/logo-mini.svg",
                "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
                "the attribution's logo loads from Redocly's CDN: an empty image instead, so the page works offline",
            ),
        ),
    ),
    Package("htmx.org", "2.0.11", "htmx", {"dist/htmx.min.js": "htmx.min.js"}),
    Package(
        "leaflet",
        "1.9.4",
        "leaflet",
        {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
        },
    ),
)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (a fixed https URL)
        body: bytes = response.read()
        return body


def verified_tarball(package: Package) -> tuple[str, bytes]:
    metadata = json.loads(fetch(f"{REGISTRY}/{package.name}/{package.version}"))
    dist = metadata["dist"]
    algorithm, _, expected = dist["integrity"].partition("-")
    if algorithm != "sha512":
        sys.exit(f"{package.name}@{package.version}: the registry gives a {algorithm} integrity, not sha512")
    tarball = fetch(dist["tarball"])
    actual = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if actual != expected:
        sys.exit(f"{package.name}@{package.version}: the tarball does not match its sha512 integrity")
    return dist["tarball"], tarball


def member(archive: tarfile.TarFile, name: str) -> bytes:
    extracted = archive.extractfile(f"package/{name}")
    if extracted is None:
        sys.exit(f"{name} is not a file in the tarball")
    return extracted.read()


def vendor(package: Package) -> str:
    """Copy the package's files and licence into place; answer its line of VENDORED.md."""
    url, tarball = verified_tarball(package)
    target = STATIC / package.folder
    shutil.rmtree(target, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        manifest = json.loads(member(archive, "package.json"))
        if manifest["version"] != package.version:
            sys.exit(f"{package.name}: the tarball holds version {manifest['version']}")
        for source, name in {**package.files, **{name: name for name in package.licence_files}}.items():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(member(archive, source))
    for name, text, replacement, _ in package.patches:
        path = target / name
        content = path.read_text(encoding="utf-8")
        if content.count(text) != 1:
            sys.exit(f"{package.name}@{package.version}: {text!r} is in {name} {content.count(text)} times, not once")
        path.write_text(content.replace(text, replacement), encoding="utf-8")
    files = ", ".join(f"`{name}`" for name in package.files.values())
    edits = "".join(f" Edited `{name}`: {why}." for name, _, _, why in package.patches)
    print(f"{package.name}@{package.version} → static/{package.folder}/")
    return f"| {package.name} | {package.version} | {manifest['license']} | {url} | `{package.folder}/`: {files}.{edits} |"


def main() -> None:
    rows = [vendor(package) for package in PACKAGES]
    (STATIC / "VENDORED.md").write_text(
        "# Vendored front-end files\n\n"
        "Written by `scripts/vendor-assets.py` (do not edit by hand): each package's tarball from the npm\n"
        "registry, checked against the registry's sha512 integrity; its licence is beside its files.\n\n"
        "| package | version | licence | source | files |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
