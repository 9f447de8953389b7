"""Google's OAuth 2.0 endpoints as the fake serves them, and `/_control/*` for tests and scripts."""

from __future__ import annotations

import base64
import binascii
import json
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from fakes.google.fake import DISCOVERY_MAX_AGE_SECONDS, SCOPE_ALIASES, Forgery, OAuthError

if TYPE_CHECKING:
    from fakes.google.fake import GoogleFake

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
table{{border-collapse:collapse;width:100%}}td,th{{padding:.4rem;border-bottom:1px solid #ddd;text-align:left}}
button{{padding:.3rem .8rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def fake_of(request: Request) -> GoogleFake:
    """The fake whose app serves `request` (the routes are shared by every fake in the process)."""
    fake: GoogleFake = request.app.state.fake
    return fake


def root_url(request: Request) -> str:
    """The fake's absolute root, including any mount prefix."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def _count(request: Request) -> None:
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    fake_of(request).requests[path[len(root) :] if root and path.startswith(root) else path] += 1


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body), status_code=status)


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@router.get("/.well-known/openid-configuration")
async def openid_configuration(request: Request) -> Response:
    _count(request)
    fake, root = fake_of(request), root_url(request)
    document = {
        "issuer": fake.issuer_at(root),
        "authorization_endpoint": f"{root}/o/oauth2/v2/auth",
        "token_endpoint": f"{root}/token",
        "userinfo_endpoint": f"{root}/v1/userinfo",
        "revocation_endpoint": f"{root}/revoke",
        "jwks_uri": f"{root}/oauth2/v3/certs",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": [
            "aud",
            "email",
            "email_verified",
            "exp",
            "family_name",
            "given_name",
            "iat",
            "iss",
            "name",
            "picture",
            "sub",
        ],
        "code_challenge_methods_supported": ["plain", "S256"],
        "grant_types_supported": ["authorization_code"],
    }
    return JSONResponse(document, headers={"Cache-Control": f"public, max-age={DISCOVERY_MAX_AGE_SECONDS}"})


@router.get("/oauth2/v3/certs")
async def certs(request: Request) -> Response:
    _count(request)
    fake = fake_of(request)
    cache_control = f"public, max-age={fake.jwks_max_age_seconds}, must-revalidate, no-transform"
    return JSONResponse(fake.jwks(), headers={"Cache-Control": cache_control})


@router.get("/o/oauth2/v2/auth")
async def authorize(request: Request) -> Response:
    _count(request)
    return _authorize(fake_of(request), request)


def _authorize(fake: GoogleFake, request: Request) -> Response:
    query = request.query_params
    client = fake.client(query.get("client_id"))
    redirect_uri = query.get("redirect_uri", "")
    # Like Google, never redirect before the client and its redirect URI are known.
    if client is None:
        return _page("Error 401: invalid_client", "<p>The OAuth client was not found.</p>", 401)
    if not fake.registered(redirect_uri, client):
        body = "<p>You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy.</p>"
        return _page("Error 400: redirect_uri_mismatch", body, 400)
    state = query.get("state")

    def refuse(error: str, description: str | None = None) -> RedirectResponse:
        params = {"error": error}
        if description:
            params["error_description"] = description
        if state is not None:
            params["state"] = state
        return RedirectResponse(_with_query(redirect_uri, params), status_code=302)

    requested = query.get("scope", "").split()
    scopes = tuple(dict.fromkeys(SCOPE_ALIASES.get(scope, "") for scope in requested))
    challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
    if query.get("response_type") != "code":
        return refuse("unsupported_response_type")
    if not scopes or "" in scopes:
        return refuse("invalid_scope", "Some requested scopes were invalid.")
    if challenge is not None and (method or "plain") not in ("plain", "S256"):
        return refuse("invalid_request", "Invalid code_challenge_method")
    if query.get("sandbox_deny"):
        return refuse("access_denied")
    name = query.get("sandbox_user")
    if name is None:
        return _consent_page(fake, request)
    user = fake.users.get(name)
    if user is None:
        return _page("Unknown account", f"<p>No sandbox user named <code>{escape(name)}</code>.</p>", 400)
    code = fake.issue_code(
        user,
        client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        challenge=challenge,
        challenge_method=(method or "plain") if challenge else None,
        nonce=query.get("nonce"),
    )
    params = {"code": code, "scope": " ".join(requested), "authuser": "0", "prompt": "consent"}
    if state is not None:
        params = {"state": state, **params}
    return RedirectResponse(_with_query(redirect_uri, params), status_code=302)


def _consent_page(fake: GoogleFake, request: Request) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in request.query_params.multi_items()
        if not key.startswith("sandbox_")
    )
    rows = "".join(
        f"<tr><td>{escape(user.name)}</td><td>{escape(user.full_name)}</td><td>{escape(user.email)}</td>"
        f"<td>{'yes' if user.email_verified else 'no'}</td>"
        f'<td><button type="submit" name="sandbox_user" value="{escape(user.name)}">'
        f"Continue as {escape(user.name)}</button></td></tr>"
        for user in fake.users.values()
    )
    action = escape(f"{request.scope.get('root_path', '')}/o/oauth2/v2/auth")
    body = (
        "<p>Sandbox: choose a Google account to sign in with.</p>"
        f'<form method="get" action="{action}">{hidden}'
        "<table><thead><tr><th>User</th><th>Name</th><th>E-mail</th><th>Verified</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        '<p><button type="submit" name="sandbox_deny" value="1">Cancel</button></p></form>'
    )
    return _page("Sign in with Google (sandbox)", body)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    # RFC 6749 §2.3.1: both halves are form-urlencoded before they are joined.
    return unquote(client_id), unquote(secret)


async def _read_form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body: Any = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        return {str(key): str(value) for key, value in body.items()} if isinstance(body, dict) else {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.post("/token")
async def token(request: Request) -> Response:
    _count(request)
    fake = fake_of(request)
    try:
        body = fake.exchange_code(await _read_form(request), _basic_credentials(request), root_url(request))
    except OAuthError as exc:
        error = {"error": exc.error, "error_description": exc.description}
        return JSONResponse(error, status_code=exc.status, headers={"Cache-Control": "no-store"})
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get("/v1/userinfo")
@router.get("/oauth2/v3/userinfo")
async def userinfo(request: Request) -> Response:
    _count(request)
    claims = fake_of(request).userinfo(request.headers.get("authorization"))
    if claims is None:
        error = {"error": "invalid_request", "error_description": "Invalid Credentials"}
        return JSONResponse(error, status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return JSONResponse(claims)


@router.post("/revoke")
async def revoke(request: Request) -> Response:
    _count(request)
    form = await _read_form(request)
    value = request.query_params.get("token") or form.get("token", "")
    if not fake_of(request).revoke(value):
        return JSONResponse({"error": "invalid_token", "error_description": "Bad Request"}, status_code=400)
    return JSONResponse({})


# --- /_control: what a test or a script asks of the sandbox -----------------------------------------


class IdTokenRequest(BaseModel):
    """Mint an ID token as Google Sign-In hands one to a phone (or a forged one, to see it refused)."""

    model_config = ConfigDict(extra="forbid")

    sandbox_user: str = "alice"
    audience: str | None = Field(default=None, description="a client id; default: the iOS client")
    nonce: str | None = None
    forgery: Forgery | None = None


@router.post("/_control/id-token")
async def mint_id_token(request: Request, body: IdTokenRequest) -> dict[str, str]:
    fake = fake_of(request)
    if body.sandbox_user not in fake.users:
        raise HTTPException(404, f"no sandbox user named {body.sandbox_user!r}")
    issuer = fake.issuer_at(root_url(request))
    if body.forgery is not None:
        token = fake.mint_forged(body.forgery, body.sandbox_user, body.audience, nonce=body.nonce, issuer=issuer)
    else:
        token = fake.mint_id_token(body.sandbox_user, body.audience, nonce=body.nonce, issuer=issuer)
    return {"id_token": token}


@router.get("/_control/users")
async def users(request: Request) -> list[dict[str, Any]]:
    return [{"name": user.name, "sub": user.subject, **user.profile()} for user in fake_of(request).users.values()]


@router.post("/_control/keys/rotate")
async def rotate(request: Request) -> dict[str, Any]:
    fake = fake_of(request)
    return {"signing_kid": fake.rotate_keys(), "published": [key["kid"] for key in fake.jwks()["keys"]]}


@router.post("/_control/keys/retire")
async def retire(request: Request) -> dict[str, Any]:
    fake = fake_of(request)
    return {"retired_kid": fake.retire_key(), "published": [key["kid"] for key in fake.jwks()["keys"]]}
