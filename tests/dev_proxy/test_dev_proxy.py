from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from carpulse.connect.repository import RELAY_PREFIX, STATE_PREFIX
from carpulse.dev_proxy.repository import REGISTRATION_PREFIX
from carpulse.kit.passwords import hash_password
from carpulse.models import Account, AccountRole
from carpulse.provider.tesla.client import pkce_pair
from tests.conftest import production_overrides

PROBLEM = "application/problem+json"
TUNNEL = "https://alice.ngrok-free.app"
RELAY_TO = f"{TUNNEL}/api/v1/tesla/oauth/callback"
CALLBACK = "/api/v1/tesla/oauth/callback"
BROWSER = {"Accept": "text/html"}


def assert_not_relayed(response: httpx.Response) -> None:
    """A browser's refused callback: sent to the web app's page that explains it, never to a tunnel."""
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/reports/connect-failed?problem=expired"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(
    client: httpx.AsyncClient, token: str, name: str = "alice", tunnel_url: str = TUNNEL, **extra: Any
) -> httpx.Response:
    body = {"name": name, "tunnel_url": tunnel_url, **extra}
    return await client.post("/api/v1/dev-proxy/register", json=body, headers=bearer(token))


async def status(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/dev-proxy/status", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def initiate(
    client: httpx.AsyncClient, token: str, name: str = "alice", flow: tuple[str, str] | None = None, **extra: Any
) -> httpx.Response:
    """Start a flow for the tunnel; with `flow` (state, code_challenge) the callback is relayed to it."""
    body = {"name": name, **extra}
    if flow is not None:
        body |= {"state": flow[0], "code_challenge": flow[1]}
    return await client.post("/api/v1/dev-proxy/initiate-oauth", json=body, headers=bearer(token))


def local_flow() -> tuple[str, str]:
    """What a developer's local instance hands out: its state and the S256 challenge of its verifier."""
    return secrets.token_urlsafe(32), pkce_pair(secrets.token_urlsafe(64))


async def consent(client: httpx.AsyncClient, authorization_url: str, *, deny: bool = False) -> dict[str, str]:
    """Let the sandbox Tesla consent page answer for `solo`; returns the query it sends to our callback."""
    url = urlsplit(authorization_url)
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    query["sandbox_deny" if deny else "sandbox_account"] = "1" if deny else "solo"
    answer = await client.get(url.path, params=query)
    assert answer.status_code in (302, 303), answer.text
    location = urlsplit(answer.headers["location"])
    assert location.path == CALLBACK
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def assert_problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == f"/problems/{slug}"


