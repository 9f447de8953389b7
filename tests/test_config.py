from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from carpulse.config import DEVELOPMENT_JWT_SECRET, Settings
from tests.conftest import production_overrides

PRODUCTION_READY: dict[str, Any] = production_overrides()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CARPULSE_") or name in (
            "ADMIN_USERNAME",
            "ADMIN_PASSWORD_HASH",
            "CORS_ORIGINS",
            "JWT_SECRET_KEY",
            "HOST",
            "PORT",
            "APP_VERSION",
            "APP_NAME",
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer .env leaks in


def production(**changes: Any) -> dict[str, Any]:
    values = {key: (dict(value) if isinstance(value, dict) else value) for key, value in PRODUCTION_READY.items()}
    for key, value in changes.items():
        if isinstance(value, dict):
            values[key] = {**values.get(key, {}), **value}
        else:
            values[key] = value
    return values


class TestDefaults:
    def test_embedded_defaults(self) -> None:
        settings = Settings()
        assert settings.database.url.startswith("sqlite+aiosqlite:///var/")
        assert settings.redis.url is None
        assert settings.storage.url == "var/storage"
        assert settings.sandbox.enabled is True
        assert settings.port == 8100
        assert settings.base_url == "http://localhost:8100"
        assert settings.rate_limit.policies == {
            "payment": "10/minute",
            "verification": "30/minute",
            "pdf": "10/minute",
            "webhook": "100/minute",
            "login": "5/minute",
            "voucher": "10/minute",
        }

    def test_base_url_follows_host_and_port(self) -> None:
        assert Settings(host="127.0.0.1", port=9000).base_url == "http://127.0.0.1:9000"
        assert Settings(public_base_url="https://x.example/").base_url == "https://x.example"


class TestRateLimitPolicies:
    def test_one_override_keeps_the_other_policies(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CARPULSE_RATE_LIMIT__POLICIES", '{"pdf": "3/minute"}')
        policies = Settings().rate_limit.policies
        assert policies["pdf"] == "3/minute"
        assert policies["login"] == "5/minute"

    def test_nonsense_rate_is_refused_at_startup(self) -> None:
        with pytest.raises(ValidationError, match="not a rate"):
            Settings(rate_limit={"policies": {"pdf": "lots"}})  # type: ignore[arg-type]


class TestEnvironmentVariables:
    def test_prefixed_and_nested(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CARPULSE_DATABASE__URL", "postgresql+asyncpg://u@h/db")
        monkeypatch.setenv("CARPULSE_REDIS__URL", "redis://h:6379/0")
        monkeypatch.setenv("CARPULSE_AUTH__JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "15")
        settings = Settings()
        assert settings.database.url == "postgresql+asyncpg://u@h/db"
        assert settings.redis.url is not None
        assert settings.redis.url.get_secret_value() == "redis://h:6379/0"
        assert settings.auth.jwt_access_token_expire_minutes == 15

    def test_secrets_do_not_print(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CARPULSE_AUTH__JWT_SECRET_KEY", "super-secret-value-123")
        assert "super-secret-value-123" not in repr(Settings())

    @pytest.mark.parametrize(
        "raw",
        [
            "https://a.example,https://b.example",
            '["https://a.example", "https://b.example"]',
            " https://a.example , https://b.example ",
        ],
    )
    def test_cors_origins_as_comma_list_or_json(self, monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
        monkeypatch.setenv("CARPULSE_HTTP__CORS_ORIGINS", raw)
        assert Settings().http.cors_origins == ["https://a.example", "https://b.example"]

    def test_seed_names_without_prefix(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ADMIN_USERNAME", "boss")
        monkeypatch.setenv("ADMIN_PASSWORD_HASH", "$2b$12$abc")
        monkeypatch.setenv("CORS_ORIGINS", "https://carpulsetracker.com,https://www.carpulsetracker.com")
        monkeypatch.setenv("JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "45")
        monkeypatch.setenv("PORT", "8200")
        settings = Settings()
        assert settings.admin.username == "boss"
        assert settings.admin.password_hash is not None
        assert settings.admin.password_hash.get_secret_value() == "$2b$12$abc"
        assert settings.http.cors_origins == ["https://carpulsetracker.com", "https://www.carpulsetracker.com"]
        assert settings.auth.jwt_access_token_expire_minutes == 45
        assert settings.port == 8200

    def test_prefixed_name_wins_over_seed_name(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ADMIN_USERNAME", "seed")
        monkeypatch.setenv("CARPULSE_ADMIN__USERNAME", "prefixed")
        assert Settings().admin.username == "prefixed"

    def test_dotenv_file_is_read(self, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("CARPULSE_APP_NAME=From Dotenv\nADMIN_USERNAME=dotenv-admin\n")
        settings = Settings()
        assert settings.app_name == "From Dotenv"
        assert settings.admin.username == "dotenv-admin"

    def test_bad_values_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CARPULSE_PORT", "not-a-port")
        with pytest.raises(ValidationError):
            Settings()


class TestProductionRefusesDevelopmentDefaults:
    def test_fully_configured_production_starts(self) -> None:
        assert Settings(**production()).is_production

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"auth": {"jwt_secret_key": DEVELOPMENT_JWT_SECRET}}, "JWT_SECRET_KEY"),
            ({"auth": {"jwt_secret_key": "short"}}, "JWT_SECRET_KEY"),
            ({"sandbox": {"enabled": True}}, "SANDBOX__ENABLED"),
            ({"admin": {"password_hash": None}}, "PASSWORD_HASH"),
            ({"public_base_url": "http://api.example"}, "PUBLIC_BASE_URL"),
            ({"debug": True}, "DEBUG"),
        ],
    )
    def test_each_default_is_refused(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            Settings(**production(**changes))

    @pytest.mark.parametrize("blank", ["", "   "])
    def test_blank_admin_hash_counts_as_unset(self, monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
        monkeypatch.setenv("ADMIN_PASSWORD_HASH", blank)
        values = production()
        del values["admin"]
        with pytest.raises(ValidationError, match="PASSWORD_HASH"):
            Settings(**values)
        assert Settings().admin.password_hash is None

    def test_short_signing_key_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="SIGNING_KEY"):
            Settings(**production(storage={"signing_key": "x"}))

    def test_storage_signing_key_must_be_set(self) -> None:
        values = production()
        del values["storage"]
        with pytest.raises(ValidationError, match="SIGNING_KEY"):
            Settings(**values)
