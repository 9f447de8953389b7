"""Drivers sign in with Google (the browser flow and the phones' ID tokens) and stay signed in with our tokens."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.config import (
    SANDBOX_GOOGLE_CLIENT_ID,
    SANDBOX_GOOGLE_IOS_CLIENT_ID,
    SANDBOX_GOOGLE_WEB_CLIENT_ID,
    Settings,
    settings_problems,
)
from carpulse.driver.service import email_allowed
from carpulse.models import Account, AccountRole, DriverIdentity, DriverRefreshToken
from fakes.google import SANDBOX_USERS, Forgery, GoogleFake
from tests.conftest import CLIENT_ADDRESS, production_overrides
from tests.logbook.drivers import google_id_token, sign_in, sign_in_tokens

AUTH = "/api/v1/logbook/auth"
ME = "/api/v1/logbook/me"
JSON = {"Accept": "application/json"}


def google_fake(app: FastAPI) -> GoogleFake:
    fake: GoogleFake = app.state.carpulse.sandbox.google
    return fake


async def driver_rows(db: AsyncSession) -> tuple[int, int]:
    accounts = await db.scalar(select(func.count()).select_from(Account).where(Account.role == AccountRole.driver))
    identities = await db.scalar(select(func.count()).select_from(DriverIdentity))
    return int(accounts or 0), int(identities or 0)


async def consent(client: httpx.AsyncClient, sandbox_user: str = "alice", **initiate: Any) -> str:
    """Start a web sign-in and consent at the fake as `sandbox_user`; the callback URL Google sends back."""
    response = await client.post(f"{AUTH}/google/initiate", json=initiate)
    assert response.status_code == 200, response.text
    at_google = await client.get(f"{response.json()['authorization_url']}&sandbox_user={sandbox_user}")
    assert at_google.status_code == 302, at_google.text
    location: str = at_google.headers["location"]
    return location


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class TestWebFlow:
    async def test_initiate_sends_the_browser_to_google_with_pkce_state_and_nonce(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(f"{AUTH}/google/initiate", json={})

        assert response.status_code == 200, response.text
        url = response.json()["authorization_url"]
        assert url.startswith("http://testserver/_sandbox/google/o/oauth2/v2/auth?")
        query = query_of(url)
        assert query["client_id"] == SANDBOX_GOOGLE_WEB_CLIENT_ID
        assert query["redirect_uri"] == "http://testserver/api/v1/logbook/auth/google/callback"
        assert query["response_type"] == "code"
        assert query["scope"] == "openid email profile"
        assert query["code_challenge_method"] == "S256"
        assert len(query["code_challenge"]) == 43
        assert len(query["state"]) >= 43
        assert len(query["nonce"]) >= 32
        assert response.json()["expires_in"] == 600
        assert "carpulse_google_sign_in" in response.cookies

    async def test_a_json_client_gets_our_tokens_and_a_driver_account(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        callback = await consent(client, "alice")
        assert callback.startswith("http://testserver/api/v1/logbook/auth/google/callback?")

        response = await client.get(callback, headers=JSON)

        assert response.status_code == 200, response.text
        tokens = response.json()
        assert tokens["token_type"] == "bearer"
        assert tokens["expires_in"] == 30 * 60
        assert tokens["refresh_expires_in"] == 30 * 24 * 3600
        assert response.headers["cache-control"] == "no-store"
        me = await client.get(ME, headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200, me.text
        assert me.json()["email"] == "alice@example.com"
        assert me.json()["name"] == "Alice Driver"
        assert me.json()["sign_in"] == "google"
        identity = (await db.execute(select(DriverIdentity))).scalar_one()
        assert identity.subject == SANDBOX_USERS["alice"].subject
        assert str(identity.account_id) == me.json()["id"]

    async def test_a_browser_is_redirected_with_its_session_in_an_httponly_cookie(
        self, client: httpx.AsyncClient
    ) -> None:
        callback = await consent(client, "bob", redirect_to="/logbook/trips?view=month")

        response = await client.get(callback, headers={"Accept": "text/html"})

        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/logbook/trips?view=month"
        cookie = next(value for value in response.headers.get_list("set-cookie") if "carpulse_driver_session=" in value)
        assert "HttpOnly" in cookie
        assert "Path=/api/v1/logbook/auth" in cookie
        assert "SameSite=strict" in cookie
        assert "access_token" not in response.headers["location"]
        # The page asks for an access token with the cookie; the rotated refresh token stays in the cookie.
        refreshed = await client.post(f"{AUTH}/refresh")
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["refresh_token"] is None
        assert "carpulse_driver_session=" in refreshed.headers["set-cookie"]
        me = await client.get(ME, headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
        assert me.json()["email"] == "bob@example.com"

    async def test_without_redirect_to_the_browser_goes_home(self, client: httpx.AsyncClient) -> None:
        response = await client.get(await consent(client), headers={"Accept": "text/html"})

        assert response.headers["location"] == "/"

    async def test_the_plain_link_redirects_to_google(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{AUTH}/google/start", params={"redirect_to": "/logbook"})

        assert response.status_code == 303
        assert response.headers["location"].startswith("http://testserver/_sandbox/google/o/oauth2/v2/auth?")
        at_google = await client.get(f"{response.headers['location']}&sandbox_user=alice")
        answer = await client.get(at_google.headers["location"], headers={"Accept": "text/html"})
        assert answer.headers["location"] == "/logbook"

    async def test_a_replayed_state_is_refused(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        callback = await consent(client)
        assert (await client.get(callback, headers=JSON)).status_code == 200

        replay = await client.get(callback, headers=JSON)

        assert replay.status_code == 400
        assert replay.headers["content-type"] == "application/problem+json"
        assert replay.json()["type"] == "/problems/sign-in-state-invalid"
        assert await driver_rows(db) == (1, 1)

    async def test_an_unknown_state_is_refused_with_a_page_for_a_browser(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            f"{AUTH}/google/callback", params={"code": "4/0x", "state": "made-up"}, headers={"Accept": "text/html"}
        )

        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert "Sign-in expired or already used" in response.text

    async def test_a_callback_in_another_browser_signs_nobody_in(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        callback = await consent(client)
        transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as victim:
            response = await victim.get(callback, headers=JSON)

        assert response.status_code == 400
        assert response.json()["type"] == "/problems/sign-in-browser-mismatch"
        assert await driver_rows(db) == (0, 0)
        # The state is spent: the link works nowhere any more.
        assert (await client.get(callback, headers=JSON)).json()["type"] == "/problems/sign-in-state-invalid"

    async def test_cancelling_at_google_signs_nobody_in(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        started = await client.post(f"{AUTH}/google/initiate")
        at_google = await client.get(f"{started.json()['authorization_url']}&sandbox_deny=1")

        response = await client.get(at_google.headers["location"], headers=JSON)

        assert response.status_code == 400
        assert response.json()["type"] == "/problems/sign-in-declined"
        assert await driver_rows(db) == (0, 0)

    async def test_a_code_from_another_sign_in_is_refused_by_google(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        first = query_of(await consent(client, "alice"))
        second = query_of(await consent(client, "alice"))

        # The second sign-in's state with the first one's code: its PKCE verifier does not fit that code.
        response = await client.get(
            f"{AUTH}/google/callback", params={"code": first["code"], "state": second["state"]}, headers=JSON
        )

        assert response.status_code == 400
        assert response.json()["type"] == "/problems/google-sign-in-failed"
        assert await driver_rows(db) == (0, 0)

    async def test_an_address_off_the_allowlist_gets_403_and_no_account(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await client.get(await consent(client, "eve"), headers=JSON)

        assert response.status_code == 403
        assert response.json()["type"] == "/problems/email-not-allowed"
        assert await driver_rows(db) == (0, 0)

    @pytest.mark.parametrize(
        "redirect_to", ["https://evil.example/", "//evil.example/", "/\\evil.example", "logbook", "/a\r\nSet-Cookie:x"]
    )
    async def test_redirect_to_must_be_a_path_on_this_site(self, client: httpx.AsyncClient, redirect_to: str) -> None:
        response = await client.post(f"{AUTH}/google/initiate", json={"redirect_to": redirect_to})
        link = await client.get(f"{AUTH}/google/start", params={"redirect_to": redirect_to})

        assert response.status_code == 422
        assert link.status_code == 422


class TestIdTokenSignIn:
    @pytest.mark.parametrize(
        "audience", [SANDBOX_GOOGLE_IOS_CLIENT_ID, SANDBOX_GOOGLE_CLIENT_ID, SANDBOX_GOOGLE_WEB_CLIENT_ID]
    )
    async def test_each_of_our_clients_ids_is_accepted(self, client: httpx.AsyncClient, audience: str) -> None:
        token = await google_id_token(client, "alice", audience=audience)

        response = await client.post(f"{AUTH}/google/token", json={"id_token": token})

        assert response.status_code == 200, response.text
        assert response.json()["refresh_token"]
        assert response.headers["cache-control"] == "no-store"

    async def test_signing_in_again_is_the_same_driver(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        first = await client.get(ME, headers=await sign_in(client, "alice"))
        again = await client.get(ME, headers=await sign_in(client, "alice"))
        other = await client.get(ME, headers=await sign_in(client, "bob"))

        assert first.json()["id"] == again.json()["id"] != other.json()["id"]
        assert await driver_rows(db) == (2, 2)

    @pytest.mark.parametrize(
        ("forgery", "reason"),
        [
            (Forgery.wrong_key, "key Google does not publish"),
            (Forgery.published_kid_wrong_key, "signature does not verify"),
            (Forgery.other_audience, "another application"),
            (Forgery.expired, "expired"),
            (Forgery.alg_none, "RS256"),
            (Forgery.hs256, "RS256"),
            (Forgery.wrong_issuer, "not issued by Google"),
            (Forgery.future_iat, "future"),
        ],
    )
    async def test_a_forged_token_gets_401_and_no_account(
        self, client: httpx.AsyncClient, db: AsyncSession, forgery: Forgery, reason: str
    ) -> None:
        token = await google_id_token(client, "alice", forgery=forgery.value)

        response = await client.post(f"{AUTH}/google/token", json={"id_token": token})

        assert response.status_code == 401, response.text
        assert response.json()["type"] == "/problems/invalid-id-token"
        assert reason in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"
        assert await driver_rows(db) == (0, 0)

    @pytest.mark.parametrize("token", ["not-a-jwt", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "a.b.c"])
    async def test_garbage_gets_401(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.post(f"{AUTH}/google/token", json={"id_token": token})

        assert response.status_code == 401
        assert response.json()["type"] == "/problems/invalid-id-token"

    async def test_an_unverified_address_gets_403_and_no_account(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        for token in (
            await google_id_token(client, "carol"),
            await google_id_token(client, "alice", forgery=Forgery.unverified_email.value),
        ):
            response = await client.post(f"{AUTH}/google/token", json={"id_token": token})

            assert response.status_code == 403
            assert response.json()["type"] == "/problems/email-unverified"
        assert await driver_rows(db) == (0, 0)

    async def test_an_address_off_the_allowlist_gets_403_and_no_account(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await client.post(f"{AUTH}/google/token", json={"id_token": await google_id_token(client, "eve")})

        assert response.status_code == 403
        assert response.json()["type"] == "/problems/email-not-allowed"
        assert await driver_rows(db) == (0, 0)

    async def test_a_token_without_an_address_gets_403(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = google_fake(app)
        token = fake.mint_id_token("alice", scopes=("openid",), issuer=fake.issuer)

        response = await client.post(f"{AUTH}/google/token", json={"id_token": token})

        assert response.status_code == 403
        assert "e-mail" in response.json()["detail"]

    async def test_an_account_name_held_by_another_role_is_a_conflict(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        subject = SANDBOX_USERS["alice"].subject
        db.add(Account(username=f"google:{subject}", email="x@example.com", role=AccountRole.api_client))
        await db.commit()

        response = await client.post(f"{AUTH}/google/token", json={"id_token": await google_id_token(client)})

        assert response.status_code == 409
        assert response.json()["type"] == "/problems/driver-identity-conflict"

    async def test_concurrent_first_sign_ins_make_one_driver(self, committed_client: httpx.AsyncClient) -> None:
        tokens = [await google_id_token(committed_client, "bob") for _ in range(4)]

        answers = await asyncio.gather(
            *(committed_client.post(f"{AUTH}/google/token", json={"id_token": token}) for token in tokens)
        )
        identities = [
            (
                await committed_client.get(ME, headers={"Authorization": f"Bearer {answer.json()['access_token']}"})
            ).json()
            for answer in answers
        ]

        assert {answer.status_code for answer in answers} == {200}, [answer.text for answer in answers]
        assert len({identity["id"] for identity in identities}) == 1

    async def test_a_disabled_driver_cannot_sign_in(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        me = await client.get(ME, headers=await sign_in(client, "alice"))
        await db.execute(update(Account).where(Account.email == "alice@example.com").values(is_active=False))
        await db.commit()

        response = await client.post(f"{AUTH}/google/token", json={"id_token": await google_id_token(client)})

        assert me.status_code == 200
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/driver-disabled"


class TestKeyRotation:
    async def test_a_token_of_a_new_key_verifies_after_one_refetch(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = google_fake(app)
        await sign_in(client, "alice")
        assert fake.requests["/oauth2/v3/certs"] == 1

        rotated = await client.post("/_sandbox/google/_control/keys/rotate")
        headers = await sign_in(client, "bob")
        await sign_in(client, "alice")

        assert rotated.status_code == 200
        assert (await client.get(ME, headers=headers)).json()["email"] == "bob@example.com"
        assert fake.requests["/oauth2/v3/certs"] == 2

    async def test_a_retired_key_is_refused_once_the_cache_has_expired(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        fake = google_fake(app)
        # Google's max-age decides how long a retired key is still believed: here, not at all.
        fake.jwks_max_age_seconds = 0
        await client.post("/_sandbox/google/_control/keys/rotate")
        await client.post("/_sandbox/google/_control/keys/retire")
        signed_by_previous = fake.mint_signed_by_oldest("alice", issuer=fake.issuer)
        assert (await client.post(f"{AUTH}/google/token", json={"id_token": signed_by_previous})).status_code == 200

        await client.post("/_sandbox/google/_control/keys/retire")
        response = await client.post(f"{AUTH}/google/token", json={"id_token": signed_by_previous})

        assert response.status_code == 401
        assert "does not publish" in response.json()["detail"]
        assert (
            await client.post(f"{AUTH}/google/token", json={"id_token": await google_id_token(client)})
        ).status_code == 200

    async def test_a_flood_of_unknown_key_ids_refetches_once(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = google_fake(app)
        await sign_in(client, "alice")

        for _ in range(5):
            token = await google_id_token(client, "alice", forgery=Forgery.wrong_key.value)
            assert (await client.post(f"{AUTH}/google/token", json={"id_token": token})).status_code == 401

        assert fake.requests["/oauth2/v3/certs"] == 2


class TestAllowlist:
    @pytest.mark.parametrize(
        ("email", "entries", "allowed"),
        [
            ("alice@example.com", ["alice@example.com"], True),
            ("Alice@Example.COM", ["alice@example.com"], True),
            ("alice@example.com", ["bob@example.com"], False),
            ("dana@fleet.example.org", ["@fleet.example.org"], True),
            ("dana@fleet.example.org", ["@example.org"], False),
            ("dana@example.org.evil", ["@example.org"], False),
            ("alice@example.com", [], False),
            ("not-an-address", ["@example.com"], False),
        ],
    )
    def test_exact_addresses_and_domains(self, email: str, entries: list[str], allowed: bool) -> None:
        assert email_allowed(email, entries) is allowed


class TestConfiguredAllowlist:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"logbook_auth": {"allowed_emails": ["Bob@Example.com", "@fleet.example.org"]}}

    @pytest.mark.parametrize(("user", "status"), [("alice", 403), ("bob", 200), ("dana", 200), ("eve", 403)])
    async def test_exact_entries_and_domain_entries_decide(
        self, client: httpx.AsyncClient, user: str, status: int
    ) -> None:
        response = await client.post(f"{AUTH}/google/token", json={"id_token": await google_id_token(client, user)})

        assert response.status_code == status, response.text


class TestRefresh:
    async def test_a_refresh_rotates_the_token(self, client: httpx.AsyncClient) -> None:
        first = await sign_in_tokens(client)

        response = await client.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})

        assert response.status_code == 200, response.text
        second = response.json()
        assert second["refresh_token"] not in (None, first["refresh_token"])
        assert (await client.get(ME, headers={"Authorization": f"Bearer {second['access_token']}"})).status_code == 200
        third = await client.post(f"{AUTH}/refresh", json={"refresh_token": second["refresh_token"]})
        assert third.status_code == 200

    async def test_reusing_a_rotated_token_revokes_the_family(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        first = await sign_in_tokens(client)
        other_device = await sign_in_tokens(client)
        second = (await client.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})).json()

        reuse = await client.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})
        successor = await client.post(f"{AUTH}/refresh", json={"refresh_token": second["refresh_token"]})
        elsewhere = await client.post(f"{AUTH}/refresh", json={"refresh_token": other_device["refresh_token"]})

        assert reuse.status_code == 401
        assert reuse.json()["type"] == "/problems/refresh-token-reused"
        assert successor.status_code == 401
        assert successor.json()["type"] == "/problems/invalid-refresh-token"
        # Another sign-in (another device) is another family: it lives on.
        assert elsewhere.status_code == 200
        revoked = await db.scalar(
            select(func.count()).select_from(DriverRefreshToken).where(DriverRefreshToken.revoked_at.is_not(None))
        )
        assert revoked == 2

    async def test_only_hashes_are_stored(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        tokens = await sign_in_tokens(client)

        stored = (await db.execute(select(DriverRefreshToken.token_hash))).scalars().all()

        assert len(stored) == 1
        assert tokens["refresh_token"] not in stored
        assert len(stored[0]) == 64

    async def test_an_expired_or_unknown_token_is_refused(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        tokens = await sign_in_tokens(client)
        await db.execute(update(DriverRefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await db.commit()

        expired = await client.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]})
        unknown = await client.post(f"{AUTH}/refresh", json={"refresh_token": "made-up"})
        nothing = await client.post(f"{AUTH}/refresh")

        for response in (expired, unknown, nothing):
            assert response.status_code == 401
            assert response.json()["type"] == "/problems/invalid-refresh-token"

    async def test_logout_ends_the_sign_in(self, client: httpx.AsyncClient) -> None:
        tokens = await sign_in_tokens(client)

        out = await client.post(f"{AUTH}/logout", json={"refresh_token": tokens["refresh_token"]})
        again = await client.post(f"{AUTH}/logout", json={"refresh_token": tokens["refresh_token"]})
        refreshed = await client.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]})

        assert out.status_code == again.status_code == 204
        assert refreshed.status_code == 401

    async def test_logout_of_a_browser_clears_its_cookie(self, client: httpx.AsyncClient) -> None:
        await client.get(await consent(client), headers={"Accept": "text/html"})

        out = await client.post(f"{AUTH}/logout")
        refreshed = await client.post(f"{AUTH}/refresh")

        assert out.status_code == 204
        assert 'carpulse_driver_session=""' in out.headers["set-cookie"]
        assert refreshed.status_code == 401

    async def test_an_address_taken_off_the_allowlist_gets_no_new_tokens(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        tokens = await sign_in_tokens(client, "alice")
        settings: Settings = app.state.carpulse.settings
        settings.logbook_auth.allowed_emails = ["bob@example.com"]

        response = await client.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]})

        assert response.status_code == 403
        assert response.json()["type"] == "/problems/email-not-allowed"


class TestDriverAccount:
    async def test_no_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(ME)

        assert response.status_code == 401
        assert response.json()["type"] == "/problems/invalid-token"

    async def test_an_admin_is_no_driver(self, client: httpx.AsyncClient, admin_token: str) -> None:
        response = await client.get(ME, headers={"Authorization": f"Bearer {admin_token}"})

        assert response.status_code == 403
        assert response.json()["type"] == "/problems/driver-required"


class TestSignInOff:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"logbook_auth": {"enabled": False}}

    async def test_every_call_is_the_one_local_driver(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        first = await client.get(ME)
        second = await client.get(ME)

        assert first.status_code == 200, first.text
        assert first.json()["sign_in"] == "local"
        assert first.json()["id"] == second.json()["id"]
        assert await driver_rows(db) == (1, 0)

    async def test_a_signed_in_driver_is_still_themselves(self, client: httpx.AsyncClient) -> None:
        response = await client.get(ME, headers=await sign_in(client, "bob"))

        assert response.json()["email"] == "bob@example.com"

    async def test_concurrent_first_calls_make_one_driver(self, committed_client: httpx.AsyncClient) -> None:
        answers = await asyncio.gather(*(committed_client.get(ME) for _ in range(6)))

        assert {response.status_code for response in answers} == {200}
        assert len({response.json()["id"] for response in answers}) == 1


class TestProductionSettings:
    def test_production_refuses_sign_in_off(self) -> None:
        values = {**production_overrides(), "logbook_auth": {"enabled": False, "allowed_emails": ["@corp.example"]}}
        with pytest.raises(ValidationError) as refused:
            Settings(_env_file=None, **values)  # type: ignore[arg-type]

        assert any("CARPULSE_LOGBOOK_AUTH__ENABLED" in problem for problem in settings_problems(refused.value))
        assert Settings(_env_file=None, **production_overrides()).is_production  # type: ignore[arg-type]

    def test_production_refuses_the_sandbox_clients_and_the_development_allowlist(self) -> None:
        values = production_overrides()
        del values["google"], values["logbook_auth"]
        with pytest.raises(ValidationError) as refused:
            Settings(_env_file=None, **values)  # type: ignore[arg-type]

        problems = " ".join(settings_problems(refused.value))
        for variable in (
            "CARPULSE_GOOGLE__WEB_CLIENT_SECRET",
            "CARPULSE_GOOGLE__WEB_CLIENT_ID",
            "CARPULSE_GOOGLE__IOS_CLIENT_ID",
            "CARPULSE_GOOGLE__CLIENT_ID",
            "CARPULSE_LOGBOOK_AUTH__ALLOWED_EMAILS",
        ):
            assert variable in problems

    def test_the_seeds_names_are_honoured(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AUTH_ENABLED", "false")
        monkeypatch.setenv("AUTH_ALLOWED_EMAILS", "Jane@Corp.example,@fleet.example")
        monkeypatch.setenv("GOOGLE_WEB_CLIENT_ID", "1-web.apps.googleusercontent.com")
        monkeypatch.setenv("GOOGLE_IOS_CLIENT_ID", "1-ios.apps.googleusercontent.com")
        monkeypatch.setenv("GOOGLE_OAUTH_CLIENT_ID", "")
        monkeypatch.setenv("GOOGLE_OAUTH_CLIENT_SECRET", "GOCSPX-real")

        settings = Settings(_env_file=None)  # type: ignore[call-arg]

        assert settings.logbook_auth.enabled is False
        assert settings.logbook_auth.allowed_emails == ["jane@corp.example", "@fleet.example"]
        assert settings.google.client_ids == ("1-web.apps.googleusercontent.com", "1-ios.apps.googleusercontent.com")
        assert settings.google.web_client_secret.get_secret_value() == "GOCSPX-real"

    @pytest.mark.parametrize("entry", ["nobody", "@", "@localhost", "a@b@c.example"])
    def test_an_unreadable_allowlist_entry_is_refused(self, entry: str) -> None:
        with pytest.raises(ValueError, match="neither an address"):
            Settings(_env_file=None, logbook_auth={"allowed_emails": [entry]})  # type: ignore[call-arg]

    def test_real_google_is_the_default_without_the_sandbox(self) -> None:
        settings = Settings(_env_file=None, sandbox={"enabled": False})  # type: ignore[call-arg]

        assert settings.google_discovery_url == "https://accounts.google.com/.well-known/openid-configuration"
