"""API keys through HTTP: shown once, kept as an HMAC, accepted as Bearer or X-API-Key, refused when forged,
truncated, of the other environment, or revoked."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.api_key.service import api_keys
from carpulse.models import Account, ApiKey
from tests.data_api.flow import MODEL_3_VIN, data_client

USAGE = "/api/v1/billing/usage"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"data_api": {"key_cache_seconds": 0}}


class TestMinting:
    async def test_the_key_is_shown_once_and_kept_only_as_its_hmac(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        owner = await data_client(app, client)
        assert owner.key.startswith("cp_test_")
        assert len(owner.key) == len("cp_test_") + 38

        listed = await client.get("/api/v1/data/keys", headers=owner.by_token)
        assert listed.status_code == 200
        (key,) = listed.json()["keys"]
        assert owner.key not in listed.text
        assert key["display_prefix"] == owner.key[:14]
        assert key["name"] == "fleet sync"
        assert key["revoked_at"] is None

        row = (await db.execute(select(ApiKey))).scalar_one()
        assert owner.key not in {row.secret_hash, row.display_prefix, row.name}
        assert row.secret_hash == api_keys.hash(app.state.carpulse.settings, owner.key)

    async def test_a_key_cannot_mint_keys(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await data_client(app, client)
        minted = await client.post("/api/v1/data/keys", json={"name": "more"}, headers=owner.by_key)
        assert minted.status_code == 401

    async def test_a_name_is_required(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await data_client(app, client)
        response = await client.post("/api/v1/data/keys", json={"name": ""}, headers=owner.by_token)
        assert response.status_code == 422


class TestAccepted:
    @pytest.mark.parametrize("how", ["by_key", "by_header", "by_token"])
    async def test_a_key_either_way_or_the_accounts_token_opens_the_data_api(
        self, app: FastAPI, client: httpx.AsyncClient, how: str
    ) -> None:
        owner = await data_client(app, client)
        response = await client.get(f"/api/v1/vehicle/static/{MODEL_3_VIN}", headers=getattr(owner, how))
        assert response.status_code == 200, response.text
        assert response.json()["vin"] == MODEL_3_VIN

    async def test_a_customer_token_is_not_a_data_client(self, client: httpx.AsyncClient, admin_token: str) -> None:
        # An admin may try the API; the role check is what keeps other accounts out.
        response = await client.get(USAGE, headers={"Authorization": f"Bearer {admin_token}"})
        assert response.status_code == 200


class TestRefused:
    async def test_no_credentials(self, client: httpx.AsyncClient) -> None:
        response = await client.get(USAGE)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("/invalid-api-key")

    @pytest.mark.parametrize(
        ("mangle", "says"),
        [
            (lambda key: key[:-1], "incomplete or mistyped"),
            (lambda key: key[:20], "incomplete or mistyped"),
            (lambda key: key[:-6] + ("A" if key[-6] != "A" else "B") + key[-5:], "incomplete or mistyped"),
            (lambda key: key[:10] + ("x" if key[10] != "x" else "y") + key[11:], "incomplete or mistyped"),
            (lambda key: "cp_live_" + key[len("cp_test_") :], "not valid here"),
            (lambda key: "sk_test_" + key[len("cp_test_") :], "not a Car Pulse API key"),
        ],
        ids=["one-short", "truncated", "checksum", "body-typo", "live-key-on-test", "foreign"],
    )
    async def test_a_mangled_key_is_401_and_says_why(
        self, app: FastAPI, client: httpx.AsyncClient, mangle: Any, says: str
    ) -> None:
        owner = await data_client(app, client)
        response = await client.get(USAGE, headers={"X-API-Key": mangle(owner.key)})
        assert response.status_code == 401, response.text
        assert response.json()["type"].endswith("/invalid-api-key")
        assert says in response.json()["detail"]

    async def test_a_well_formed_key_we_never_issued(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        settings = app.state.carpulse.settings
        owner = await data_client(app, client)
        async with app.state.carpulse.sessionmaker() as db:
            account = await db.get(Account, uuid.UUID(owner.account_id))
            assert account is not None
            _, forged = await api_keys.create(db, settings, account, "never stored", app.state.carpulse.clock)
            await db.rollback()
        response = await client.get(USAGE, headers={"X-API-Key": forged})
        assert response.status_code == 401
        assert "revoked or unknown" in response.json()["detail"]


class TestRevoked:
    async def test_a_revoked_key_fails_at_once_and_revoking_again_changes_nothing(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await data_client(app, client)
        assert (await client.get(USAGE, headers=owner.by_key)).status_code == 200

        revoked = await client.delete(f"/api/v1/data/keys/{owner.key_id}", headers=owner.by_token)
        assert revoked.status_code == 200
        first = revoked.json()["revoked_at"]
        assert first is not None

        refused = await client.get(USAGE, headers=owner.by_key)
        assert refused.status_code == 401
        assert "revoked" in refused.json()["detail"]
        again = await client.delete(f"/api/v1/data/keys/{owner.key_id}", headers=owner.by_token)
        assert again.json()["revoked_at"] == first

    async def test_another_clients_key_is_not_found(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        alice = await data_client(app, client, "alice@leasing.example")
        bob = await data_client(app, client, "bob@insurer.example")
        response = await client.delete(f"/api/v1/data/keys/{alice.key_id}", headers=bob.by_token)
        assert response.status_code == 404
        assert response.json()["type"].endswith("/api-key-not-found")
        assert (await client.get(USAGE, headers=alice.by_key)).status_code == 200
