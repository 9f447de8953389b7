"""A signed-in driver, the app's Open Charge Map fake, and a search helper."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.auth.service import auth
from carpulse.models import Account, AccountRole
from fakes.open_charge_map import OpenChargeMapFake

# Kamppi, Helsinki: a few hundred metres from the fake's Helsinki centre.
HELSINKI = (60.1690, 24.9320)
SEARCH = "/api/v1/charging-stations"


async def token_for(app: FastAPI, role: AccountRole = AccountRole.driver) -> str:
    """A bearer token of a new account with `role`, stored in the test's transaction."""
    state = app.state.carpulse
    async with state.sessionmaker() as db:
        name = f"{role.value}-{uuid.uuid4().hex[:12]}@example.com"
        account = Account(username=name, email=name, role=role, email_confirmed_at=state.clock.now())
        db.add(account)
        await db.commit()
        return auth.issue_token(state.settings.auth, account, state.clock).access_token


@pytest.fixture
async def driver(app: FastAPI) -> dict[str, str]:
    """The Authorization header of a signed-in driver."""
    return {"Authorization": f"Bearer {await token_for(app)}"}


@pytest.fixture
def ocm(app: FastAPI) -> OpenChargeMapFake:
    fake = app.state.carpulse.sandbox.open_charge_map
    assert isinstance(fake, OpenChargeMapFake)
    return fake


async def search(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    lat: float = HELSINKI[0],
    lon: float = HELSINKI[1],
    **params: Any,
) -> httpx.Response:
    return await client.get(SEARCH, params={"lat": lat, "lon": lon, **params}, headers=headers)


async def stations(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    lat: float = HELSINKI[0],
    lon: float = HELSINKI[1],
    **params: Any,
) -> dict[str, Any]:
    response = await search(client, headers, lat, lon, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
