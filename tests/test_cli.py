from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carpulse.cli import app
from carpulse.kit.passwords import verify_password
from tests.conftest import production_overrides

runner = CliRunner()


class TestHashPassword:
    def test_prints_a_hash_that_verifies(self) -> None:
        result = runner.invoke(app, ["admin", "hash-password", "--password-stdin"], input="a-long-password\n")
        assert result.exit_code == 0, result.output
        hashed = result.stdout.strip()
        assert hashed.startswith("$argon2")
        assert verify_password("a-long-password", hashed)
        assert not verify_password("another-password", hashed)

    def test_short_password_is_refused(self) -> None:
        result = runner.invoke(app, ["admin", "hash-password", "--password-stdin"], input="short\n")
        assert result.exit_code == 1
        assert "8 characters" in result.output


class TestHelp:
    def test_lists_the_commands(self) -> None:
        result = runner.invoke(app, ["--help"])
        assert result.exit_code == 0
        for command in ("serve", "sandbox", "migrate", "admin"):
            assert command in result.stdout


def unsafe_production_environment(tmp_path: Path) -> dict[str, str]:
    """A production environment with the weak values issue 10 found (no `.env`, no developer variables)."""
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    env = {name: value for name, value in os.environ.items() if name in keep}
    overrides = production_overrides()
    env.update(
        {
            "CARPULSE_ENVIRONMENT": "production",
            "CARPULSE_PUBLIC_BASE_URL": overrides["public_base_url"],
            "CARPULSE_SANDBOX__ENABLED": "false",
            "CARPULSE_ADMIN__PASSWORD_HASH": overrides["admin"]["password_hash"],
            "CARPULSE_SECURITY__TOKEN_KEYS": overrides["security"]["token_keys"][0],
            "TESLA_CLIENT_ID": overrides["tesla"]["client_id"],
            "TESLA_CLIENT_SECRET": overrides["tesla"]["client_secret"],
            "STRIPE_SECRET_KEY": overrides["stripe"]["secret_key"],
            "STRIPE_WEBHOOK_SECRET": overrides["stripe"]["webhook_secret"],
            "PAYPAL_CLIENT_ID": overrides["paypal"]["client_id"],
            "PAYPAL_CLIENT_SECRET": overrides["paypal"]["client_secret"],
            "PAYPAL_WEBHOOK_ID": overrides["paypal"]["webhook_id"],
            "PAYPAL_MODE": "live",
            "COMPANY_Y_TUNNUS": overrides["company"]["y_tunnus"],
            "COMPANY_VAT_NUMBER": overrides["company"]["vat_number"],
            # What production ran with:
            "CARPULSE_AUTH__JWT_SECRET_KEY": "a" * 32,
            "CARPULSE_STORAGE__SIGNING_KEY": "a" * 32,
            "CARPULSE_HTTP__TRUSTED_PROXIES": "0.0.0.0/0",
            "CARPULSE_RATE_LIMIT__ENABLED": "false",
            "CARPULSE_REPLICAS": "3",
            "CARPULSE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'carpulse.db'}",
            "CARPULSE_DATABASE__ECHO": "true",
            "CARPULSE_LOG__LEVEL": "DEBUG",
        }
    )
    return env


UNSAFE_VARIABLES = [
    "CARPULSE_AUTH__JWT_SECRET_KEY",
    "CARPULSE_STORAGE__SIGNING_KEY",
    "CARPULSE_HTTP__CORS_ORIGINS",
    "CARPULSE_HTTP__TRUSTED_PROXIES",
    "CARPULSE_RATE_LIMIT__ENABLED",
    "CARPULSE_REDIS__URL",
    "CARPULSE_JOBS__BROKER",
    "CARPULSE_DATABASE__URL",
    "CARPULSE_DATABASE__ECHO",
    "CARPULSE_LOG__LEVEL",
]


def run_carpulse(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # The console script `uv run carpulse` runs, from this environment's bin directory.
    executable = Path(sys.executable).parent / "carpulse"
    return subprocess.run(
        [str(executable), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


class TestRefusedSettings:
    @pytest.mark.parametrize("command", [["serve"], ["worker"], ["sandbox"], ["migrate"], ["keys", "generate"]])
    def test_each_problem_on_its_own_line_and_no_traceback(self, tmp_path: Path, command: list[str]) -> None:
        result = run_carpulse(command, unsafe_production_environment(tmp_path), tmp_path)

        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
        header, *lines = result.stderr.splitlines()
        assert header == f"carpulse: refusing to start, {len(lines)} problems in the settings:"
        for variable in UNSAFE_VARIABLES:
            assert [line for line in lines if line.startswith(f"  - {variable}")], variable
        assert not (tmp_path / "carpulse.db").exists()  # nothing ran

    def test_a_value_that_does_not_parse_names_its_variable(self, tmp_path: Path) -> None:
        env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME")}
        env |= {"CARPULSE_PORT": "eighty", "CARPULSE_HTTP__TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}

        result = run_carpulse(["migrate"], env, tmp_path)

        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()[1:]
        assert lines[0].startswith("  - CARPULSE_PORT: Input should be a valid integer")
        assert lines[1].startswith("  - CARPULSE_HTTP__TRUSTED_PROXIES: 'proxy.internal' is not an IP address")
        assert len(lines) == 2
