"""The Google fake behaves like Google's OAuth 2.0 / OpenID Connect endpoints."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from fakes.google import SANDBOX_USERS, Forgery, GoogleClient, GoogleFake

ROOT = "http://fake"
WEB = GoogleClient("web.apps.googleusercontent.com", "web-secret", ("https://api.example/callback",))
IOS = GoogleClient("ios.apps.googleusercontent.com")
REDIRECT_URI = WEB.redirect_uris[0]
VERIFIER = "a-verifier-of-enough-length-to-be-a-real-pkce-verifier-0123456789"


def challenge(verifier: str = VERIFIER) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def fake() -> GoogleFake:
    return GoogleFake(clients=[WEB, IOS])


@pytest.fixture
async def http(fake: GoogleFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=ROOT) as client:
        yield client


def authorize_params(**extra: str) -> dict[str, str]:
    return {
        "client_id": WEB.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid email profile",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": challenge(),
        "code_challenge_method": "S256",
        **extra,
    }


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def code_for(http: httpx.AsyncClient, user: str = "alice", **extra: str) -> str:
    return redirect_query(await http.get("/o/oauth2/v2/auth", params=authorize_params(sandbox_user=user, **extra)))[
        "code"
    ]


def token_form(code: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": WEB.client_id,
        "client_secret": WEB.client_secret or "",
        "redirect_uri": REDIRECT_URI,
        "code_verifier": VERIFIER,
        **extra,
    }


async def verified(http: httpx.AsyncClient, token: str, audience: str) -> dict[str, Any]:
    """Verify as a relying party would: the kid's key from the fake's JWKS, RS256 only."""
    jwks = (await http.get("/oauth2/v3/certs")).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=ROOT)
    return claims


class TestDiscovery:
    async def test_names_every_endpoint_under_its_root_and_its_issuer(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/.well-known/openid-configuration")

        document = response.json()
        assert document["issuer"] == ROOT
        assert document["authorization_endpoint"] == f"{ROOT}/o/oauth2/v2/auth"
        assert document["token_endpoint"] == f"{ROOT}/token"
        assert document["jwks_uri"] == f"{ROOT}/oauth2/v3/certs"
        assert document["userinfo_endpoint"] == f"{ROOT}/v1/userinfo"
        assert document["id_token_signing_alg_values_supported"] == ["RS256"]
        assert "S256" in document["code_challenge_methods_supported"]
        assert response.headers["cache-control"] == "public, max-age=3600"

    async def test_a_configured_issuer_is_named_instead(self) -> None:
        fake = GoogleFake(clients=[WEB], issuer="http://api.test/_sandbox/google")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=ROOT) as http:
            document = (await http.get("/.well-known/openid-configuration")).json()

        assert document["issuer"] == "http://api.test/_sandbox/google"


class TestKeys:
    async def test_two_rsa_keys_are_published_with_a_max_age(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/oauth2/v3/certs")

        keys = response.json()["keys"]
        assert len(keys) == 2
        assert {(key["kty"], key["alg"], key["use"], key["e"]) for key in keys} == {("RSA", "RS256", "sig", "AQAB")}
        assert len({key["kid"] for key in keys}) == 2
        assert all(len(key["kid"]) == 40 for key in keys)
        assert "max-age=21600" in response.headers["cache-control"]

    async def test_rotation_signs_with_a_new_published_key_and_retirement_drops_the_oldest(
        self, http: httpx.AsyncClient, fake: GoogleFake
    ) -> None:
        before = [key["kid"] for key in (await http.get("/oauth2/v3/certs")).json()["keys"]]
        old_token = fake.mint_id_token("alice", issuer=ROOT)

        rotated = (await http.post("/_control/keys/rotate")).json()
        new_token = fake.mint_id_token("alice", issuer=ROOT)

        assert rotated["signing_kid"] not in before
        assert jwt.get_unverified_header(new_token)["kid"] == rotated["signing_kid"]
        assert set(rotated["published"]) == {*before, rotated["signing_kid"]}
        # Both verify while both keys are published.
        assert (await verified(http, old_token, IOS.client_id))["sub"] == SANDBOX_USERS["alice"].subject
        assert (await verified(http, new_token, IOS.client_id))["sub"] == SANDBOX_USERS["alice"].subject

        retired = (await http.post("/_control/keys/retire")).json()
        retired_again = (await http.post("/_control/keys/retire")).json()

        assert len(retired["published"]) == 2
        assert retired_again["published"] == [rotated["signing_kid"]]
        assert jwt.get_unverified_header(old_token)["kid"] not in retired_again["published"]
        # The signing key is never retired.
        assert (await http.post("/_control/keys/retire")).json()["retired_kid"] is None


class TestConsentPage:
    async def test_lists_the_sandbox_users_and_keeps_the_request(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/o/oauth2/v2/auth", params=authorize_params())

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        for name in ("alice", "bob", "eve", "carol"):
            assert f'name="sandbox_user" value="{name}"' in response.text
        assert '<input type="hidden" name="state" value="state-1">' in response.text
        assert '<input type="hidden" name="nonce" value="nonce-1">' in response.text
        assert 'action="/o/oauth2/v2/auth"' in response.text

    async def test_an_unknown_client_gets_an_error_page_and_no_redirect(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/o/oauth2/v2/auth", params=authorize_params(client_id="nobody"))

        assert response.status_code == 401
        assert "invalid_client" in response.text
        assert "location" not in response.headers

    async def test_an_unregistered_redirect_uri_gets_an_error_page(self, http: httpx.AsyncClient) -> None:
        response = await http.get(
            "/o/oauth2/v2/auth", params=authorize_params(redirect_uri="https://evil.example/callback")
        )

        assert response.status_code == 400
        assert "redirect_uri_mismatch" in response.text
        assert "location" not in response.headers

    async def test_cancel_redirects_with_access_denied_and_the_state(self, http: httpx.AsyncClient) -> None:
        query = redirect_query(await http.get("/o/oauth2/v2/auth", params=authorize_params(sandbox_deny="1")))

        assert query == {"error": "access_denied", "state": "state-1"}

    async def test_a_scope_google_does_not_know_is_refused(self, http: httpx.AsyncClient) -> None:
        query = redirect_query(
            await http.get("/o/oauth2/v2/auth", params=authorize_params(scope="openid drive", sandbox_user="alice"))
        )

        assert query["error"] == "invalid_scope"


class TestCodeExchange:
    async def test_a_code_buys_an_id_token_with_every_claim(self, http: httpx.AsyncClient) -> None:
        query = redirect_query(await http.get("/o/oauth2/v2/auth", params=authorize_params(sandbox_user="alice")))
        assert query["state"] == "state-1"
        assert query["code"].startswith("4/0")

        response = await http.post("/token", data=token_form(query["code"]))

        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["access_token"].startswith("ya29.")
        assert "https://www.googleapis.com/auth/userinfo.email" in body["scope"]
        assert jwt.get_unverified_header(body["id_token"])["alg"] == "RS256"
        claims = await verified(http, body["id_token"], WEB.client_id)
        alice = SANDBOX_USERS["alice"]
        assert claims["sub"] == alice.subject
        assert claims["azp"] == WEB.client_id
        assert claims["email"] == "alice@example.com"
        assert claims["email_verified"] is True
        assert claims["name"] == "Alice Driver"
        assert claims["picture"] == alice.picture
        assert claims["nonce"] == "nonce-1"
        assert claims["exp"] - claims["iat"] == 3600
        assert abs(claims["iat"] - time.time()) < 60

    async def test_the_access_token_opens_userinfo(self, http: httpx.AsyncClient) -> None:
        body = (await http.post("/token", data=token_form(await code_for(http, "carol")))).json()

        response = await http.get("/v1/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})

        assert response.json()["email_verified"] is False
        assert response.json()["sub"] == SANDBOX_USERS["carol"].subject
        assert (await http.get("/v1/userinfo", headers={"Authorization": "Bearer ya29.nope"})).status_code == 401

    async def test_client_secret_basic_is_accepted(self, http: httpx.AsyncClient) -> None:
        form = token_form(await code_for(http))
        del form["client_id"], form["client_secret"]
        credentials = base64.b64encode(f"{WEB.client_id}:{WEB.client_secret}".encode()).decode()

        response = await http.post("/token", data=form, headers={"Authorization": f"Basic {credentials}"})

        assert response.status_code == 200, response.text

    async def test_a_code_works_once(self, http: httpx.AsyncClient) -> None:
        code = await code_for(http)
        assert (await http.post("/token", data=token_form(code))).status_code == 200

        again = await http.post("/token", data=token_form(code))

        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"

    @pytest.mark.parametrize(
        ("change", "status", "error"),
        [
            ({"code_verifier": "another-verifier-entirely-0123456789-0123456789"}, 400, "invalid_grant"),
            ({"code_verifier": ""}, 400, "invalid_grant"),
            ({"client_secret": "wrong"}, 401, "invalid_client"),
            ({"client_id": "nobody.apps.googleusercontent.com"}, 401, "invalid_client"),
            ({"redirect_uri": "https://api.example/other"}, 400, "redirect_uri_mismatch"),
            ({"grant_type": "refresh_token"}, 400, "unsupported_grant_type"),
            ({"code": "4/0made-up"}, 400, "invalid_grant"),
        ],
    )
    async def test_refusals_read_like_googles(
        self, http: httpx.AsyncClient, change: dict[str, str], status: int, error: str
    ) -> None:
        response = await http.post("/token", data={**token_form(await code_for(http)), **change})

        assert response.status_code == status
        assert response.json()["error"] == error
        assert response.json()["error_description"]


class TestMinting:
    async def test_a_phone_token_is_for_the_ios_client_by_default(self, http: httpx.AsyncClient) -> None:
        token = (await http.post("/_control/id-token", json={"sandbox_user": "bob"})).json()["id_token"]

        claims = await verified(http, token, IOS.client_id)

        assert claims["email"] == "bob@example.com"
        assert "nonce" not in claims

    async def test_an_unknown_user_is_404(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/_control/id-token", json={"sandbox_user": "mallory"})

        assert response.status_code == 404

    @pytest.mark.parametrize("forgery", list(Forgery))
    async def test_every_forgery_fails_a_relying_partys_check(self, http: httpx.AsyncClient, forgery: Forgery) -> None:
        token = (await http.post("/_control/id-token", json={"forgery": forgery.value})).json()["id_token"]

        try:
            claims = await verified(http, token, IOS.client_id)
        except (jwt.PyJWTError, KeyError):
            return
        # The claims of these verify; their content is what is wrong.
        if forgery is Forgery.unverified_email:
            assert claims["email_verified"] is False
        elif forgery is Forgery.future_iat:
            assert claims["iat"] > time.time() + 1800
        else:
            pytest.fail(f"{forgery} verified")

    async def test_wrong_key_names_a_kid_that_is_not_published(self, http: httpx.AsyncClient, fake: GoogleFake) -> None:
        token = fake.mint_forged(Forgery.wrong_key, issuer=ROOT)
        published = {key["kid"] for key in fake.jwks()["keys"]}

        assert jwt.get_unverified_header(token)["kid"] not in published

    async def test_alg_none_is_unsigned(self, fake: GoogleFake) -> None:
        token = fake.mint_forged(Forgery.alg_none)

        assert jwt.get_unverified_header(token)["alg"] == "none"
        assert token.endswith(".")
