"""The dev proxy end to end, with two apps: the deployed API (Tesla's registered callback, the
sandbox Tesla) and a developer's local instance behind a tunnel, which owns the flow's state and
PKCE verifier. Tesla codes are only valid at the fake that issued them, so the local instance
talks to the deployed app's sandbox Tesla, under the deployed redirect URI."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from carpulse.app import create_app
from carpulse.connect.repository import RELAY_PREFIX, STATE_PREFIX
from carpulse.provider.tesla.client import pkce_pair
from tests.conftest import CLIENT_ADDRESS, SERVER, app_lifespan, delete_redis_prefix, make_settings
from tests.dev_proxy.test_dev_proxy import (
    BROWSER,
    CALLBACK,
    RELAY_TO,
    TUNNEL,
    assert_problem,
    bearer,
    consent,
    initiate,
    register,
)

JSON = {"Accept": "application/json"}
LOCAL_BASE = "http://localhost:8000"


@pytest.fixture
async def local_app(
    app: FastAPI, database_url: str, tmp_path: Path, admin_password_hash: str
) -> AsyncIterator[FastAPI]:
    """The developer's instance: its own settings and ephemeral store, Tesla at the deployed app's sandbox."""
    deployed = app.state.carpulse.settings
    sandbox = f"{deployed.base_url}/_sandbox/tesla"
    prefix = f"carpulse-test:{uuid.uuid4().hex}:"
    settings = make_settings(
        database_url,
        tmp_path / "local-storage",
        admin_password_hash,
        prefix,
        public_base_url=LOCAL_BASE,
        tesla={
            "redirect_uri": deployed.tesla_redirect_uri,
            "authorize_url": f"{sandbox}/oauth2/v3/authorize",
            "token_url": f"{sandbox}/oauth2/v3/token",
            "fleet_base_urls": {region: f"{sandbox}/{region}" for region in ("na", "eu", "cn")},
        },
    )
    local = create_app(settings, vendor_transport=lambda _app: httpx.ASGITransport(app=app))
    async with app_lifespan(local):
        # The same test database, inside the deployed app's rolled-back transaction.
        local.state.carpulse.sessionmaker = app.state.carpulse.sessionmaker
        yield local
    if SERVER:
        await delete_redis_prefix(prefix)


@pytest.fixture
async def local(local_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=local_app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_BASE) as client:
        yield client


def assert_not_relayed(response: httpx.Response) -> None:
    """A browser's refused callback: sent to the web app's page that explains it, never to a tunnel."""
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/reports/connect-failed?problem=expired"


async def start_locally(local: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await local.post("/api/v1/tesla/oauth/initiate", json={"via_dev_proxy": True, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored_state(app: FastAPI, state: str) -> dict[str, Any] | None:
    raw = await app.state.carpulse.ephemeral.get(STATE_PREFIX + state)
    return json.loads(raw) if raw else None


def relayed_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == RELAY_TO
    return {key: values[0] for key, values in parse_qs(location.query).items()}


class TestLocalInitiate:
    async def test_via_the_dev_proxy_adds_the_challenge_of_the_stored_verifier(
        self, local_app: FastAPI, local: httpx.AsyncClient
    ) -> None:
        body = await start_locally(local, locale="fi")
        assert set(body) == {"authorization_url", "state", "expires_in", "code_challenge", "binding"}
        assert body["binding"] is None  # a relayed callback reaches the tunnel, not this browser's cookies
        assert body["expires_in"] == 600
        stored = await stored_state(local_app, body["state"])
        assert stored is not None
        assert set(stored) == {"brand", "verifier", "locale", "return_url", "binding"}
        assert stored["binding"] is None
        assert stored["locale"] == "fi"
        assert body["code_challenge"] == pkce_pair(stored["verifier"])
        query = parse_qs(urlsplit(body["authorization_url"]).query)
        assert query["code_challenge"] == [body["code_challenge"]]
        assert stored["verifier"] not in body["authorization_url"]
        ttl = await local_app.state.carpulse.ephemeral.ttl(STATE_PREFIX + body["state"])
        assert ttl is not None
        assert 590 < ttl <= 600

    async def test_an_ordinary_flow_carries_no_challenge(self, local: httpx.AsyncClient) -> None:
        response = await local.post("/api/v1/tesla/oauth/initiate", json={})
        assert response.status_code == 200, response.text
        assert response.json()["code_challenge"] is None

    @pytest.mark.parametrize("value", ["maybe", 2, None, {}])
    async def test_a_non_boolean_is_422(self, local: httpx.AsyncClient, value: object) -> None:
        response = await local.post("/api/v1/tesla/oauth/initiate", json={"via_dev_proxy": value})
        assert_problem(response, 422, "validation-failed")


class TestTwoInstances:
    async def test_the_local_instance_completes_a_flow_relayed_by_the_deployed_api(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        local_app: FastAPI,
        local: httpx.AsyncClient,
        admin_token: str,
    ) -> None:
        started = await start_locally(local)
        state, challenge = started["state"], started["code_challenge"]
        verifier = (await stored_state(local_app, state) or {})["verifier"]

        assert (await register(client, admin_token)).status_code == 200
        relay = await initiate(client, admin_token, flow=(state, challenge))
        assert relay.status_code == 200, relay.text
        authorization_url = relay.json()["authorization_url"]
        assert relay.json()["relay_to"] == RELAY_TO
        assert verifier not in authorization_url
        # The deployed API holds a relay record only: no state, no verifier of its own for this flow.
        assert await stored_state(app, state) is None

        callback = await consent(client, authorization_url)
        assert callback["state"] == state
        relayed = await client.get(CALLBACK, params=callback, headers=BROWSER)
        query = relayed_query(relayed)
        assert query == {"code": callback["code"], "state": state}
        assert verifier not in relayed.headers["location"]
        assert await app.state.carpulse.ephemeral.get(RELAY_PREFIX + state) is None

        # The browser follows the relay to the tunnel, i.e. to the local instance.
        completed = await local.get(CALLBACK, params=query, headers=JSON)
        assert completed.status_code == 200, completed.text
        result = completed.json()
        assert result["vehicle_count"] == 1
        session_id = result["session_id"]
        assert (await local.get(f"/api/v1/tesla/session/{session_id}/vehicles")).status_code == 200
        assert (await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).status_code == 404
        assert await stored_state(local_app, state) is None

        # Replays: never relayed twice, never completed twice.
        assert_not_relayed(await client.get(CALLBACK, params=callback, headers=BROWSER))
        assert_problem(await client.get(CALLBACK, params=callback, headers=JSON), 400, "oauth-state-invalid")
        assert_problem(await local.get(CALLBACK, params=query, headers=JSON), 400, "oauth-state-invalid")

    async def test_a_browser_lands_on_the_local_frontend(
        self, client: httpx.AsyncClient, local: httpx.AsyncClient, admin_token: str
    ) -> None:
        started = await start_locally(local, return_url=f"{LOCAL_BASE}/done")
        await register(client, admin_token)
        relay = (await initiate(client, admin_token, flow=(started["state"], started["code_challenge"]))).json()
        callback = await consent(client, relay["authorization_url"])
        query = relayed_query(await client.get(CALLBACK, params=callback, headers=BROWSER))
        landed = await local.get(CALLBACK, params=query, headers=BROWSER)
        assert landed.status_code == 303, landed.text
        assert landed.headers["location"].startswith(f"{LOCAL_BASE}/done?session_id=")

    async def test_a_mismatched_state_is_not_relayed(
        self, local_app: FastAPI, client: httpx.AsyncClient, local: httpx.AsyncClient, admin_token: str
    ) -> None:
        relayed_flow = await start_locally(local)
        other_flow = await start_locally(local)
        await register(client, admin_token)
        relay = await initiate(client, admin_token, flow=(relayed_flow["state"], relayed_flow["code_challenge"]))
        callback = await consent(client, relay.json()["authorization_url"])

        # A callback whose state has no relay record on the deployed API goes nowhere.
        mismatched = {**callback, "state": other_flow["state"]}
        assert_not_relayed(await client.get(CALLBACK, params=mismatched, headers=BROWSER))
        json_answer = await client.get(CALLBACK, params=mismatched, headers=JSON)
        assert json_answer.status_code == 400, json_answer.text
        assert "location" not in json_answer.headers
        # The local instance's other flow was not touched by that.
        assert await stored_state(local_app, other_flow["state"]) is not None

        # The flow that was registered is still relayed and completed.
        query = relayed_query(await client.get(CALLBACK, params=callback, headers=BROWSER))
        completed = await local.get(CALLBACK, params=query, headers=JSON)
        assert completed.status_code == 200, completed.text

    async def test_a_code_for_another_challenge_is_refused_locally(
        self, client: httpx.AsyncClient, local: httpx.AsyncClient, admin_token: str
    ) -> None:
        """A challenge that is not the state's own fails at Tesla's token exchange: nothing is connected."""
        first = await start_locally(local)
        second = await start_locally(local)
        await register(client, admin_token)
        relay = await initiate(client, admin_token, flow=(first["state"], second["code_challenge"]))
        callback = await consent(client, relay.json()["authorization_url"])
        query = relayed_query(await client.get(CALLBACK, params=callback, headers=BROWSER))
        refused = await local.get(CALLBACK, params=query, headers=JSON)
        assert 400 <= refused.status_code < 500, refused.text
        assert refused.headers["content-type"] == "application/problem+json"

    async def test_code_challenge_without_state_is_422(
        self, client: httpx.AsyncClient, local: httpx.AsyncClient, admin_token: str
    ) -> None:
        started = await start_locally(local)
        await register(client, admin_token)
        for body in ({"code_challenge": started["code_challenge"]}, {"state": started["state"]}):
            response = await client.post(
                "/api/v1/dev-proxy/initiate-oauth", json={"name": "alice", **body}, headers=bearer(admin_token)
            )
            assert_problem(response, 422, "validation-failed")

    async def test_a_relay_goes_to_the_registered_tunnel_only(
        self, client: httpx.AsyncClient, local: httpx.AsyncClient, admin_token: str
    ) -> None:
        started = await start_locally(local)
        await register(client, admin_token)
        relay = await initiate(client, admin_token, flow=(started["state"], started["code_challenge"]))
        assert relay.json()["relay_to"] == f"{TUNNEL}{CALLBACK}"
        # Re-registering the name elsewhere drops the relay; the callback goes nowhere.
        await register(client, admin_token, tunnel_url="https://mallory.ngrok-free.app")
        callback = await consent(client, relay.json()["authorization_url"])
        assert_problem(await client.get(CALLBACK, params=callback, headers=JSON), 400, "oauth-state-invalid")
