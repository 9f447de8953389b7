"""Logbook drivers as tests need them: an account signed in with Google leaves one like this."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from carpulse.auth.service import auth
from carpulse.models import Account, AccountRole


async def driver(app: FastAPI, email: str = "alice@example.com") -> dict[str, str]:
    """Authorization headers of a driver with this Google address (the account written as sign-in leaves it)."""
    state = app.state.carpulse
    async with state.sessionmaker() as db:
        account = Account(username=f"google:{email}", email=email, role=AccountRole.driver)
        db.add(account)
        await db.commit()
        return {"Authorization": f"Bearer {auth.issue_token(state.settings.auth, account, state.clock).access_token}"}


async def add_car(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/logbook/cars", json={"name": "Work car", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def webhook_token(client: httpx.AsyncClient, headers: dict[str, str], car_id: str) -> str:
    response = await client.post(f"/api/v1/logbook/cars/{car_id}/webhook-tokens", json={}, headers=headers)
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token
