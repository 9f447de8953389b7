"""Sign-up steps as a client takes them: register, read the sandbox mailbox, follow the link."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from carpulse.signup.service import CONFIRM_PAGE_PATH

PASSWORD = "a long enough passphrase"


def registration(email: str = "data@dealer.example", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": email,
        "password": PASSWORD,
        "company_name": "Dealer Oy",
        "country": "FI",
        "vat_number": "FI20774740",
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


async def register(client: httpx.AsyncClient, email: str = "data@dealer.example", **overrides: Any) -> httpx.Response:
    return await client.post("/api/v1/auth/register", json=registration(email, **overrides))


async def mailbox(app: FastAPI, client: httpx.AsyncClient, address: str) -> list[dict[str, Any]]:
    """The sandbox's messages to `address`, newest first, once every queued send has run."""
    await app.state.carpulse.jobs.drain()
    response = await client.get("/_sandbox/mail", params={"to": address})
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def confirmation_link(message: dict[str, Any]) -> str:
    links = [link for link in message["links"] if urlsplit(link).path == CONFIRM_PAGE_PATH]
    assert len(links) == 1, message["links"]
    return links[0]


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def registered_token(app: FastAPI, client: httpx.AsyncClient, email: str, **overrides: Any) -> str:
    response = await register(client, email, **overrides)
    assert response.status_code == 202, response.text
    [message] = await mailbox(app, client, email)
    return token_of(confirmation_link(message))


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login/json", json={"username": username, "password": password})