class TestRegister:
    async def test_registers_a_tunnel_with_its_expiry(self, client: httpx.AsyncClient, admin_token: str) -> None:
        response = await register(client, admin_token, ttl_seconds=600)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == "alice"
        assert body["tunnel_url"] == TUNNEL
        assert body["relay_to"] == RELAY_TO
        assert body["expires_in"] == 600
        lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
        assert lifetime.total_seconds() == 600

    async def test_default_ttl_is_an_hour_and_the_store_holds_it(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        assert (await register(client, admin_token)).json()["expires_in"] == 3600
        ttl = await app.state.carpulse.ephemeral.ttl(REGISTRATION_PREFIX + "alice")
        assert ttl is not None
        assert 3590 < ttl <= 3600

    async def test_status_lists_active_registrations(self, client: httpx.AsyncClient, admin_token: str) -> None:
        assert (await status(client, admin_token))["registrations"] == []
        await register(client, admin_token, "alice")
        await register(client, admin_token, "bob-2", "https://bob.trycloudflare.com")
        body = await status(client, admin_token)
        assert [(r["name"], r["tunnel_url"]) for r in body["registrations"]] == [
            ("alice", TUNNEL),
            ("bob-2", "https://bob.trycloudflare.com"),
        ]
        assert ".ngrok-free.app" in body["allowed_tunnel_suffixes"]

    async def test_registering_a_name_again_replaces_it(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        again = await register(client, admin_token, tunnel_url="https://alice2.ngrok.app", ttl_seconds=120)
        assert again.status_code == 200
        registrations = (await status(client, admin_token))["registrations"]
        assert [(r["tunnel_url"], r["expires_in"]) for r in registrations] == [("https://alice2.ngrok.app", 120)]

    @pytest.mark.parametrize(
        ("given", "stored"),
        [
            ("https://alice.ngrok-free.app/", TUNNEL),
            ("https://alice.ngrok-free.app:443", TUNNEL),
            ("HTTPS://Alice.NGROK-free.app", TUNNEL),
            ("https://a-b.eu.ngrok.io", "https://a-b.eu.ngrok.io"),
            ("https://quiet-fox.loca.lt", "https://quiet-fox.loca.lt"),
        ],
    )
    async def test_tunnel_url_is_stored_as_its_origin(
        self, client: httpx.AsyncClient, admin_token: str, given: str, stored: str
    ) -> None:
        response = await register(client, admin_token, tunnel_url=given)
        assert response.status_code == 200, response.text
        assert response.json()["tunnel_url"] == stored
        assert response.json()["relay_to"] == f"{stored}{CALLBACK}"

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "", "tunnel_url": TUNNEL},
            {"name": "Alice", "tunnel_url": TUNNEL},
            {"name": "al ice", "tunnel_url": TUNNEL},
            {"name": "a" * 65, "tunnel_url": TUNNEL},
            {"name": "alice", "tunnel_url": TUNNEL, "ttl_seconds": 59},
            {"name": "alice", "tunnel_url": TUNNEL, "ttl_seconds": 86401},
            {"name": "alice"},
            {"name": "alice", "tunnel_url": TUNNEL, "surprise": 1},
        ],
    )
    async def test_bad_bodies_are_422(self, client: httpx.AsyncClient, admin_token: str, body: dict[str, Any]) -> None:
        response = await client.post("/api/v1/dev-proxy/register", json=body, headers=bearer(admin_token))
        assert_problem(response, 422, "validation-failed")


class TestHostileTunnelUrls:
    @pytest.mark.parametrize(
        "tunnel_url",
        [
            "http://alice.ngrok-free.app",
            "ftp://alice.ngrok-free.app",
            "https://evil.com",
            "https://evil.com#.ngrok.app",
            "https://evil.com?.ngrok.app",
            "https://evil.com/.ngrok.app",
            "https://x@evil.com",
            "https://x@alice.ngrok-free.app",
            "https://alice.ngrok-free.app@evil.com",
            "https://evil.com\\@alice.ngrok-free.app",
            "https://127.0.0.1",
            "https://[::1]",
            "https://169.254.169.254",
            "https://2130706433",
            "https://alice.ngrok-free.app:8443",
            "https://alice.ngrok-free.app:80",
            "https://alice.ngrok-free.app/path",
            "https://alice.ngrok-free.app/api/v1/tesla/oauth/callback",
            "https://alice.ngrok-free.app/?next=https://evil.com",
            "https://alice.ngrok-free.app#x",
            "https://ngrok-free.app.evil.com",
            "https://ngrok-free.app",
            "https://.ngrok-free.app",
            "https://evilngrok-free.app",
            "https://alice.ngrok-free.app.",
            "https://alice%2engrok-free.app",
            "https://alice .ngrok-free.app",
            "https://älice.ngrok-free.app",
            "//alice.ngrok-free.app",
            "alice.ngrok-free.app",
            "javascript:alert(1)//.ngrok.app",
        ],
    )
    async def test_refused_with_422_and_nothing_stored(
        self, client: httpx.AsyncClient, admin_token: str, tunnel_url: str
    ) -> None:
        response = await register(client, admin_token, tunnel_url=tunnel_url)
        assert_problem(response, 422, "tunnel-url-refused")
        assert response.json()["errors"][0]["loc"] == ["body", "tunnel_url"]
        assert (await status(client, admin_token))["registrations"] == []


class TestSuffixSettings:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"dev_proxy": {"allowed_tunnel_suffixes": "tunnels.example.com"}}

    async def test_only_the_configured_suffixes_are_allowed(self, client: httpx.AsyncClient, admin_token: str) -> None:
        assert (await register(client, admin_token, tunnel_url="https://a.tunnels.example.com")).status_code == 200
        assert_problem(await register(client, admin_token, tunnel_url=TUNNEL), 422, "tunnel-url-refused")
        refused = await register(client, admin_token, tunnel_url="https://eviltunnels.example.com")
        assert_problem(refused, 422, "tunnel-url-refused")
        assert (await status(client, admin_token))["allowed_tunnel_suffixes"] == [".tunnels.example.com"]


