from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from carpulse.config import DEVELOPMENT_JWT_SECRET, MIN_KEY_BITS, Settings, key_strength_bits, settings_problems
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
            "OPENCHARGEMAP_API_KEY",
            "CHARGING_CACHE_TTL",
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
            "invoice": "60/minute",
            "invoice_zip": "3/minute",
            "charging_history": "30/minute",
            "charging_stations": "60/minute",
            "oauth_initiate": "20/minute",
            "photo_upload": "10/minute",
            "render": "10/minute",
            "render_ip": "30/minute",
            "voucher": "10/minute",
            "register": "10/hour",
            "confirmation_resend": "5/hour",
            "confirm": "30/minute",
            "driver_sign_in": "30/minute",
        }
        assert (settings.mail.host, settings.mail.port, settings.mail.starttls) == (None, 587, True)
        assert settings.signup.confirmation_ttl_seconds == 24 * 3600
        assert settings.charging.history_cache_seconds == 300
        assert (settings.server.header_timeout_seconds, settings.server.keep_alive_timeout_seconds) == (10.0, 5)

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

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("CARPULSE_SERVER__HEADER_TIMEOUT_SECONDS", "0"),
            ("CARPULSE_SERVER__KEEP_ALIVE_TIMEOUT_SECONDS", "1.5"),
            ("CARPULSE_SERVER__LIMIT_CONCURRENCY", "0"),
            ("CARPULSE_SERVER__MAX_HEAD_BYTES", "100"),
            ("CARPULSE_CHARGING__HISTORY_CACHE_SECONDS", "-1"),
        ],
    )
    def test_server_and_cache_nonsense_is_refused(self, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError):
            Settings()

    def test_server_settings_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CARPULSE_SERVER__KEEP_ALIVE_TIMEOUT_SECONDS", "65")
        monkeypatch.setenv("CARPULSE_CHARGING__HISTORY_CACHE_SECONDS", "0")
        settings = Settings()
        assert settings.server.keep_alive_timeout_seconds == 65
        assert settings.charging.history_cache_seconds == 0


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
            ({"mail": {"host": None}}, "CARPULSE_MAIL__HOST must be set"),
            ({"mail": {"from": " "}}, "CARPULSE_MAIL__FROM must be set"),
            ({"open_charge_map": {"api_key": "ocm-sandbox-key"}}, "CARPULSE_OPEN_CHARGE_MAP__API_KEY"),
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


PREDICTABLE_KEYS = [
    "a" * 48,
    "abc" * 16,
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "password123password123password123",
    "my-super-secret-jwt-key-for-prod",  # a phrase, 32 characters
    "0123456789" * 4,
]


class TestKeyStrength:
    @pytest.mark.parametrize("key", PREDICTABLE_KEYS)
    def test_predictable_keys_score_below_the_bar(self, key: str) -> None:
        assert key_strength_bits(key) < MIN_KEY_BITS

    def test_random_keys_score_above_it(self) -> None:
        for _ in range(500):
            assert key_strength_bits(secrets.token_urlsafe(32)) >= MIN_KEY_BITS
            assert key_strength_bits(secrets.token_hex(32)) >= MIN_KEY_BITS

    def test_a_run_scores_nothing(self) -> None:
        assert key_strength_bits("k" * 64) == 0
        assert key_strength_bits("") == 0

    @pytest.mark.parametrize("key", PREDICTABLE_KEYS)
    @pytest.mark.parametrize(
        ("group", "field", "variable"),
        [
            ("auth", "jwt_secret_key", "JWT_SECRET_KEY"),
            ("storage", "signing_key", "STORAGE__SIGNING_KEY"),
            ("data_api", "key_secret", "DATA_API__KEY_SECRET"),
        ],
    )
    def test_production_refuses_them_without_printing_them(
        self, key: str, group: str, field: str, variable: str
    ) -> None:
        with pytest.raises(ValidationError, match=f"{variable}.*too predictable") as raised:
            Settings(**production(**{group: {field: key}}))
        assert key not in str(raised.value)

    def test_production_accepts_random_keys(self) -> None:
        for _ in range(50):
            keys = {"auth": {"jwt_secret_key": secrets.token_urlsafe(32)}}
            Settings(**production(**keys, storage={"signing_key": secrets.token_urlsafe(32)}))


