from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.connect.flow import JSON, authorize, connect_account, sandbox_fake

PROBLEM = "application/problem+json"


class TestInitiate:
    async def test_returns_an_authorize_url_with_state_and_pkce(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "de"})
        assert response.status_code == 200
        body = response.json()
        assert body["expires_in"] == 600
        url = urlsplit(body["authorization_url"])
        assert url.path == "/_sandbox/tesla/oauth2/v3/authorize"
        query = parse_qs(url.query)
        assert query["state"] == [body["state"]]
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) == 43
        assert query["redirect_uri"] == ["http://testserver/api/v1/tesla/oauth/callback"]
        assert "vehicle_device_data" in query["scope"][0]
        assert len(body["state"]) >= 40

    async def test_each_initiate_has_its_own_state(self, client: httpx.AsyncClient) -> None:
        states = {(await client.post("/api/v1/tesla/oauth/initiate", json={})).json()["state"] for _ in range(3)}
        assert len(states) == 3

    @pytest.mark.parametrize(
        "body",
        [{"locale": "xx"}, {"locale": "en", "return_url": "https://evil.example/steal"}, {"surprise": 1}],
    )
    async def test_bad_input_is_422(self, client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        response = await client.post("/api/v1/tesla/oauth/initiate", json=body)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM


class TestFullFlow:
    @pytest.mark.parametrize(
        ("account", "count", "region"), [("solo", 1, "eu"), ("family", 3, "eu"), ("fleet", 12, "eu"), ("us", 2, "na")]
    )
    async def test_connect_list_resume_and_select(
        self, client: httpx.AsyncClient, account: str, count: int, region: str
    ) -> None:
        result = await connect_account(client, account)
        assert result["vehicle_count"] == count
        session_id = result["session_id"]
        assert len(session_id) >= 40

        vehicles = (await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"]
        assert len(vehicles) == count
        for vehicle in vehicles:
            assert len(vehicle["vin"]) == 17
            assert vehicle["model"] in {"Model 3", "Model Y", "Model S", "Model X", "Cybertruck"}
            assert vehicle["online_state"] in {"online", "asleep", "offline"}

        state = (await client.get(f"/api/v1/tesla/session/{session_id}/state")).json()
        assert state["step"] == "select_vehicles"
        assert state["region"] == region
        assert state["locale"] == "fi"
        assert 0 < state["expires_in"] <= 1800
        assert state["selection"] is None

        chosen = [vehicles[0]["vin"]]
        selected = await client.post(
            f"/api/v1/tesla/session/{session_id}/select", json={"vins": chosen, "package": "pro"}
        )
        assert selected.status_code == 200, selected.text
        assert selected.json()["step"] == "checkout"
        assert selected.json()["selection"] == {"vins": chosen, "package": "pro"}
        resumed = (await client.get(f"/api/v1/tesla/session/{session_id}/state")).json()
        assert resumed["selection"] == {"vins": chosen, "package": "pro"}

    async def test_browser_callback_redirects_to_the_frontend_with_the_session(self, client: httpx.AsyncClient) -> None:
        _, callback = await authorize(client, "solo")
        response = await client.get("/api/v1/tesla/oauth/callback", params=callback, headers={"Accept": "text/html"})
        assert response.status_code == 303
        location = urlsplit(response.headers["location"])
        session_id = parse_qs(location.query)["session_id"][0]
        assert (await client.get(f"/api/v1/tesla/session/{session_id}/state")).status_code == 200

    async def test_tokens_never_reach_the_client(self, client: httpx.AsyncClient) -> None:
        session_id = (await connect_account(client, "solo"))["session_id"]
        for path in ("vehicles", "state"):
            text = (await client.get(f"/api/v1/tesla/session/{session_id}/{path}")).text
            assert "token" not in text.lower().replace("tokens", "")
            assert "eyJ" not in text


class TestCallbackRefusals:
    async def test_declined_consent_is_a_clear_problem(self, client: httpx.AsyncClient) -> None:
        _, callback = await authorize(client, None, deny=True)
        assert callback["error"] == "access_denied"
        response = await client.get("/api/v1/tesla/oauth/callback", params=callback, headers=JSON)
        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/consent-declined"

    async def test_declined_consent_in_a_browser_ends_on_the_web_apps_page(self, client: httpx.AsyncClient) -> None:
        _, callback = await authorize(client, None, deny=True)
        response = await client.get("/api/v1/tesla/oauth/callback", params=callback, headers={"Accept": "text/html"})
        assert response.status_code == 303
        assert response.headers["location"] == "/reports/connect-failed?problem=declined"

    async def test_replayed_state_is_refused(self, client: httpx.AsyncClient) -> None:
        _, callback = await authorize(client, "solo")
        first = await client.get("/api/v1/tesla/oauth/callback", params=callback, headers=JSON)
        assert first.status_code == 200
        replay = await client.get("/api/v1/tesla/oauth/callback", params=callback, headers=JSON)
        assert replay.status_code == 400
        assert replay.json()["type"] == "/problems/oauth-state-invalid"

    async def test_unknown_state_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/api/v1/tesla/oauth/callback", params={"code": "EU_x", "state": "made-up"}, headers=JSON
        )
        assert response.status_code == 400
        assert response.json()["type"] == "/problems/oauth-state-invalid"

    async def test_missing_parameters_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/tesla/oauth/callback", headers=JSON)
        assert response.status_code == 400

    async def test_forged_code_is_refused_by_tesla(self, client: httpx.AsyncClient) -> None:
        state, _ = await authorize(client, "solo")
        response = await client.get(
            "/api/v1/tesla/oauth/callback", params={"code": "EU_forged", "state": state}, headers=JSON
        )
        assert response.status_code == 400
        assert response.json()["type"] == "/problems/tesla-oauth-failed"


class TestExpiredState:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"connect": {"state_ttl_seconds": 30}}

    async def test_expired_state_is_refused(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        state, callback = await authorize(client, "solo")
        # Expire it the way the store would: the key is simply gone.
        await app.state.carpulse.ephemeral.delete(f"connect:oauth-state:{state}")
        response = await client.get("/api/v1/tesla/oauth/callback", params=callback, headers=JSON)
        assert response.status_code == 400
        assert response.json()["type"] == "/problems/oauth-state-invalid"


class TestSessionAccess:
    async def test_random_session_id_is_404(self, client: httpx.AsyncClient) -> None:
        for path in ("vehicles", "state"):
            response = await client.get(f"/api/v1/tesla/session/{'x' * 43}/{path}")
            assert response.status_code == 404
            assert response.json()["type"] == "/problems/connect-session-not-found"

    async def test_malformed_session_id_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/tesla/session/..%2F..%2Fetc/state")
        assert response.status_code in (404, 422)
        assert response.headers["content-type"] == PROBLEM

    async def test_expired_session_is_404(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        session_id = (await connect_account(client, "solo"))["session_id"]
        await app.state.carpulse.ephemeral.delete(f"connect:session:{session_id}")
        assert (await client.get(f"/api/v1/tesla/session/{session_id}/state")).status_code == 404

    async def test_another_sessions_vin_cannot_be_selected(self, client: httpx.AsyncClient) -> None:
        mine = (await connect_account(client, "solo"))["session_id"]
        theirs = (await connect_account(client, "family"))["session_id"]
        their_vin = (await client.get(f"/api/v1/tesla/session/{theirs}/vehicles")).json()["vehicles"][0]["vin"]
        response = await client.post(
            f"/api/v1/tesla/session/{mine}/select", json={"vins": [their_vin], "package": "basic"}
        )
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/selection-invalid"
        assert their_vin not in (await client.get(f"/api/v1/tesla/session/{mine}/vehicles")).text


class TestSelection:
    @pytest.mark.parametrize(
        ("body", "status"),
        [
            ({"vins": [], "package": "pro"}, 422),
            ({"vins": ["X"], "package": "platinum"}, 422),
            ({"package": "pro"}, 422),
        ],
    )
    async def test_bad_bodies_are_422(self, client: httpx.AsyncClient, body: dict[str, Any], status: int) -> None:
        session_id = (await connect_account(client, "solo"))["session_id"]
        response = await client.post(f"/api/v1/tesla/session/{session_id}/select", json=body)
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM

    async def test_bulk_needs_several_vehicles(self, client: httpx.AsyncClient) -> None:
        session_id = (await connect_account(client, "family"))["session_id"]
        vins = [v["vin"] for v in (await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"]]
        one = await client.post(
            f"/api/v1/tesla/session/{session_id}/select", json={"vins": vins[:1], "package": "bulk"}
        )
        assert one.status_code == 422
        many = await client.post(f"/api/v1/tesla/session/{session_id}/select", json={"vins": vins, "package": "bulk"})
        assert many.status_code == 200

    async def test_vins_are_normalized_and_deduplicated(self, client: httpx.AsyncClient) -> None:
        session_id = (await connect_account(client, "solo"))["session_id"]
        vin = (await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"][0]["vin"]
        response = await client.post(
            f"/api/v1/tesla/session/{session_id}/select", json={"vins": [vin.lower(), vin], "package": "basic"}
        )
        assert response.json()["selection"]["vins"] == [vin]


class TestSandboxFakeIsReachable:
    async def test_fake_is_mounted(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        assert sandbox_fake(app) is not None
        assert (await client.get("/_sandbox/tesla/eu/status")).text.strip() == "ok"


class TestInitiateLimits:
    async def test_a_long_return_url_is_422(self, client: httpx.AsyncClient) -> None:
        long_url = "http://localhost:3000/" + "a" * 600

        response = await client.post("/api/v1/tesla/oauth/initiate", json={"return_url": long_url})

        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["loc"] == ["body", "return_url"]
        assert long_url not in response.text

    async def test_a_return_url_of_the_allowed_length_is_taken(self, client: httpx.AsyncClient) -> None:
        url = "http://localhost:3000/back?" + "q" * (512 - len("http://localhost:3000/back?"))

        response = await client.post("/api/v1/tesla/oauth/initiate", json={"return_url": url})

        assert response.status_code == 200

    async def test_the_21st_initiate_in_a_minute_from_one_address_is_429(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        responses = [await client.post("/api/v1/tesla/oauth/initiate", json={}) for _ in range(21)]
        transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
            other = await elsewhere.post("/api/v1/tesla/oauth/initiate", json={})

        assert [response.status_code for response in responses] == [200] * 20 + [429]
        assert responses[0].headers["ratelimit-policy"] == '20;w=60;comment="oauth_initiate"'
        assert responses[20].headers["content-type"] == PROBLEM
        assert int(responses[20].headers["retry-after"]) > 0
        assert other.status_code == 200
