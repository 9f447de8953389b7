"""No page ships more than 150 KB of script (issue 16): every page template, with the templates it extends and
includes, counted by the bytes a browser downloads (we serve scripts gzip-compressed) — and, stricter, a
page that does not draw a map stays under the budget even uncompressed."""

from __future__ import annotations

import re

import pytest

from carpulse.web.assets import manifest
from carpulse.web.pages import TEMPLATE_DIR

BUDGET_BYTES = 150 * 1024
_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc="\{\{\s*asset_url\(['"]([^'"]+)['"]\)\s*\}\}\"""")
_PARENT = re.compile(r"""\{%-?\s*(?:extends|include|import|from)\s+['"]([^'"]+)['"]""")
_PAGES = sorted(
    path.relative_to(TEMPLATE_DIR).as_posix()
    for path in (TEMPLATE_DIR / "pages").rglob("*.html")
    if "{% extends" in path.read_text(encoding="utf-8")
)


def scripts_of(template: str, seen: set[str] | None = None) -> set[str]:
    """The static scripts a template loads, its parents', includes' and imports' too."""
    seen = set() if seen is None else seen
    if template in seen:
        return set()
    seen.add(template)
    source = (TEMPLATE_DIR / template).read_text(encoding="utf-8")
    found = set(_SCRIPT.findall(source))
    for parent in _PARENT.findall(source):
        found |= scripts_of(parent, seen)
    return found


def sizes(scripts: set[str]) -> tuple[int, int]:
    assets = {asset.name: asset for asset in manifest()}
    return sum(len(assets[name].body) for name in scripts), sum(len(assets[name].gzipped) for name in scripts)


def test_every_page_is_counted() -> None:
    assert "pages/landing.html" in _PAGES
    assert scripts_of("pages/landing.html") >= {"htmx/htmx.min.js", "app/app.js"}


@pytest.mark.parametrize("template", _PAGES)
def test_script_within_budget(template: str) -> None:
    scripts = scripts_of(template)
    raw, compressed = sizes(scripts)

    assert compressed <= BUDGET_BYTES, f"{template}: {compressed} B of script over the wire: {sorted(scripts)}"
    if not any(name.startswith("leaflet/") for name in scripts):
        assert raw <= BUDGET_BYTES, f"{template}: {raw} B of script: {sorted(scripts)}"
