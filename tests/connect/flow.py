"""Drive the connect flow through HTTP the way a browser would, against the sandbox Tesla fake."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

JSON = {"Accept": "application/json"}


async def authorize(
    client: httpx.AsyncClient, account: str | None, *, deny: bool = False
) -> tuple[str, dict[str, str]]:
    """Initiate, then let the fake's consent page answer for `account`; returns (state, callback query)."""
    initiated = await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "fi"})
    assert initiated.status_code == 200, initiated.text
    body = initiated.json()
    url = urlsplit(body["authorization_url"])
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    if deny:
        query["sandbox_deny"] = "1"
    elif account is not None:
        query["sandbox_account"] = account
    consent = await client.get(url.path, params=query)
    assert consent.status_code in (302, 303), consent.text
    location = urlsplit(consent.headers["location"])
    assert location.path == "/api/v1/tesla/oauth/callback"
    callback = {key: values[0] for key, values in parse_qs(location.query).items()}
    return body["state"], callback


async def connect_account(client: httpx.AsyncClient, account: str) -> dict[str, Any]:
    _, callback = await authorize(client, account)
    response = await client.get("/api/v1/tesla/oauth/callback", params=callback, headers=JSON)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def sandbox_fake(client_app: Any) -> Any:
    return client_app.state.carpulse.sandbox.tesla
