"""The auth host: authorize (consent page), token, OIDC metadata, JWKS and userinfo (reference §3)."""

from __future__ import annotations

import json
import uuid
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from fakes.tesla_fleet.faults import Call
from fakes.tesla_fleet.fleet_api import fake_of, relative_path, root_url
from fakes.tesla_fleet.oauth import SCOPES, OAuthError, TokenRejected

if TYPE_CHECKING:
    from fakes.tesla_fleet.fake import TeslaFleetFake

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
table{{border-collapse:collapse;width:100%}}td,th{{padding:.4rem;border-bottom:1px solid #ddd;text-align:left}}
button{{padding:.3rem .8rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body), status_code=status)


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


router = APIRouter(prefix="/oauth2/v3", include_in_schema=False)


def _log(fake: TeslaFleetFake, request: Request, account: str | None, status: int) -> None:
    fake.calls.append(Call(account, request.method, relative_path(request), status))


@router.get("/authorize")
async def authorize(request: Request) -> Response:
    fake = fake_of(request)
    response, account = _authorize(fake, request)
    _log(fake, request, account, response.status_code)
    return response


@router.post("/token")
async def token(request: Request) -> Response:
    fake = fake_of(request)
    form = await _read_form(request)
    root, account = root_url(request), None
    try:
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            account, body = fake.authority.exchange_code(form, root)
        elif grant_type == "refresh_token":
            account, body = fake.authority.refresh(form, root)
        elif grant_type == "client_credentials":
            body = fake.authority.client_credentials(form, root)
        else:
            raise OAuthError(400, "unsupported_grant_type", "grant_type is not supported")
        response = JSONResponse(body, headers={"Cache-Control": "no-store"})
    except OAuthError as exc:
        error = {
            "error": exc.error,
            "error_description": exc.description,
            "error_uri": f"{root}/error/reference/{uuid.uuid4()}",
        }
        response = JSONResponse(error, status_code=exc.status, headers={"Cache-Control": "no-store"})
    _log(fake, request, account, response.status_code)
    return response


@router.get("/thirdparty/.well-known/openid-configuration")
@router.get("/.well-known/openid-configuration")
async def openid_configuration(request: Request) -> Response:
    root = root_url(request)
    return JSONResponse(
        {
            "issuer": f"{root}/oauth2/v3",
            "authorization_endpoint": f"{root}/oauth2/v3/authorize",
            "token_endpoint": f"{root}/oauth2/v3/token",
            "userinfo_endpoint": f"{root}/oauth2/v3/userinfo",
            "jwks_uri": f"{root}/oauth2/v3/discovery/keys",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(SCOPES),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }
    )


@router.get("/discovery/keys")
async def jwks(request: Request) -> Response:
    return JSONResponse(fake_of(request).authority.jwks())


@router.get("/userinfo")
async def userinfo(request: Request) -> Response:
    fake = fake_of(request)
    try:
        token = fake.authority.authenticate(request.headers.get("authorization"))
    except TokenRejected as exc:
        return JSONResponse({"error": exc.message}, status_code=401)
    if token.account is None:
        return JSONResponse({"error": "unknown user"}, status_code=401)
    account = fake.accounts[token.account]
    return JSONResponse({"sub": account.subject, "email": account.email, "name": account.full_name})


async def _read_form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body: Any = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        return {str(key): str(value) for key, value in body.items()} if isinstance(body, dict) else {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _authorize(fake: TeslaFleetFake, request: Request) -> tuple[Response, str | None]:
    query = request.query_params
    client_id, redirect_uri, state = query.get("client_id"), query.get("redirect_uri", ""), query.get("state")
    # Never redirect anywhere before client and redirect URI are known to be registered.
    if client_id != fake.client_id:
        return _page("Invalid request", "<p>Unknown <code>client_id</code>.</p>", 400), None
    if not fake.registration.accepts(redirect_uri):
        return _page("Invalid request", "<p>This <code>redirect_uri</code> is not registered.</p>", 400), None
    if not state:
        return _page("Invalid request", "<p>The <code>state</code> parameter is required.</p>", 400), None

    def refuse(error: str, description: str) -> RedirectResponse:
        target = _with_query(redirect_uri, {"error": error, "error_description": description, "state": state})
        return RedirectResponse(target, status_code=302)

    scopes = tuple(dict.fromkeys(query.get("scope", "").split()))
    challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
    if query.get("response_type") != "code":
        return refuse("unsupported_response_type", "response_type must be code"), None
    if not scopes or not set(scopes) <= SCOPES:
        return refuse("invalid_scope", "unknown or missing scope"), None
    if (challenge or method) and (not challenge or method != "S256"):
        return refuse("invalid_request", "PKCE needs code_challenge with code_challenge_method=S256"), None
    if query.get("sandbox_deny"):
        return refuse("access_denied", "The user denied access to the application"), None
    name = query.get("sandbox_account")
    if name is None:
        return _consent_page(fake, request), None
    account = fake.accounts.get(name)
    if account is None:
        return _page("Unknown account", f"<p>No sandbox account named <code>{escape(name)}</code>.</p>", 400), None
    code = fake.authority.issue_code(
        account, redirect_uri=redirect_uri, scopes=scopes, challenge=challenge, nonce=query.get("nonce"), state=state
    )
    issuer = f"{root_url(request)}/oauth2/v3"
    target = _with_query(redirect_uri, {"code": code, "state": state, "locale": "en-US", "issuer": issuer})
    return RedirectResponse(target, status_code=302), account.name


def _consent_page(fake: TeslaFleetFake, request: Request) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in request.query_params.multi_items()
        if not key.startswith("sandbox_")
    )
    rows = "".join(
        f"<tr><td>{escape(account.name)}</td><td>{escape(account.full_name)}</td><td>{account.region.upper()}</td>"
        f"<td>{len(account.vehicles)}</td>"
        f'<td><button type="submit" name="sandbox_account" value="{escape(account.name)}">'
        f"Sign in as {escape(account.name)}</button></td></tr>"
        for account in fake.accounts.values()
    )
    scopes = escape(request.query_params.get("scope", ""))
    action = escape(f"{request.scope.get('root_path', '')}/oauth2/v3/authorize")
    body = (
        f"<p>Sandbox: choose a synthetic Tesla account to connect. Requested scopes: <code>{scopes}</code></p>"
        f'<form method="get" action="{action}">{hidden}'
        "<table><thead><tr><th>Account</th><th>Owner</th><th>Region</th><th>Vehicles</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        '<p><button type="submit" name="sandbox_deny" value="1">Deny</button></p></form>'
    )
    return _page("Tesla sign-in (sandbox)", body)