class TestUnregister:
    async def test_by_body(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        response = await client.request(
            "DELETE", "/api/v1/dev-proxy/unregister", json={"name": "alice"}, headers=bearer(admin_token)
        )
        assert response.status_code == 204
        assert response.content == b""
        assert (await status(client, admin_token))["registrations"] == []

    async def test_by_query(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token, "alice")
        await register(client, admin_token, "bob", "https://bob.ngrok.io")
        response = await client.delete("/api/v1/dev-proxy/unregister?name=alice", headers=bearer(admin_token))
        assert response.status_code == 204
        assert [r["name"] for r in (await status(client, admin_token))["registrations"]] == ["bob"]

    async def test_unknown_name_is_404(self, client: httpx.AsyncClient, admin_token: str) -> None:
        response = await client.delete("/api/v1/dev-proxy/unregister?name=nobody", headers=bearer(admin_token))
        assert_problem(response, 404, "dev-tunnel-not-found")

    async def test_twice_is_404_the_second_time(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        url = "/api/v1/dev-proxy/unregister?name=alice"
        assert (await client.delete(url, headers=bearer(admin_token))).status_code == 204
        assert_problem(await client.delete(url, headers=bearer(admin_token)), 404, "dev-tunnel-not-found")

    @pytest.mark.parametrize(
        ("query", "body"),
        [("", None), ("?name=Alice", None), ("?name=alice", {"name": "bob"}), ("", {"nom": "alice"})],
    )
    async def test_missing_bad_or_conflicting_name_is_422(
        self, client: httpx.AsyncClient, admin_token: str, query: str, body: dict[str, str] | None
    ) -> None:
        await register(client, admin_token)
        response = await client.request(
            "DELETE", f"/api/v1/dev-proxy/unregister{query}", json=body, headers=bearer(admin_token)
        )
        assert_problem(response, 422, "validation-failed")
        assert len((await status(client, admin_token))["registrations"]) == 1


ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/v1/dev-proxy/register", {"name": "alice", "tunnel_url": TUNNEL}),
    ("DELETE", "/api/v1/dev-proxy/unregister?name=alice", None),
    ("POST", "/api/v1/dev-proxy/initiate-oauth", {"name": "alice"}),
    ("GET", "/api/v1/dev-proxy/status", None),
]


class TestAccess:
    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    async def test_anonymous_is_401(
        self, client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
    ) -> None:
        response = await client.request(method, path, json=body)
        assert_problem(response, 401, "invalid-token")

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    async def test_a_customer_is_403(
        self, client: httpx.AsyncClient, db: Any, method: str, path: str, body: dict[str, Any] | None
    ) -> None:
        username = f"carol-{uuid.uuid4().hex[:8]}"
        db.add(Account(username=username, password_hash=hash_password("carol-password"), role=AccountRole.customer))
        await db.commit()
        login = await client.post("/api/v1/auth/login/json", json={"username": username, "password": "carol-password"})
        response = await client.request(method, path, json=body, headers=bearer(login.json()["access_token"]))
        assert_problem(response, 403, "admin-required")


class TestProduction:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        overrides = production_overrides()
        del overrides["admin"]  # the suite's admin logs in
        return overrides

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    async def test_every_endpoint_answers_as_if_absent(
        self, client: httpx.AsyncClient, admin_token: str, method: str, path: str, body: dict[str, Any] | None
    ) -> None:
        for headers in (bearer(admin_token), {}):
            response = await client.request(method, path, json=body, headers=headers)
            assert_problem(response, 404, "not-found")
            assert "detail" not in response.json()

    async def test_a_flow_via_the_dev_proxy_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/tesla/oauth/initiate", json={"via_dev_proxy": True})
        assert_problem(response, 422, "validation-failed")
        assert response.json()["errors"][0]["loc"] == ["body", "via_dev_proxy"]
        ordinary = await client.post("/api/v1/tesla/oauth/initiate", json={"via_dev_proxy": False})
        assert ordinary.status_code == 200, ordinary.text
        assert ordinary.json()["code_challenge"] is None

    async def test_answers_like_a_path_that_does_not_exist(self, client: httpx.AsyncClient) -> None:
        absent = (await client.get("/api/v1/no-such-thing")).json()
        present = (await client.get("/api/v1/dev-proxy/status")).json()
        assert {k: v for k, v in absent.items() if k not in ("instance", "request_id")} == {
            k: v for k, v in present.items() if k not in ("instance", "request_id")
        }


class TestSwitchedOff:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"dev_proxy": {"enabled": False}}

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    async def test_every_endpoint_is_404(
        self, client: httpx.AsyncClient, admin_token: str, method: str, path: str, body: dict[str, Any] | None
    ) -> None:
        response = await client.request(method, path, json=body, headers=bearer(admin_token))
        assert_problem(response, 404, "not-found")


