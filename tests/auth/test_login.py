from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from carpulse.auth.dependencies import AdminAccount, CurrentAccount, OptionalAccount
from carpulse.models import Account, AccountRole
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME

PROBLEM = "application/problem+json"


async def login_json(client: httpx.AsyncClient, username: str, password: str, **kwargs: Any) -> httpx.Response:
    return await client.post("/api/v1/auth/login/json", json={"username": username, "password": password}, **kwargs)


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    body: dict[str, Any] = response.json()
    assert body["status"] == 401
    return body


class TestLogin:
    async def test_json_login_returns_a_bearer_token(self, client: httpx.AsyncClient) -> None:
        response = await login_json(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 30 * 60
        assert response.headers["cache-control"] == "no-store"

    async def test_form_login_returns_a_bearer_token(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/login", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "bearer"

    async def test_username_is_case_insensitive(self, client: httpx.AsyncClient) -> None:
        response = await login_json(client, ADMIN_USERNAME.upper(), ADMIN_PASSWORD)
        assert response.status_code == 200

    async def test_token_carries_the_required_claims(self, client: httpx.AsyncClient, settings: Any) -> None:
        token = (await login_json(client, ADMIN_USERNAME, ADMIN_PASSWORD)).json()["access_token"]
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(
            token,
            settings.auth.jwt_secret_key.get_secret_value(),
            algorithms=["HS256"],
            audience=settings.auth.jwt_audience,
        )
        assert header["alg"] == "HS256"
        assert set(claims) >= {"sub", "exp", "iat", "iss", "aud", "jti"}
        assert claims["exp"] - claims["iat"] == 30 * 60
        assert claims["iss"] == settings.auth.jwt_issuer

    async def test_each_token_has_its_own_jti(self, client: httpx.AsyncClient, settings: Any) -> None:
        tokens = [(await login_json(client, ADMIN_USERNAME, ADMIN_PASSWORD)).json()["access_token"] for _ in range(2)]
        jtis = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}
        assert len(jtis) == 2

    async def test_login_stamps_last_login(self, client: httpx.AsyncClient, admin_token: str) -> None:
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {admin_token}"})
        assert me.json()["last_login_at"] is not None


class TestLoginRefusals:
    async def test_wrong_password_is_401(self, client: httpx.AsyncClient) -> None:
        body = assert_unauthorized(await login_json(client, ADMIN_USERNAME, "wrong password"))
        assert body["type"] == "/problems/invalid-credentials"

    async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(self, client: httpx.AsyncClient) -> None:
        wrong_password = await login_json(client, ADMIN_USERNAME, "wrong password")
        unknown_user = await login_json(client, "nobody", "wrong password")
        assert_unauthorized(unknown_user)

        def comparable(response: httpx.Response) -> tuple[int, dict[str, Any], dict[str, str]]:
            body = {k: v for k, v in response.json().items() if k != "request_id"}
            headers = {
                k: v for k, v in response.headers.items() if not k.startswith("ratelimit") and k != "x-request-id"
            }
            return response.status_code, body, headers

        assert comparable(wrong_password) == comparable(unknown_user)

    async def test_missing_fields_are_422_without_echoing_the_password(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/auth/login/json", json={"password": "hunter2-secret"})
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        assert "hunter2-secret" not in response.text
        assert response.json()["errors"][0]["loc"] == ["body", "username"]

    async def test_malformed_json_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/login/json", content=b'{"username": ', headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM

    async def test_inactive_account_cannot_log_in(self, client: httpx.AsyncClient, db: Any) -> None:
        from carpulse.kit.passwords import hash_password

        db.add(
            Account(
                username="sleeper",
                password_hash=hash_password("pw-sleeper"),
                role=AccountRole.customer,
                is_active=False,
            )
        )
        await db.commit()
        assert_unauthorized(await login_json(client, "sleeper", "pw-sleeper"))


class TestLoginRateLimit:
    async def test_sixth_attempt_in_a_minute_is_429_with_retry_after(self, client: httpx.AsyncClient) -> None:
        statuses = [(await login_json(client, ADMIN_USERNAME, "wrong")).status_code for _ in range(5)]
        assert statuses == [401] * 5
        sixth = await login_json(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        assert sixth.status_code == 429
        assert sixth.headers["content-type"] == PROBLEM
        assert 1 <= int(sixth.headers["retry-after"]) <= 60
        assert sixth.headers["ratelimit-limit"] == "5"
        assert sixth.headers["ratelimit-remaining"] == "0"
        assert sixth.json()["type"] == "/problems/rate-limited"

    async def test_remaining_counts_down(self, client: httpx.AsyncClient) -> None:
        first = await login_json(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        second = await login_json(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        assert first.headers["ratelimit-remaining"] == "4"
        assert second.headers["ratelimit-remaining"] == "3"
        assert "ratelimit-policy" in first.headers

    async def test_limit_is_per_username(self, client: httpx.AsyncClient) -> None:
        for _ in range(6):
            await login_json(client, "someone-else", "wrong")
        assert (await login_json(client, ADMIN_USERNAME, ADMIN_PASSWORD)).status_code == 200

    async def test_spoofed_forwarded_for_does_not_reset_the_limit(self, client: httpx.AsyncClient) -> None:
        for n in range(5):
            await login_json(client, ADMIN_USERNAME, "wrong", headers={"X-Forwarded-For": f"198.51.100.{n}"})
        response = await login_json(client, ADMIN_USERNAME, "wrong", headers={"X-Forwarded-For": "198.51.100.99"})
        assert response.status_code == 429


class TestLoginRateLimitBehindTrustedProxy:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"http": {"trusted_proxies": ["203.0.113.0/24"]}}

    async def test_forwarded_client_addresses_are_limited_separately(self, client: httpx.AsyncClient) -> None:
        for _ in range(5):
            await login_json(client, ADMIN_USERNAME, "wrong", headers={"X-Forwarded-For": "198.51.100.1"})
        blocked = await login_json(client, ADMIN_USERNAME, "wrong", headers={"X-Forwarded-For": "198.51.100.1"})
        other = await login_json(client, ADMIN_USERNAME, ADMIN_PASSWORD, headers={"X-Forwarded-For": "198.51.100.2"})
        assert blocked.status_code == 429
        assert other.status_code == 200


def _forge(claims: dict[str, Any], key: str = "", alg: str = "HS256") -> str:
    if alg == "none":
        header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
        return f"{header.decode()}.{payload.decode()}."
    return jwt.encode(claims, key, algorithm=alg)


class TestBearerToken:
    async def test_token_opens_me(self, client: httpx.AsyncClient, admin_token: str) -> None:
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {admin_token}"})
        assert response.status_code == 200
        body = response.json()
        assert body["username"] == ADMIN_USERNAME
        assert body["role"] == "admin"
        assert "password_hash" not in body

    async def test_no_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/api/v1/auth/me"))

    async def test_non_bearer_scheme_is_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": "Basic YWRtaW46eA=="}))

    async def test_garbage_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.jwt"}))

    async def test_tampered_token_is_401(self, client: httpx.AsyncClient, admin_token: str) -> None:
        header, payload, signature = admin_token.split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        tampered = f"{header}.{payload}.{flipped}"
        body = assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tampered}"}))
        assert body["type"] == "/problems/invalid-token"

    async def test_tampered_payload_is_401(self, client: httpx.AsyncClient, admin_token: str) -> None:
        header, _, signature = admin_token.split(".")
        claims = jwt.decode(admin_token, options={"verify_signature": False})
        claims["role"] = "admin"
        claims["sub"] = str(uuid.uuid4())
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        forged = f"{header}.{payload}.{signature}"
        assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}))

    def _claims(self, settings: Any, sub: str, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "sub": sub,
            "iss": settings.auth.jwt_issuer,
            "aud": settings.auth.jwt_audience,
            "iat": now,
            "exp": now + 600,
            "jti": "x",
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    async def _sub(self, client: httpx.AsyncClient, token: str) -> str:
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        sub: str = me.json()["id"]
        return sub

    @pytest.mark.parametrize(
        ("case", "changes"),
        [
            ("expired", {"iat": int(time.time()) - 4000, "exp": int(time.time()) - 3600}),
            ("wrong audience", {"aud": "someone-else"}),
            ("wrong issuer", {"iss": "evil"}),
            ("no exp", {"exp": None}),
            ("no jti", {"jti": None}),
        ],
    )
    async def test_bad_claims_are_401(
        self, client: httpx.AsyncClient, settings: Any, admin_token: str, case: str, changes: dict[str, Any]
    ) -> None:
        sub = await self._sub(client, admin_token)
        token = _forge(self._claims(settings, sub, **changes), settings.auth.jwt_secret_key.get_secret_value())
        assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}))

    async def test_wrong_signing_key_is_401(self, client: httpx.AsyncClient, settings: Any, admin_token: str) -> None:
        sub = await self._sub(client, admin_token)
        token = _forge(self._claims(settings, sub), "another-key-of-sufficient-length-0123456789")
        assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}))

    async def test_alg_none_is_401(self, client: httpx.AsyncClient, settings: Any, admin_token: str) -> None:
        sub = await self._sub(client, admin_token)
        token = _forge(self._claims(settings, sub), alg="none")
        assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}))

    async def test_token_of_a_vanished_account_is_401(self, client: httpx.AsyncClient, settings: Any) -> None:
        token = _forge(self._claims(settings, str(uuid.uuid4())), settings.auth.jwt_secret_key.get_secret_value())
        assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}))

    async def test_sub_that_is_not_an_id_is_401(self, client: httpx.AsyncClient, settings: Any) -> None:
        token = _forge(self._claims(settings, "admin"), settings.auth.jwt_secret_key.get_secret_value())
        assert_unauthorized(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}))


