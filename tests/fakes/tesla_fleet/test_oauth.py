from __future__ import annotations

import re

import httpx
import jwt
import pytest

from fakes.tesla_fleet import TeslaFleetFake
from tests.fakes.tesla_fleet.flows import (
    ALL_SCOPES,
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    Clock,
    authorization_code,
    authorize_params,
    bearer,
    code_form,
    login,
    pkce_pair,
    redirect_query,
    refresh,
)


def client_for(fake: TeslaFleetFake) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://fake")


class TestConsentPage:
    async def test_lists_every_account_with_region_and_vehicle_count(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        response = await http.get("/oauth2/v3/authorize", params=authorize_params())

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        for name, account in fake.accounts.items():
            assert f'name="sandbox_account" value="{name}"' in response.text
            assert f"<td>{account.region.upper()}</td><td>{len(account.vehicles)}</td>" in response.text
        assert 'name="sandbox_deny" value="1"' in response.text

    async def test_form_carries_the_original_request(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/oauth2/v3/authorize", params=authorize_params(state="keep-me"))

        assert '<input type="hidden" name="state" value="keep-me">' in response.text
        assert '<input type="hidden" name="client_id" value="carpulse-sandbox">' in response.text
        assert 'action="/oauth2/v3/authorize"' in response.text


class TestAuthorizeRedirect:
    async def test_consent_redirects_with_a_region_prefixed_code_and_the_state(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/oauth2/v3/authorize", params=authorize_params(sandbox_account="us"))

        query = redirect_query(response)
        assert re.fullmatch(r"NA_[0-9a-f]{64}", query["code"])
        assert query["state"] == "state-123"
        assert query["locale"] == "en-US"
        assert query["issuer"] == "http://fake/oauth2/v3"

    async def test_deny_redirects_with_access_denied(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/oauth2/v3/authorize", params=authorize_params(sandbox_deny="1"))

        query = redirect_query(response)
        assert query["error"] == "access_denied"
        assert query["error_description"]
        assert query["state"] == "state-123"
        assert "code" not in query

    async def test_unknown_account_is_a_400_page(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/oauth2/v3/authorize", params=authorize_params(sandbox_account="nobody"))

        assert response.status_code == 400
        assert "nobody" in response.text


class TestAuthorizeValidation:
    @pytest.mark.parametrize(
        "overrides",
        [
            {"client_id": "someone-else"},
            {"redirect_uri": "https://evil.example/steal"},
            {"redirect_uri": "ftp://carpulse.example/api/v1/tesla/oauth/callback"},
            {"state": ""},
        ],
    )
    async def test_never_redirects_for_an_unknown_client_or_uri(
        self, http: httpx.AsyncClient, overrides: dict[str, str]
    ) -> None:
        response = await http.get("/oauth2/v3/authorize", params=authorize_params(sandbox_account="solo", **overrides))

        assert response.status_code == 400
        assert "location" not in response.headers

    async def test_registered_uris_must_match_exactly(self) -> None:
        fake = TeslaFleetFake(redirect_uris=["https://app.example/cb"])
        async with client_for(fake) as http:
            other = await http.get("/oauth2/v3/authorize", params=authorize_params(sandbox_account="solo"))
            exact = await http.get(
                "/oauth2/v3/authorize",
                params=authorize_params(sandbox_account="solo", redirect_uri="https://app.example/cb"),
            )

        assert other.status_code == 400
        assert exact.status_code == 302
        assert exact.headers["location"].startswith("https://app.example/cb?code=EU_")

    @pytest.mark.parametrize(
        ("overrides", "error"),
        [
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"scope": "openid teleport"}, "invalid_scope"),
            ({"scope": ""}, "invalid_scope"),
            ({"code_challenge": "abc", "code_challenge_method": "plain"}, "invalid_request"),
        ],
    )
    async def test_bad_parameters_redirect_with_an_error(
        self, http: httpx.AsyncClient, overrides: dict[str, str], error: str
    ) -> None:
        response = await http.get("/oauth2/v3/authorize", params=authorize_params(sandbox_account="solo", **overrides))

        assert redirect_query(response)["error"] == error


class TestCodeExchange:
    async def test_returns_rs256_tokens_with_the_reference_claims(
        self, http: httpx.AsyncClient, fake: TeslaFleetFake
    ) -> None:
        tokens = await login(http, "solo")

        assert set(tokens) >= {"access_token", "refresh_token", "id_token", "expires_in", "token_type"}
        assert tokens["expires_in"] == 28800
        assert tokens["token_type"] == "Bearer"
        assert re.fullmatch(r"EU_[0-9a-f]{64}", tokens["refresh_token"])
        assert jwt.get_unverified_header(tokens["access_token"])["alg"] == "RS256"
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert claims["sub"] == fake.accounts["solo"].subject
        assert claims["scp"] == ALL_SCOPES.split()
        assert claims["ou_code"] == "EU"
        assert claims["azp"] == CLIENT_ID
        assert claims["iss"] == "http://fake/oauth2/v3/nts"
        assert claims["aud"] == ["http://fake/na", "http://fake/eu", "http://fake/oauth2/v3/userinfo"]
        assert claims["exp"] - claims["iat"] == 28800

    async def test_lifetime_is_configurable(self) -> None:
        async with client_for(TeslaFleetFake(access_token_lifetime_seconds=60)) as http:
            tokens = await login(http, "solo")

        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert tokens["expires_in"] == 60
        assert claims["exp"] - claims["iat"] == 60

    async def test_no_refresh_token_without_offline_access(self, http: httpx.AsyncClient) -> None:
        tokens = await login(http, "solo", scope="openid vehicle_device_data")

        assert "refresh_token" not in tokens
        assert "id_token" in tokens

    async def test_accepts_a_json_body(self, http: httpx.AsyncClient) -> None:
        code = await authorization_code(http, "solo")

        response = await http.post("/oauth2/v3/token", json=code_form(code))

        assert response.status_code == 200
        assert response.json()["access_token"]

    @pytest.mark.parametrize(
        ("overrides", "status", "error"),
        [
            (
                {"redirect_uri": "https://carpulse.example/other/api/v1/tesla/oauth/callback"},
                400,
                "invalid_redirect_url",
            ),
            ({"audience": ""}, 400, "invalid_request"),
            ({"client_secret": "wrong"}, 401, "unauthorized_client"),
            ({"client_secret": ""}, 401, "unauthorized_client"),
            ({"client_id": "someone-else"}, 401, "unauthorized_client"),
            ({"code": "EU_made-up"}, 400, "invalid_auth_code"),
            ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ],
    )
    async def test_errors_follow_the_reference(
        self, http: httpx.AsyncClient, overrides: dict[str, str], status: int, error: str
    ) -> None:
        code = await authorization_code(http, "solo")

        response = await http.post("/oauth2/v3/token", data=code_form(code, **overrides))

        assert response.status_code == status
        assert response.json()["error"] == error
        assert response.json()["error_description"]


class TestCodeSingleUse:
    async def test_a_code_works_once(self, http: httpx.AsyncClient) -> None:
        code = await authorization_code(http, "solo")

        first = await http.post("/oauth2/v3/token", data=code_form(code))
        second = await http.post("/oauth2/v3/token", data=code_form(code))

        assert first.status_code == 200
        assert second.status_code == 400
        assert second.json()["error"] == "invalid_auth_code"

    async def test_a_code_expires_after_ten_minutes(self) -> None:
        clock = Clock()
        async with client_for(TeslaFleetFake(clock=clock)) as http:
            fresh, stale = await authorization_code(http, "solo"), await authorization_code(http, "solo")
            clock.advance(minutes=9)
            in_time = await http.post("/oauth2/v3/token", data=code_form(fresh))
            clock.advance(minutes=2)
            too_late = await http.post("/oauth2/v3/token", data=code_form(stale))

        assert in_time.status_code == 200
        assert too_late.status_code == 400
        assert too_late.json()["error"] == "invalid_auth_code"


class TestPkce:
    async def test_verifier_replaces_the_secret(self, http: httpx.AsyncClient) -> None:
        verifier, challenge = pkce_pair()
        code = await authorization_code(http, "solo", code_challenge=challenge, code_challenge_method="S256")

        response = await http.post("/oauth2/v3/token", data=code_form(code, client_secret="", code_verifier=verifier))

        assert response.status_code == 200

    async def test_wrong_or_missing_verifier_is_refused_even_with_the_secret(self, http: httpx.AsyncClient) -> None:
        _, challenge = pkce_pair()
        code = await authorization_code(http, "solo", code_challenge=challenge, code_challenge_method="S256")

        wrong = await http.post("/oauth2/v3/token", data=code_form(code, code_verifier="not-the-verifier"))
        missing = await http.post("/oauth2/v3/token", data=code_form(code))

        assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
        assert (missing.status_code, missing.json()["error"]) == (400, "invalid_grant")

    async def test_verifier_without_a_challenge_is_no_client_authentication(self, http: httpx.AsyncClient) -> None:
        code = await authorization_code(http, "solo")

        response = await http.post("/oauth2/v3/token", data=code_form(code, client_secret="", code_verifier="x" * 43))

        assert (response.status_code, response.json()["error"]) == (401, "unauthorized_client")


class TestRefreshRotation:
    async def test_refresh_returns_a_new_pair(self, http: httpx.AsyncClient) -> None:
        tokens = await login(http, "solo")

        response = await refresh(http, tokens["refresh_token"])

        assert response.status_code == 200
        renewed = response.json()
        assert re.fullmatch(r"EU_[0-9a-f]{64}", renewed["refresh_token"])
        assert renewed["refresh_token"] != tokens["refresh_token"]
        assert renewed["access_token"] != tokens["access_token"]
        assert (await http.get("/eu/api/1/vehicles", headers=bearer(renewed))).status_code == 200

    async def test_most_recently_used_token_has_a_grace_period(self, http: httpx.AsyncClient) -> None:
        tokens = await login(http, "solo")
        assert (await refresh(http, tokens["refresh_token"])).status_code == 200

        again = await refresh(http, tokens["refresh_token"])

        assert again.status_code == 200

    async def test_old_token_is_rejected_once_its_successor_was_used(self, http: httpx.AsyncClient) -> None:
        first = (await login(http, "solo"))["refresh_token"]
        second = (await refresh(http, first)).json()["refresh_token"]
        assert (await refresh(http, second)).status_code == 200

        response = await refresh(http, first)

        assert response.status_code == 401
        assert response.json()["error"] == "login_required"

    async def test_unused_sibling_is_superseded_too(self, http: httpx.AsyncClient) -> None:
        first = (await login(http, "solo"))["refresh_token"]
        sibling = (await refresh(http, first)).json()["refresh_token"]
        newest = (await refresh(http, first)).json()["refresh_token"]
        assert (await refresh(http, newest)).status_code == 200

        response = await refresh(http, sibling)

        assert (response.status_code, response.json()["error"]) == (401, "login_required")

    async def test_grace_ends_after_24_hours(self) -> None:
        clock = Clock()
        async with client_for(TeslaFleetFake(clock=clock)) as http:
            first = (await login(http, "solo"))["refresh_token"]
            await refresh(http, first)
            clock.advance(hours=23)
            within = await refresh(http, first)
            clock.advance(hours=2)
            after = await refresh(http, first)

        assert within.status_code == 200
        assert (after.status_code, after.json()["error"]) == (401, "login_required")

    async def test_unused_refresh_token_expires_after_three_months(self) -> None:
        clock = Clock()
        async with client_for(TeslaFleetFake(clock=clock)) as http:
            token = (await login(http, "solo"))["refresh_token"]
            clock.advance(days=91)
            response = await refresh(http, token)

        assert (response.status_code, response.json()["error"]) == (401, "login_required")

    async def test_unknown_token_needs_a_new_login(self, http: httpx.AsyncClient) -> None:
        response = await refresh(http, "EU_" + "0" * 64)

        assert (response.status_code, response.json()["error"]) == (401, "login_required")


class TestClientCredentials:
    async def test_partner_token_has_no_refresh_token(self, http: httpx.AsyncClient) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "audience": "http://fake/eu",
        }

        response = await http.post("/oauth2/v3/token", data=form)

        assert response.status_code == 200
        assert "refresh_token" not in response.json()
        assert response.json()["expires_in"] == 28800

    async def test_needs_the_secret(self, http: httpx.AsyncClient) -> None:
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "audience": "http://fake/eu"}

        response = await http.post("/oauth2/v3/token", data=form)

        assert (response.status_code, response.json()["error"]) == (401, "unauthorized_client")


class TestOpenIdConfiguration:
    async def test_metadata_and_jwks_verify_issued_tokens(self, http: httpx.AsyncClient) -> None:
        metadata = (await http.get("/oauth2/v3/thirdparty/.well-known/openid-configuration")).json()
        tokens = await login(http, "solo")
        jwks = (await http.get(metadata["jwks_uri"].removeprefix("http://fake"))).json()

        key = jwt.PyJWK(jwks["keys"][0]).key
        claims = jwt.decode(tokens["access_token"], key, algorithms=["RS256"], options={"verify_aud": False})
        assert metadata["token_endpoint"] == "http://fake/oauth2/v3/token"
        assert metadata["code_challenge_methods_supported"] == ["S256"]
        assert claims["sub"]

    async def test_id_token_names_the_client_and_echoes_the_nonce(self, http: httpx.AsyncClient) -> None:
        code = await authorization_code(http, "solo", nonce="n-0S6")
        tokens = (await http.post("/oauth2/v3/token", data=code_form(code))).json()

        claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})

        assert claims["aud"] == CLIENT_ID
        assert claims["nonce"] == "n-0S6"
        assert claims["email"] == "solo.owner@example.com"