class TestExpiry:
    async def test_an_expired_registration_is_gone(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token)
        # Expire it the way the store would: the key is simply gone.
        assert await app.state.carpulse.ephemeral.delete(REGISTRATION_PREFIX + "alice")
        assert (await status(client, admin_token))["registrations"] == []
        assert_problem(await initiate(client, admin_token), 404, "dev-tunnel-not-found")
        assert_problem(await initiate(client, admin_token, flow=local_flow()), 404, "dev-tunnel-not-found")
        response = await client.delete("/api/v1/dev-proxy/unregister?name=alice", headers=bearer(admin_token))
        assert_problem(response, 404, "dev-tunnel-not-found")

    async def test_an_oauth_state_never_outlives_its_registration(
        self, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token, ttl_seconds=60)
        started = await initiate(client, admin_token)
        assert started.status_code == 200, started.text
        assert 0 < started.json()["expires_in"] <= 60

    async def test_a_relay_never_outlives_its_registration(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token, ttl_seconds=60)
        state, challenge = local_flow()
        started = await initiate(client, admin_token, flow=(state, challenge))
        assert started.status_code == 200, started.text
        assert 0 < started.json()["expires_in"] <= 60
        ttl = await app.state.carpulse.ephemeral.ttl(RELAY_PREFIX + state)
        assert ttl is not None
        assert 0 < ttl <= 60

    async def test_a_longer_registration_keeps_the_usual_state_ttl(
        self, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token)
        assert (await initiate(client, admin_token)).json()["expires_in"] == 600
        assert (await initiate(client, admin_token, flow=local_flow())).json()["expires_in"] == 600


