"""Helpers for driving the fake like a client would: a settable clock, the OAuth dance, bearer headers."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

CLIENT_ID = "carpulse-sandbox"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "https://carpulse.example/api/v1/tesla/oauth/callback"
ALL_SCOPES = "openid offline_access user_data vehicle_device_data vehicle_location vehicle_cmds vehicle_charging_cmds"


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def pkce_pair(verifier: str = "a-long-random-verifier-of-at-least-43-characters-0123456789") -> tuple[str, str]:
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": ALL_SCOPES,
        "state": "state-123",
    }
    params.update(overrides)
    return params


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def authorization_code(http: httpx.AsyncClient, account: str, **overrides: str) -> str:
    response = await http.get("/oauth2/v3/authorize", params=authorize_params(sandbox_account=account, **overrides))
    return redirect_query(response)["code"]


def code_form(issued_code: str, **overrides: str) -> dict[str, str]:
    """The exchange form for a code; an override of "" leaves that field out."""
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": issued_code,
        "redirect_uri": REDIRECT_URI,
        "audience": "http://fake/eu",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value != ""}


async def login(http: httpx.AsyncClient, account: str, *, scope: str = ALL_SCOPES) -> dict[str, Any]:
    """The token response for a consent to `account` with `scope`."""
    code = await authorization_code(http, account, scope=scope)
    response = await http.post("/oauth2/v3/token", data=code_form(code))
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def refresh(http: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": refresh_token}
    return await http.post("/oauth2/v3/token", data=form)


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}
