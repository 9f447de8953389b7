from __future__ import annotations

from typer.testing import CliRunner

from carpulse.cli import app
from carpulse.kit.passwords import verify_password

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
        for command in ("serve", "migrate", "admin"):
            assert command in result.stdout