class TestInitiateOAuth:
    async def test_relays_the_callers_flow_to_the_tunnel(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token)
        state, challenge = local_flow()
        response = await initiate(client, admin_token, flow=(state, challenge), locale="de")
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"authorization_url", "state", "expires_in", "relay_to"}
        assert body["state"] == state
        assert body["relay_to"] == RELAY_TO
        assert body["expires_in"] == 600
        url = urlsplit(body["authorization_url"])
        query = parse_qs(url.query)
        assert url.path == "/_sandbox/tesla/oauth2/v3/authorize"
        assert query["state"] == [state]
        assert query["code_challenge"] == [challenge]
        assert query["code_challenge_method"] == ["S256"]
        assert query["locale"] == ["de"]
        # Tesla only knows the deployed callback; the relay happens there.
        assert query["redirect_uri"] == ["http://testserver/api/v1/tesla/oauth/callback"]
        # Only a relay record is kept here: no verifier, and no OAuth state of this API.
        store = app.state.carpulse.ephemeral
        assert await store.get(STATE_PREFIX + state) is None
        relay = await store.get(RELAY_PREFIX + state)
        assert relay is not None
        assert json.loads(relay) == {"relay_to": RELAY_TO, "tunnel": "alice"}

    async def test_without_a_state_the_flow_is_this_apis_own(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token)
        response = await initiate(client, admin_token, locale="de")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["relay_to"] is None
        query = parse_qs(urlsplit(body["authorization_url"]).query)
        assert query["state"] == [body["state"]]
        assert len(query["code_challenge"][0]) == 43
        assert await app.state.carpulse.ephemeral.get(STATE_PREFIX + body["state"]) is not None
        assert await app.state.carpulse.ephemeral.get(RELAY_PREFIX + body["state"]) is None

    async def test_unknown_name_is_404(self, client: httpx.AsyncClient, admin_token: str) -> None:
        assert_problem(await initiate(client, admin_token, "nobody"), 404, "dev-tunnel-not-found")

    async def test_the_same_state_is_relayed_once(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        flow = local_flow()
        assert (await initiate(client, admin_token, flow=flow)).status_code == 200
        assert_problem(await initiate(client, admin_token, flow=flow), 409, "dev-proxy-state-taken")
        assert_problem(
            await initiate(client, admin_token, flow=(flow[0], local_flow()[1])), 409, "dev-proxy-state-taken"
        )

    async def test_a_state_of_this_api_is_never_relayed(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token)
        ordinary = (await client.post("/api/v1/tesla/oauth/initiate", json={})).json()
        stored = await app.state.carpulse.ephemeral.get(STATE_PREFIX + ordinary["state"])
        response = await initiate(client, admin_token, flow=(ordinary["state"], local_flow()[1]))
        assert_problem(response, 409, "dev-proxy-state-taken")
        assert await app.state.carpulse.ephemeral.get(STATE_PREFIX + ordinary["state"]) == stored
        assert await app.state.carpulse.ephemeral.get(RELAY_PREFIX + ordinary["state"]) is None
        # ... and its flow still completes here.
        callback = await consent(client, ordinary["authorization_url"])
        completed = await client.get(CALLBACK, params=callback, headers={"Accept": "application/json"})
        assert completed.status_code == 200, completed.text

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"name": "alice", "locale": "xx"},
            {"name": "alice", "relay_to": "https://evil.com"},
            {"name": "alice", "state": "s" * 43},
            {"name": "alice", "code_challenge": "c" * 43},
            {"name": "alice", "state": None, "code_challenge": "c" * 43},
            {"name": "alice", "state": "s" * 42, "code_challenge": "c" * 43},
            {"name": "alice", "state": "s" * 129, "code_challenge": "c" * 43},
            {"name": "alice", "state": "s" * 42 + "=", "code_challenge": "c" * 43},
            {"name": "alice", "state": "s" * 42 + "/", "code_challenge": "c" * 43},
            {"name": "alice", "state": "s" * 43, "code_challenge": "c" * 42},
            {"name": "alice", "state": "s" * 43, "code_challenge": "c" * 44},
            {"name": "alice", "state": "s" * 43, "code_challenge": "c" * 42 + "="},
            {"name": "alice", "state": "s" * 43, "code_challenge": "c" * 42 + "+"},
            {"name": "alice", "state": "s" * 43, "code_challenge": "c" * 43, "code_verifier": "v" * 43},
        ],
    )
    async def test_bad_bodies_are_422(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str, body: dict[str, Any]
    ) -> None:
        await register(client, admin_token)
        response = await client.post("/api/v1/dev-proxy/initiate-oauth", json=body, headers=bearer(admin_token))
        assert_problem(response, 422, "validation-failed")
        assert await app.state.carpulse.ephemeral.get(RELAY_PREFIX + "s" * 43) is None

    async def test_a_well_formed_pair_is_accepted(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        flow = ("s" * 128, "c" * 43)
        response = await initiate(client, admin_token, flow=flow)
        assert response.status_code == 200, response.text


class TestRelay:
    async def test_callback_is_relayed_to_the_tunnel_once(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        state, challenge = local_flow()
        started = (await initiate(client, admin_token, flow=(state, challenge))).json()
        callback = await consent(client, started["authorization_url"])
        assert callback["state"] == state

        relayed = await client.get(CALLBACK, params=callback, headers=BROWSER)
        assert relayed.status_code == 303, relayed.text
        location = relayed.headers["location"]
        parts = urlsplit(location)
        assert (parts.scheme, parts.netloc, parts.path) == ("https", "alice.ngrok-free.app", CALLBACK)
        assert parse_qs(parts.query) == {"code": [callback["code"]], "state": [state]}
        assert location == f"{RELAY_TO}?{httpx.QueryParams({'code': callback['code'], 'state': state})}"

        again = await client.get(CALLBACK, params=callback, headers={"Accept": "application/json"})
        assert_problem(again, 400, "oauth-state-invalid")
        assert_not_relayed(await client.get(CALLBACK, params=callback, headers=BROWSER))

    async def test_relay_answers_303_even_to_json_clients(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        started = (await initiate(client, admin_token, flow=local_flow())).json()
        callback = await consent(client, started["authorization_url"])
        relayed = await client.get(CALLBACK, params=callback, headers={"Accept": "application/json"})
        assert relayed.status_code == 303
        assert relayed.headers["location"].startswith(f"{RELAY_TO}?code=")

    async def test_a_declined_consent_is_relayed_too(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        state, challenge = local_flow()
        started = (await initiate(client, admin_token, flow=(state, challenge))).json()
        callback = await consent(client, started["authorization_url"], deny=True)
        relayed = await client.get(CALLBACK, params=callback, headers=BROWSER)
        assert relayed.status_code == 303
        parts = urlsplit(relayed.headers["location"])
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == RELAY_TO
        query = parse_qs(parts.query)
        assert query["error"] == ["access_denied"]
        assert query["state"] == [state]

    async def test_the_relay_target_ignores_request_input(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        started = (await initiate(client, admin_token, flow=local_flow())).json()
        callback = await consent(client, started["authorization_url"])
        hostile = {**callback, "relay_to": "https://evil.com", "redirect_uri": "https://evil.com"}
        relayed = await client.get(CALLBACK, params=hostile, headers={**BROWSER, "Host": "evil.com"})
        assert relayed.status_code == 303
        assert urlsplit(relayed.headers["location"]).netloc == "alice.ngrok-free.app"

    async def test_a_state_without_a_relay_is_not_relayed(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        state, challenge = local_flow()
        started = (await initiate(client, admin_token, flow=(state, challenge))).json()
        callback = await consent(client, started["authorization_url"])
        mismatched = {**callback, "state": local_flow()[0]}
        assert_not_relayed(await client.get(CALLBACK, params=mismatched, headers=BROWSER))
        json_answer = await client.get(CALLBACK, params=mismatched, headers={"Accept": "application/json"})
        assert json_answer.status_code == 400, json_answer.text
        assert "location" not in json_answer.headers
        # Nothing was consumed: the real callback is still relayed.
        relayed = await client.get(CALLBACK, params=callback, headers=BROWSER)
        assert relayed.status_code == 303

    async def test_unregistering_stops_pending_relays(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token)
        state, challenge = local_flow()
        callback = await consent(
            client, (await initiate(client, admin_token, flow=(state, challenge))).json()["authorization_url"]
        )
        assert (
            await client.delete("/api/v1/dev-proxy/unregister?name=alice", headers=bearer(admin_token))
        ).status_code == 204
        assert await app.state.carpulse.ephemeral.get(RELAY_PREFIX + state) is None
        response = await client.get(CALLBACK, params=callback, headers={"Accept": "application/json"})
        assert_problem(response, 400, "oauth-state-invalid")

    async def test_replacing_a_registration_stops_its_pending_relays(
        self, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token)
        callback = await consent(
            client, (await initiate(client, admin_token, flow=local_flow())).json()["authorization_url"]
        )
        await register(client, admin_token, tunnel_url="https://mallory.ngrok-free.app")
        response = await client.get(CALLBACK, params=callback, headers={"Accept": "application/json"})
        assert_problem(response, 400, "oauth-state-invalid")

    async def test_an_ordinary_flow_is_still_completed_here(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await register(client, admin_token)
        await initiate(client, admin_token, flow=local_flow())
        started = await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "en"})
        callback = await consent(client, started.json()["authorization_url"])
        response = await client.get(CALLBACK, params=callback, headers={"Accept": "application/json"})
        assert response.status_code == 200, response.text
        assert response.json()["vehicle_count"] == 1

    async def test_a_flow_started_without_a_state_is_completed_here(
        self, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await register(client, admin_token)
        started = (await initiate(client, admin_token)).json()
        callback = await consent(client, started["authorization_url"])
        response = await client.get(CALLBACK, params=callback, headers={"Accept": "application/json"})
        assert response.status_code == 200, response.text
        assert response.json()["vehicle_count"] == 1
        session = await client.get(f"/api/v1/tesla/session/{response.json()['session_id']}/vehicles")
        assert session.status_code == 200
        again = await client.get(CALLBACK, params=callback, headers={"Accept": "application/json"})
        assert_problem(again, 400, "oauth-state-invalid")
