"""Connecting a vehicle account: each brand's mount, `/api/v1/{brand}/oauth/*` (or `/sign-in`) and `/session/{id}/*`."""

from __future__ import annotations

import html
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from carpulse.connect.dependencies import ConnectContextDep
from carpulse.connect.errors import (
    ConnectSessionNotFound,
    ConsentDeclined,
    OAuthBrowserMismatch,
    OAuthStateInvalid,
    SelectionInvalid,
)
from carpulse.connect.schemas import (
    RETURN_URL_MAX_LENGTH,
    CallbackResult,
    CredentialsRequest,
    InitiateRequest,
    InitiateResponse,
    Locale,
    SelectRequest,
    SessionState,
    SessionVehicles,
)
from carpulse.connect.service import BINDING_COOKIE, BINDING_HEADER, ConnectContext, connect, new_binding
from carpulse.errors import (
    CarPulseError,
    DependencyUnavailable,
    RateLimited,
    ValidationFailed,
    problem_responses,
    render_error,
)
from carpulse.provider.base import Brand, BrandInfo, SignInKind
from carpulse.provider.errors import (
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    ReauthorizationRequired,
    SignInFailed,
)
from carpulse.rate_limit import limit_by_ip
from carpulse.state import get_state

SessionId = Annotated[str, Path(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


async def _start_bound(
    request: Request,
    response: Response,
    context: ConnectContext,
    brand: Brand,
    locale: Locale,
    return_url: str | None,
) -> InitiateResponse:
    """A flow bound to this browser: its secret (kept, or new) is set as a cookie the callback must bring."""
    binding = new_binding(request.cookies.get(BINDING_COOKIE))
    started = await connect.initiate(context, brand, locale, return_url, binding)
    # Sent back only to the OAuth routes; Lax, as the brand's redirect to the callback is a top-level GET.
    response.set_cookie(
        BINDING_COOKIE,
        binding,
        max_age=context.state_ttl_seconds,
        path=request.url.path.rsplit("/", 1)[0],
        secure=get_state(request).settings.base_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return started


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept or "text/html" not in accept


def _error_page(request: Request, error: CarPulseError, frontend: str) -> HTMLResponse:
    title = html.escape(error.title)
    detail = html.escape(error.detail or error.title)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body><main><h1>{title}</h1><p>{detail}</p>"
        f"<p><a href='{html.escape(frontend, quote=True)}'>Back to Car Pulse</a></p></main></body></html>"
    )
    return HTMLResponse(page, status_code=error.status, headers=error.headers)


# The web app's own page for a connection that did not happen (`web/reports`), with the reason's word.
CONNECT_FAILED_PAGE = "/reports/connect-failed"


def _failure_word(error: CarPulseError) -> str:
    """What went wrong, in one word the connect-failed page explains (never the vendor's own text)."""
    if isinstance(error, ConsentDeclined):
        return "declined"
    if isinstance(error, OAuthStateInvalid):
        return "expired"
    if isinstance(error, OAuthBrowserMismatch):
        return "other-browser"
    if isinstance(error, SignInFailed | ReauthorizationRequired):
        return "sign-in-failed"
    if isinstance(error, ProviderUnavailable | ProviderTimeout | ProviderRateLimited | DependencyUnavailable):
        return "unavailable"
    return "failed"


def _failure_response(request: Request, error: CarPulseError, frontend: str, own_frontend: bool) -> Response:
    """A browser whose connection failed: to our web app's page that says why (or, with a front end of its
    own, a small page linking back to it)."""
    if own_frontend:
        target = f"{CONNECT_FAILED_PAGE}?{urlencode({'problem': _failure_word(error)})}"
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    return _error_page(request, error, frontend)


def _with_html_pages(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """A browser (Accept: text/html) gets each error as a small page instead of a problem document."""
    for response in responses.values():
        response["content"] = {**response.get("content", {}), "text/html": {"schema": {"type": "string"}}}
    return responses


def connect_router(info: BrandInfo) -> APIRouter:
    """One brand's connect mount: the sign-in its brand declares, then the connect session's routes."""
    router = APIRouter(prefix=f"/{info.name}", tags=[f"{info.name} connect"])
    if info.sign_in is SignInKind.oauth_pkce:
        _oauth_routes(router, info)
    else:
        _credentials_routes(router, info)
    _session_routes(router, info)
    return router


def _vendor_errors(info: BrandInfo) -> tuple[type[CarPulseError], ...]:
    kinds = (ProviderUnavailable, ProviderTimeout, ProviderRateLimited, ReauthorizationRequired)
    return tuple(info.problem(kind) for kind in kinds)


def _brand(info: BrandInfo, context: ConnectContext) -> Brand:
    return context.providers.get(info.name)


def _oauth_routes(router: APIRouter, info: BrandInfo) -> None:
    label = info.label
    vendor_errors = _vendor_errors(info)

    @router.post(
        "/oauth/initiate",
        response_model=InitiateResponse,
        # Each call stores an OAuth state for minutes: bounded per client IP.
        dependencies=[Depends(limit_by_ip("oauth_initiate"))],
        responses=problem_responses(ValidationFailed, SelectionInvalid, DependencyUnavailable, RateLimited),
        summary=f"Start connecting a {label} account (OAuth with state and PKCE)",
    )
    async def initiate(
        request: Request, response: Response, body: InitiateRequest, context: ConnectContextDep
    ) -> InitiateResponse:
        settings = get_state(request).settings
        if body.via_dev_proxy and settings.is_production:
            # The dev proxy does not exist in production, so neither does a flow through it.
            reason = "via_dev_proxy is not available in production"
            raise ValidationFailed(
                reason, errors=[{"loc": ["body", "via_dev_proxy"], "message": reason, "type": "value_error"}]
            )
        if body.via_dev_proxy:
            return await connect.initiate(
                context, _brand(info, context), body.locale, body.return_url, None, via_dev_proxy=True
            )
        return await _start_bound(request, response, context, _brand(info, context), body.locale, body.return_url)

    @router.get(
        "/oauth/start",
        status_code=303,
        response_class=RedirectResponse,
        # The same budget as `initiate`: each call stores an OAuth state.
        dependencies=[Depends(limit_by_ip("oauth_initiate"))],
        responses={
            303: {"description": f"to {label}'s consent page, with the browser's binding cookie set"},
            **problem_responses(ValidationFailed, SelectionInvalid, DependencyUnavailable, RateLimited),
        },
        summary=f"Start connecting from a plain link: like `initiate`, answered by a redirect to {label}",
    )
    async def start(
        request: Request,
        context: ConnectContextDep,
        locale: Locale = Locale.en,
        return_url: Annotated[str | None, Query(max_length=RETURN_URL_MAX_LENGTH)] = None,
    ) -> RedirectResponse:
        redirect = RedirectResponse("/", status_code=303)
        started = await _start_bound(request, redirect, context, _brand(info, context), locale, return_url)
        redirect.headers["location"] = started.authorization_url
        return redirect

    @router.get(
        "/oauth/callback",
        response_model=CallbackResult,
        # A browser is redirected (303, no body); only a client asking for JSON gets the 200 document.
        responses={
            200: {"model": CallbackResult, "description": "with `Accept: application/json`"},
            303: {
                "description": (
                    "to the frontend (or the dev proxy's tunnel) with `session_id`; when the connection failed, "
                    "to the web app's page that says why (`/reports/connect-failed?problem=…`)"
                )
            },
            **_with_html_pages(
                problem_responses(
                    OAuthStateInvalid,
                    OAuthBrowserMismatch,
                    ConsentDeclined,
                    info.problem(SignInFailed),
                    ValidationFailed,
                    *vendor_errors,
                )
            ),
        },
        summary=f"{label} redirects the browser here after consent",
    )
    async def callback(
        request: Request,
        context: ConnectContextDep,
        code: Annotated[str | None, Query(max_length=2048)] = None,
        state: Annotated[str | None, Query(max_length=256)] = None,
        error: Annotated[str | None, Query(max_length=256)] = None,
        error_description: Annotated[str | None, Query(max_length=1024)] = None,
    ) -> Response:
        settings = get_state(request).settings
        frontend = settings.frontend_url
        # A flow started by the dev proxy is completed by the developer's own instance, behind its tunnel.
        relay = await connect.relay(context, code=code, state=state, error=error, error_description=error_description)
        if relay is not None:
            return RedirectResponse(relay, status_code=303)
        try:
            session = await connect.complete(
                context,
                _brand(info, context),
                code=code,
                state=state,
                error=error,
                error_description=error_description,
                # A client that names its binding means it (a browser cannot be made to send a header on a
                # redirect); else the browser's cookie, which concurrent first sign-ins may have overwritten.
                binding=request.headers.get(BINDING_HEADER) or request.cookies.get(BINDING_COOKIE),
            )
        except CarPulseError as exc:
            if _wants_json(request):
                return render_error(request, exc)
            return _failure_response(request, exc, frontend, own_frontend=settings.tesla.frontend_url is None)
        if _wants_json(request):
            return JSONResponse(CallbackResult(session_id=session.id, vehicle_count=len(session.vehicles)).model_dump())
        target = session.return_url or frontend
        separator = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{separator}{urlencode({'session_id': session.id})}", status_code=303)


def _credentials_routes(router: APIRouter, info: BrandInfo) -> None:
    label = info.label
    vendor_errors = _vendor_errors(info)

    @router.post(
        "/sign-in",
        response_model=CallbackResult,
        dependencies=[Depends(limit_by_ip("oauth_initiate"))],
        responses=problem_responses(
            ValidationFailed,
            SelectionInvalid,
            DependencyUnavailable,
            RateLimited,
            info.problem(SignInFailed),
            *vendor_errors,
        ),
        summary=f"Connect a {label} account with its owner's sign-in (only its tokens are kept)",
    )
    async def sign_in(body: CredentialsRequest, context: ConnectContextDep) -> CallbackResult:
        session = await connect.sign_in_with_credentials(
            context, _brand(info, context), body.username, body.password, body.locale, body.return_url
        )
        return CallbackResult(session_id=session.id, vehicle_count=len(session.vehicles))


def _session_routes(router: APIRouter, info: BrandInfo) -> None:
    @router.get(
        "/session/{session_id}/vehicles",
        response_model=SessionVehicles,
        responses=problem_responses(ConnectSessionNotFound, ValidationFailed),
        summary="The connected account's vehicles",
    )
    async def vehicles(session_id: SessionId, context: ConnectContextDep) -> SessionVehicles:
        session = await connect.get(context, session_id, brand=info.name)
        return SessionVehicles(session_id=session.id, vehicles=session.vehicles)

    @router.get(
        "/session/{session_id}/state",
        response_model=SessionState,
        responses=problem_responses(ConnectSessionNotFound, ValidationFailed),
        summary="Everything the frontend needs to resume",
    )
    async def session_state(session_id: SessionId, context: ConnectContextDep) -> SessionState:
        return await connect.state(context, session_id, brand=info.name)

    @router.post(
        "/session/{session_id}/select",
        response_model=SessionState,
        responses=problem_responses(ConnectSessionNotFound, SelectionInvalid, ValidationFailed),
        summary="Choose vehicles and a package",
    )
    async def select(session_id: SessionId, body: SelectRequest, context: ConnectContextDep) -> SessionState:
        return await connect.select(context, session_id, body, brand=info.name)