class TestProductionRefusesUnsafeSettings:
    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"http": {"cors_origins": ["http://localhost:3000"]}}, "CORS_ORIGINS"),
            ({"http": {"cors_origins": ["https://app.example", "https://localhost:5173"]}}, "CORS_ORIGINS"),
            ({"http": {"cors_origins": ["https://127.0.0.1:8443"]}}, "CORS_ORIGINS"),
            ({"http": {"cors_origins": ["https://[::1]"]}}, "CORS_ORIGINS"),
            ({"http": {"cors_origins": ["https://dev.localhost"]}}, "CORS_ORIGINS"),
            ({"http": {"cors_origins": ["http://app.example"]}}, "CORS_ORIGINS"),
            ({"http": {"cors_origins": ["*"]}}, "CORS_ORIGINS"),
            ({"tesla": {"frontend_url": "http://localhost:5173/connect"}}, "FRONTEND_URL"),
            ({"http": {"trusted_proxies": ["0.0.0.0/0"]}}, "TRUSTED_PROXIES"),
            ({"http": {"trusted_proxies": ["10.0.0.0/8"]}}, "TRUSTED_PROXIES"),
            ({"http": {"trusted_proxies": ["10.0.1.0/24", "::/0"]}}, "TRUSTED_PROXIES"),
            ({"http": {"trusted_proxies": ["2001:db8::/48"]}}, "TRUSTED_PROXIES"),
            ({"rate_limit": {"enabled": False}}, "RATE_LIMIT__ENABLED"),
            ({"database": {"echo": True}}, "DATABASE__ECHO"),
            ({"log": {"level": "DEBUG"}}, "LOG__LEVEL"),
            ({"log": {"level": "debug"}}, "LOG__LEVEL"),
            ({"data_api": {"synthetic": True}}, "DATA_API__SYNTHETIC"),
        ],
    )
    def test_each_is_refused(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            Settings(**production(**changes))

    def test_the_same_values_are_fine_outside_production(self) -> None:
        settings = Settings(
            http={"cors_origins": ["http://localhost:3000"], "trusted_proxies": ["0.0.0.0/0"]},  # type: ignore[arg-type]
            rate_limit={"enabled": False},  # type: ignore[arg-type]
            database={"echo": True},  # type: ignore[arg-type]
            log={"level": "DEBUG"},  # type: ignore[arg-type]
            replicas=3,
        )
        assert not settings.is_production

    def test_proxies_within_the_widest_prefix_pass(self) -> None:
        proxies = ["10.0.1.0/24", "10.0.2.7", "2001:db8:1:2::/64", "2001:db8::1"]
        Settings(**production(http={"trusted_proxies": proxies}))

    def test_the_widest_prefix_is_a_setting(self) -> None:
        Settings(**production(http={"trusted_proxies": ["10.0.0.0/8"], "trusted_proxy_widest_ipv4": 8}))
        Settings(**production(http={"trusted_proxies": ["2001:db8::/32"], "trusted_proxy_widest_ipv6": 32}))

    @pytest.mark.parametrize("entry", ["not-an-address", "10.0.0.0/33", "300.1.1.1"])
    def test_an_unreadable_proxy_is_refused_in_every_environment(self, entry: str) -> None:
        with pytest.raises(ValidationError, match="not an IP address or network"):
            Settings(http={"trusted_proxies": [entry]})  # type: ignore[arg-type]

    def test_several_replicas_refuse_every_per_process_store(self) -> None:
        with pytest.raises(ValidationError) as raised:
            Settings(**production(replicas=3))
        message = str(raised.value)
        for variable in ("CARPULSE_REDIS__URL", "CARPULSE_JOBS__BROKER", "CARPULSE_DATABASE__URL"):
            assert variable in message

    def test_several_replicas_on_shared_stores_start(self) -> None:
        shared = production(
            replicas=3,
            database={"url": "postgresql+asyncpg://carpulse@db.internal/carpulse"},
            redis={"url": "redis://redis.internal:6379/0"},
            jobs={"broker": "redis"},
        )
        assert Settings(**shared).replicas == 3

    def test_several_replicas_refuse_the_in_memory_broker_alone(self) -> None:
        shared = production(
            replicas=2,
            database={"url": "postgresql+asyncpg://carpulse@db.internal/carpulse"},
            redis={"url": "redis://redis.internal:6379/0"},
        )
        with pytest.raises(ValidationError, match="JOBS__BROKER") as raised:
            Settings(**shared)
        assert "REDIS__URL" not in str(raised.value)

    def test_every_problem_is_named_at_once(self) -> None:
        with pytest.raises(ValidationError) as raised:
            Settings(
                **production(
                    auth={"jwt_secret_key": "a" * 32},
                    http={"cors_origins": ["http://localhost:3000"], "trusted_proxies": ["0.0.0.0/0"]},
                    rate_limit={"enabled": False},
                    log={"level": "DEBUG"},
                )
            )
        for variable in ("JWT_SECRET_KEY", "CORS_ORIGINS", "TRUSTED_PROXIES", "RATE_LIMIT__ENABLED", "LOG__LEVEL"):
            assert variable in str(raised.value)


class TestApiDocs:
    def test_served_outside_production_by_default(self) -> None:
        assert Settings().docs_enabled is True

    def test_hidden_in_production_by_default(self) -> None:
        assert Settings(**production()).docs_enabled is False

    def test_a_setting_in_either_direction(self) -> None:
        assert Settings(**production(http={"docs": True})).docs_enabled is True
        assert Settings(http={"docs": False}).docs_enabled is False  # type: ignore[arg-type]


class TestSandboxUrl:
    @pytest.mark.parametrize(
        ("raw", "normalized"),
        [
            ("http://sandbox.internal:8200/_sandbox", "http://sandbox.internal:8200/_sandbox"),
            ("https://sandbox.example/_sandbox/", "https://sandbox.example/_sandbox"),
            ("http://10.0.0.5:8200/staging/_sandbox", "http://10.0.0.5:8200/staging/_sandbox"),
        ],
    )
    def test_an_http_url_names_the_one_sandbox(
        self, monkeypatch: pytest.MonkeyPatch, raw: str, normalized: str
    ) -> None:
        monkeypatch.setenv("CARPULSE_SANDBOX__URL", raw)
        settings = Settings()
        assert settings.sandbox.url == normalized
        assert settings.sandbox_root == normalized
        assert not settings.serves_sandbox

    def test_unset_or_blank_is_this_process_own(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert Settings().sandbox_root == "http://localhost:8100/_sandbox"
        monkeypatch.setenv("CARPULSE_SANDBOX__URL", " ")
        settings = Settings()
        assert settings.sandbox.url is None
        assert settings.serves_sandbox

    @pytest.mark.parametrize(
        "raw",
        [
            "sandbox.internal:8200/_sandbox",
            "ftp://sandbox.internal/_sandbox",
            "http:///_sandbox",
            "http://sandbox.internal:99999/_sandbox",
            "http://sandbox.internal:8200",
            "http://sandbox.internal:8200/_sandbox/tesla",
            "http://user:secret@sandbox.internal/_sandbox",
            "http://sandbox.internal/_sandbox?x=1",
        ],
    )
    def test_nonsense_is_refused_naming_the_variable(self, monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
        monkeypatch.setenv("CARPULSE_SANDBOX__URL", raw)
        with pytest.raises(ValidationError) as raised:
            Settings()
        problems = settings_problems(raised.value)
        assert len(problems) == 1
        assert problems[0].startswith("CARPULSE_SANDBOX__URL: ")
        assert "_sandbox" in problems[0]

    def test_a_named_sandbox_with_the_sandbox_off_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CARPULSE_SANDBOX__URL", "http://sandbox.internal:8200/_sandbox")
        monkeypatch.setenv("CARPULSE_SANDBOX__ENABLED", "false")
        with pytest.raises(ValidationError, match="SANDBOX__ENABLED is false"):
            Settings()

    @pytest.mark.parametrize("enabled", [True, False])
    def test_production_refuses_a_named_sandbox(self, enabled: bool) -> None:
        with pytest.raises(ValidationError) as raised:
            Settings(**production(sandbox={"enabled": enabled, "url": "https://sandbox.example/_sandbox"}))
        assert "CARPULSE_SANDBOX__URL must be unset" in str(raised.value)
        assert ("CARPULSE_SANDBOX__ENABLED must be false" in str(raised.value)) is enabled


class TestOpenChargeMap:
    def test_the_seeds_names(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENCHARGEMAP_API_KEY", "seed-key")
        monkeypatch.setenv("CHARGING_CACHE_TTL", "120")

        settings = Settings()

        assert settings.open_charge_map.api_key.get_secret_value() == "seed-key"
        assert settings.open_charge_map.cache_seconds == 120

    def test_prefixed_names_win(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CHARGING_CACHE_TTL", "120")
        monkeypatch.setenv("CARPULSE_OPEN_CHARGE_MAP__CACHE_SECONDS", "60")

        assert Settings().open_charge_map.cache_seconds == 60

    def test_the_fake_with_the_sandbox_on_else_ocm_itself(self) -> None:
        assert Settings().open_charge_map_api_base == "http://localhost:8100/_sandbox/open_charge_map/v3"
        assert Settings(sandbox={"enabled": False}).open_charge_map_api_base == "https://api.openchargemap.io/v3"
        mirror = Settings(open_charge_map={"api_base": "https://ocm.internal/v3/"})
        assert mirror.open_charge_map_api_base == "https://ocm.internal/v3"
