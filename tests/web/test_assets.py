"""Static files: served only under content-hashed names, cached for a year, compressed when asked."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from carpulse.web.assets import STATIC_DIR, AssetManifest, asset_url

PROBLEM = "application/problem+json"
VENDORED = (STATIC_DIR / "VENDORED.md").read_text(encoding="utf-8")


class TestHashedNames:
    async def test_a_hashed_url_answers_the_file_cached_for_a_year(self, client: httpx.AsyncClient) -> None:
        url = asset_url("htmx/htmx.min.js")

        response = await client.get(url, headers={"Accept-Encoding": "identity"})

        assert re.fullmatch(r"/static/htmx/htmx\.min\.[0-9a-f]{12}\.js", url)
        assert response.status_code == 200
        assert response.content == (STATIC_DIR / "htmx" / "htmx.min.js").read_bytes()
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-encoding" not in response.headers

    @pytest.mark.parametrize(
        "path",
        [
            "/static/htmx/htmx.min.js",  # the unhashed name
            "/static/htmx/htmx.min.000000000000.js",  # a stale hash
            "/static/VENDORED.md",  # not a served kind of file
            "/static/%2e%2e/%2e%2e/pyproject.toml",  # no path is ever read from the URL
        ],
    )
    async def test_any_other_name_is_a_404_problem(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)

        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].endswith("/asset-not-found")

    def test_a_new_content_is_a_new_name(self, tmp_path: Path) -> None:
        (tmp_path / "app.js").write_text("one();")
        before = AssetManifest.build(tmp_path).url("app.js")
        (tmp_path / "app.js").write_text("two();")

        assert AssetManifest.build(tmp_path).url("app.js") != before

    def test_an_unknown_name_fails_where_the_page_is_rendered(self) -> None:
        with pytest.raises(KeyError, match=r"htmx\.js"):
            asset_url("htmx.js")


class TestTransfer:
    async def test_scripts_are_gzipped_for_a_client_that_accepts_it(self, client: httpx.AsyncClient) -> None:
        url = asset_url("swagger-ui/swagger-ui-bundle.js")

        response = await client.get(url, headers={"Accept-Encoding": "gzip, br"})

        assert response.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["vary"]
        assert int(response.headers["content-length"]) < len(response.content) / 3  # httpx decoded it
        assert response.content == (STATIC_DIR / "swagger-ui" / "swagger-ui-bundle.js").read_bytes()

    async def test_gzip_refused_with_q_zero_is_not_sent(self, client: httpx.AsyncClient) -> None:
        response = await client.get(asset_url("htmx/htmx.min.js"), headers={"Accept-Encoding": "gzip;q=0"})

        assert "content-encoding" not in response.headers

    async def test_images_are_sent_as_they_are(self, client: httpx.AsyncClient) -> None:
        response = await client.get(asset_url("leaflet/images/marker-icon.png"), headers={"Accept-Encoding": "gzip"})

        assert response.headers["content-type"] == "image/png"
        assert "content-encoding" not in response.headers

    async def test_a_revalidation_with_the_etag_is_304(self, client: httpx.AsyncClient) -> None:
        url = asset_url("leaflet/leaflet.js")
        etag = (await client.get(url)).headers["etag"]

        response = await client.get(url, headers={"If-None-Match": etag})

        assert response.status_code == 304
        assert response.content == b""

    async def test_head_answers_the_headers(self, client: httpx.AsyncClient) -> None:
        response = await client.head(asset_url("leaflet/leaflet.css"))

        assert response.status_code == 200
        assert response.headers["content-type"] == "text/css; charset=utf-8"


class TestStylesheets:
    async def test_leaflets_images_are_named_by_their_hashed_urls(self, client: httpx.AsyncClient) -> None:
        css = (await client.get(asset_url("leaflet/leaflet.css"))).text

        for image in ("layers.png", "layers-2x.png", "marker-icon.png"):
            url = asset_url(f"leaflet/images/{image}")
            assert f'url("{url}")' in css
            assert (await client.get(url)).status_code == 200
        assert "url(images/" not in css

    def test_relative_parent_and_external_references(self, tmp_path: Path) -> None:
        (tmp_path / "img").mkdir()
        (tmp_path / "css").mkdir()
        (tmp_path / "img" / "dot.png").write_bytes(b"\x89PNG")
        (tmp_path / "css" / "site.css").write_text(
            "a{background:url('../img/dot.png')} b{background:url(data:image/png;base64,AA==)} "
            "c{background:url(https://tiles.example/x.png)} d{background:url(missing.png)}"
        )
        manifest = AssetManifest.build(tmp_path)

        css = next(asset for asset in manifest if asset.name == "css/site.css").body.decode()

        assert f'url("{manifest.url("img/dot.png")}")' in css
        assert "url(data:image/png;base64,AA==)" in css
        assert "url(https://tiles.example/x.png)" in css
        assert "url(missing.png)" in css


class TestVendoredRecord:
    @pytest.mark.parametrize(
        ("folder", "package", "licence"),
        [
            ("swagger-ui", "swagger-ui-dist", "Apache-2.0"),
            ("redoc", "redoc", "MIT"),
            ("htmx", "htmx.org", "0BSD"),
            ("leaflet", "leaflet", "BSD-2-Clause"),
        ],
    )
    def test_each_package_has_its_licence_and_its_row(self, folder: str, package: str, licence: str) -> None:
        assert (STATIC_DIR / folder / "LICENSE").is_file()
        row = next(line for line in VENDORED.splitlines() if line.startswith(f"| {package} |"))
        assert f"| {licence} |" in row
        assert f"https://registry.npmjs.org/{package}/-/{package}-" in row

    def test_no_vendored_file_names_a_cdn_the_docs_pages_would_load(self) -> None:
        redoc = (STATIC_DIR / "redoc" / "redoc.standalone.js").read_text(encoding="utf-8")

        assert "cdn.redoc.ly" not in redoc
