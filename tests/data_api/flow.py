"""A Data API client as a business sets one up: register, confirm, log in, make a key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.signup.flow import PASSWORD, login, registered_token

# VINs whose check digits are right and whose models the catalogue knows.
MODEL_3_VIN = "5YJ3E1EB5LF000001"  # a 2020 Model 3 Long Range AWD


@dataclass
class DataClient:
    email: str
    account_id: str
    token: str
    key: str
    key_id: str

    @property
    def by_key(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def by_header(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    @property
    def by_token(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def data_client(
    app: FastAPI, client: httpx.AsyncClient, email: str = "fleet@leasing.example", **registration: Any
) -> DataClient:
    """A confirmed API client with one key, through the HTTP API only."""
    token = await registered_token(app, client, email, **registration)
    confirmed = await client.post("/api/v1/auth/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    logged_in = await login(client, email, PASSWORD)
    assert logged_in.status_code == 200, logged_in.text
    jwt = logged_in.json()["access_token"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {jwt}"})
    created = await client.post(
        "/api/v1/data/keys", json={"name": "fleet sync"}, headers={"Authorization": f"Bearer {jwt}"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    return DataClient(email, me.json()["id"], jwt, body["key"], body["id"])
