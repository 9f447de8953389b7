"""The docs pages as HTML: our vendored files by their hashed URLs, no inline script, a strict CSP."""

from __future__ import annotations

import re

import httpx
import pytest

from carpulse.web.assets import asset_url

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL)


def csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {name: value for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))}


class TestSwaggerUiPage:
    @pytest.mark.parametrize("path", ["/docs", "/api/v1/docs"])
    async def test_loads_the_vendored_bundle_and_our_init_script(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)

        assert response.status_code == 200
        sources = [attributes for attributes, _ in SCRIPT.findall(response.text)]
        assert sources == [
            f' src="{asset_url("swagger-ui/swagger-ui-bundle.js")}"',
            f' src="{asset_url("docs/swagger-init.js")}"',
        ]
        assert asset_url("swagger-ui/swagger-ui.css") in response.text
        assert 'data-openapi-url="/openapi.json"' in response.text

    async def test_the_oauth2_redirect_page_runs_the_vendored_script(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/docs/oauth2-redirect")

        assert response.status_code == 200
        assert SCRIPT.findall(response.text) == [(f' src="{asset_url("swagger-ui/oauth2-redirect.js")}"', "")]


class TestRedocPage:
    @pytest.mark.parametrize("path", ["/redoc", "/api/v1/redoc"])
    async def test_loads_the_vendored_bundle(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)

        assert SCRIPT.findall(response.text) == [(f' src="{asset_url("redoc/redoc.standalone.js")}"', "")]
        assert '<redoc spec-url="/openapi.json">' in response.text


class TestContentSecurityPolicy:
    @pytest.mark.parametrize("path", ["/docs", "/api/v1/docs", "/docs/oauth2-redirect", "/redoc", "/api/v1/redoc"])
    async def test_scripts_only_from_our_origin(self, client: httpx.AsyncClient, path: str) -> None:
        directives = csp(await client.get(path))

        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert directives["connect-src"] == "'self'"
        assert "http" not in " ".join(directives.values())

    @pytest.mark.parametrize("path", ["/docs", "/api/v1/docs"])
    async def test_swagger_ui_needs_no_inline_style_either(self, client: httpx.AsyncClient, path: str) -> None:
        assert csp(await client.get(path))["style-src"] == "'self'"