class TestRedirectUriDefault:
    def test_any_http_uri_ending_with_the_callback_path_is_accepted(self, fake: TeslaFleetFake) -> None:
        assert fake.registration.accepts(REDIRECT_URI)
        assert fake.registration.accepts("http://localhost:8100/api/v1/tesla/oauth/callback")
        assert not fake.registration.accepts("https://carpulse.example/api/v1/tesla/oauth/callback/../x")
        assert not fake.registration.accepts("javascript:alert(1)//api/v1/tesla/oauth/callback")


class TestTxid:
    async def test_every_response_carries_an_x_txid(self, http: httpx.AsyncClient) -> None:
        responses = [
            await http.get("/oauth2/v3/authorize", params=authorize_params()),
            await http.post("/oauth2/v3/token", data={"grant_type": "password"}),
            await http.get("/eu/status"),
            await http.get("/eu/api/1/vehicles"),
        ]

        txids = [response.headers.get("x-txid", "") for response in responses]
        assert all(re.fullmatch(r"[0-9a-f]{32}", txid) for txid in txids)
        assert len(set(txids)) == len(txids)


class TestRegionHint:
    async def test_a_wrong_hint_can_be_switched_on_and_off(self, fake: TeslaFleetFake, http: httpx.AsyncClient) -> None:
        fake.set_region_hint("us", "eu")
        misleading = await login(http, "us")
        assert jwt.decode(misleading["access_token"], options={"verify_signature": False})["ou_code"] == "EU"
        fake.set_region_hint("us", None)
        honest = await login(http, "us")
        assert jwt.decode(honest["access_token"], options={"verify_signature": False})["ou_code"] == "NA"
        with pytest.raises(KeyError):
            fake.set_region_hint("nobody", "eu")
