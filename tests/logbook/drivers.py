"""Signing drivers in for tests: through the Google fake's ID-token hook and our `google/token` endpoint.

    headers = await sign_in(client)                  # alice
    other = await sign_in(client, sandbox_user="bob")  # a second driver: bob (also on the allowlist)

Both go through HTTP on the app's own sandbox (`/_sandbox/google`), as an iOS app would: fast, no browser.
"""

from __future__ import annotations

import httpx

ID_TOKEN_HOOK = "/_sandbox/google/_control/id-token"
SIGN_IN = "/api/v1/logbook/auth/google/token"


async def google_id_token(client: httpx.AsyncClient, sandbox_user: str = "alice", **fields: str) -> str:
    """An ID token the Google fake mints for `sandbox_user` (audience: the iOS client unless `audience=` says)."""
    response = await client.post(ID_TOKEN_HOOK, json={"sandbox_user": sandbox_user, **fields})
    assert response.status_code == 200, response.text
    token: str = response.json()["id_token"]
    return token


async def sign_in_tokens(client: httpx.AsyncClient, sandbox_user: str = "alice") -> dict[str, object]:
    """Our token answer (`access_token`, `refresh_token`, …) for `sandbox_user`."""
    response = await client.post(SIGN_IN, json={"id_token": await google_id_token(client, sandbox_user)})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def sign_in(client: httpx.AsyncClient, sandbox_user: str = "alice") -> dict[str, str]:
    """The Authorization headers of a driver signed in as `sandbox_user`: alice or bob on the default allowlist
    (eve is not on it; carol's address is unverified)."""
    tokens = await sign_in_tokens(client, sandbox_user)
    return {"Authorization": f"Bearer {tokens['access_token']}"}
