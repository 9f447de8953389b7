"""A Data API client as a business sets one up: register, confirm, log in, make a key."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from carpulse.auth.service import auth
from carpulse.kit.passwords import hash_password
from carpulse.models import Account, AccountRole
from carpulse.plan.service import start_on_the_default_plan
from tests.signup.flow import PASSWORD, login, registered_token
from tests.signup.flow import registration as registration_details

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


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 costs ~130 ms: once per test process, not per client


async def data_client(
    app: FastAPI,
    client: httpx.AsyncClient,
    email: str = "fleet@leasing.example",
    *,
    sign_up: bool = False,
    **registration: Any,
) -> DataClient:
    """A confirmed API client with one key (made through HTTP). With `sign_up`, the client registers, confirms by
    the mailed link and logs in as a business would (tests/signup test those steps one by one); else its
    account is written as a confirmed sign-up leaves it and its token issued directly."""
    if sign_up:
        token = await registered_token(app, client, email, **registration)
        confirmed = await client.post("/api/v1/auth/confirm", json={"token": token})
        assert confirmed.status_code == 200, confirmed.text
        logged_in = await login(client, email, PASSWORD)
        assert logged_in.status_code == 200, logged_in.text
        jwt = logged_in.json()["access_token"]
    else:
        jwt = await _confirmed_account(app, email, registration)
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {jwt}"})
    created = await client.post(
        "/api/v1/data/keys", json={"name": "fleet sync"}, headers={"Authorization": f"Bearer {jwt}"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    return DataClient(email, me.json()["id"], jwt, body["key"], body["id"])


async def _confirmed_account(app: FastAPI, email: str, registration: dict[str, Any]) -> str:
    state = app.state.carpulse
    details = registration_details(email, **registration)
    async with state.sessionmaker() as db:
        account = Account(
            username=email.lower(),
            email=email.lower(),
            password_hash=_password_hash(),
            role=AccountRole.api_client,
            company_name=details.get("company_name"),
            country=details.get("country"),
            vat_number=details.get("vat_number"),
            email_confirmed_at=state.clock.now(),
        )
        db.add(account)
        await db.flush()
        await start_on_the_default_plan(db, account)
        await db.commit()
        return auth.issue_token(state.settings.auth, account, state.clock).access_token
