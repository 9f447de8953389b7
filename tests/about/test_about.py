from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from carpulse.about.service import git_tag_version, package_version, resolve_version


class TestRoot:
    async def test_root_names_version_environment_and_links(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/")
        assert response.status_code == 200
        assert response.json() == {
            "name": "Car Pulse API",
            "version": "9.9.9-test",
            "environment": "test",
            "docs": "http://testserver/docs",
            "redoc": "http://testserver/redoc",
            "openapi": "http://testserver/openapi.json",
            "api": "http://testserver/api",
            "health": "http://testserver/health",
        }

    async def test_api_lists_versions(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api")
        assert response.json() == {
            "name": "Car Pulse API",
            "version": "9.9.9-test",
            "versions": [{"version": "v1", "path": "/api/v1", "status": "current"}],
        }


class TestLinksFollowThePublicBaseUrl:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"public_base_url": "https://api.example.test/"}

    async def test_links_use_the_configured_base(self, client: httpx.AsyncClient) -> None:
        body = (await client.get("/")).json()
        assert body["docs"] == "https://api.example.test/docs"
        assert body["health"] == "https://api.example.test/health"


class TestVersionResolution:
    def test_configured_version_wins(self) -> None:
        assert resolve_version("v1.2.3") == "v1.2.3"

    def test_latest_git_tag_is_used(self, tmp_path: Path) -> None:
        def git(*args: str) -> None:
            subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

        git("init", "-q")
        git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "one")
        git("tag", "v0.2.2")
        git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "two")
        git("tag", "v0.2.3")
        assert git_tag_version(tmp_path) == "v0.2.3"

    def test_no_git_falls_back_to_the_package(self, tmp_path: Path) -> None:
        assert git_tag_version(tmp_path) is None
        assert package_version() == "0.1.0"
