from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from typer.testing import CliRunner

from carpulse.cli import app as cli
from carpulse.config import get_settings

PATH = "/.well-known/appspecific/com.tesla.3p.public-key.pem"


class TestSandboxKey:
    async def test_sandbox_generates_and_serves_a_p256_public_key(self, client: httpx.AsyncClient) -> None:
        response = await client.get(PATH)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        key = serialization.load_pem_public_key(response.content)
        assert isinstance(key, ec.EllipticCurvePublicKey)
        assert isinstance(key.curve, ec.SECP256R1)
        assert b"PRIVATE" not in response.content


class TestNoKey:
    @pytest.fixture
    def settings_overrides(self, tmp_path: Path) -> dict[str, Any]:
        return {"sandbox": {"enabled": False}, "tesla": {"public_key_path": str(tmp_path / "none.pem")}}

    async def test_missing_key_is_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get(PATH)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/partner-key-missing"


class TestWrongKey:
    @pytest.fixture
    def settings_overrides(self, tmp_path: Path) -> dict[str, Any]:
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path = tmp_path / "rsa.pem"
        path.write_bytes(
            rsa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return {"sandbox": {"enabled": False}, "tesla": {"public_key_path": str(path)}}

    async def test_a_non_p256_key_is_not_served(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(PATH)).status_code == 404


class TestKeysGenerateCommand:
    def test_writes_a_pair_and_refuses_to_overwrite(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CARPULSE_TESLA__PRIVATE_KEY_PATH", str(tmp_path / "k" / "private.pem"))
        monkeypatch.setenv("CARPULSE_TESLA__PUBLIC_KEY_PATH", str(tmp_path / "k" / "public.pem"))
        get_settings.cache_clear()
        try:
            runner = CliRunner()
            first = runner.invoke(cli, ["keys", "generate"])
            assert first.exit_code == 0, first.output
            assert first.stdout.startswith("-----BEGIN PUBLIC KEY-----")
            private = tmp_path / "k" / "private.pem"
            assert private.stat().st_mode & 0o777 == 0o600
            assert isinstance(
                serialization.load_pem_private_key(private.read_bytes(), None), ec.EllipticCurvePrivateKey
            )
            again = runner.invoke(cli, ["keys", "generate"])
            assert again.exit_code == 1
            replaced = runner.invoke(cli, ["keys", "generate", "--overwrite"])
            assert replaced.exit_code == 0
            assert replaced.stdout != first.stdout
        finally:
            get_settings.cache_clear()