class TestRoleDependencies:
    @pytest.fixture
    def probe_app(self, app: FastAPI) -> FastAPI:
        @app.get("/_probe/admin")
        async def admin_only(account: AdminAccount) -> dict[str, str]:
            return {"username": account.username}

        @app.get("/_probe/optional")
        async def optional(account: OptionalAccount) -> dict[str, str | None]:
            return {"username": account.username if account else None}

        @app.get("/_probe/current")
        async def current(account: CurrentAccount) -> dict[str, str]:
            return {"role": account.role.value}

        return app

    async def _customer_token(self, client: httpx.AsyncClient, db: Any) -> str:
        from carpulse.kit.passwords import hash_password

        db.add(Account(username="carol", password_hash=hash_password("carol-password"), role=AccountRole.customer))
        await db.commit()
        response = await login_json(client, "carol", "carol-password")
        token: str = response.json()["access_token"]
        return token

    async def test_admin_passes_admin_dependency(
        self, probe_app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        response = await client.get("/_probe/admin", headers={"Authorization": f"Bearer {admin_token}"})
        assert response.json() == {"username": ADMIN_USERNAME}

    async def test_customer_is_refused_by_admin_dependency(
        self, probe_app: FastAPI, client: httpx.AsyncClient, db: Any
    ) -> None:
        token = await self._customer_token(client, db)
        response = await client.get("/_probe/admin", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/admin-required"
        current = await client.get("/_probe/current", headers={"Authorization": f"Bearer {token}"})
        assert current.json() == {"role": "customer"}

    async def test_optional_account_is_none_without_a_token(
        self, probe_app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        assert (await client.get("/_probe/optional")).json() == {"username": None}

    async def test_optional_account_still_refuses_a_bad_token(
        self, probe_app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        assert_unauthorized(await client.get("/_probe/optional", headers={"Authorization": "Bearer nope"}))
