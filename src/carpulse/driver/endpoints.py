"""`/api/v1/logbook/auth/*` and `/api/v1/logbook/me`: drivers sign in with Google and get our tokens.

A browser's session is its refresh token, in an HttpOnly cookie sent only to `/api/v1/logbook/auth`
(SameSite=Strict); its pages ask `POST …/auth/refresh` for an access token. Apps keep the refresh token
themselves and send it in the body.
"""

from __future__ import annotations

import html
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from carpulse.auth.dependencies import DriverAccount
from carpulse.auth.errors import DriverRequired, InvalidToken
from carpulse.auth.google.errors import (
    GoogleError,
    GoogleSignInFailed,
    GoogleTimeout,
    GoogleUnavailable,
    InvalidIdToken,
)
from carpulse.database import SessionDep
from carpulse.driver.errors import (
    DriverDisabled,
    DriverIdentityConflict,
    EmailNotAllowed,
    EmailUnverified,
    RefreshTokenInvalid,
    RefreshTokenReused,
    SignInBrowserMismatch,
    SignInDeclined,
    SignInStateInvalid,
)
from carpulse.driver.repository import SignInStateRepository
from carpulse.driver.schemas import (
    REDIRECT_TO_MAX_LENGTH,
    DriverRead,
    DriverTokens,
    IdTokenSignIn,
    InitiateRequest,
    InitiateResponse,
    RefreshRequest,
    same_origin_path,
)
from carpulse.driver.service import driver
from carpulse.errors import (
    CarPulseError,
    DependencyUnavailable,
    RateLimited,
    ValidationFailed,
    problem_responses,
    render_error,
)
from carpulse.rate_limit import limit_by_ip
from carpulse.state import State, get_state

LOGBOOK_TAG = "logbook-sign-in"
AUTH_PATH = "/api/v1/logbook/auth"
SESSION_COOKIE = "carpulse_driver_session"
# The browser that starts a web sign-in keeps this secret; its callback must bring it back (login CSRF).
BINDING_COOKIE = "carpulse_google_sign_in"
# Set beside the binding when the web app's sign-in page started the flow: its failures go back to that page.
PAGE_MARKER_COOKIE = "carpulse_google_sign_in_page"
# The web app's driver sign-in page; a page sign-in ends at `…/complete?ticket=…`.
PAGE_SIGN_IN_PATH = "/logbook/sign-in"

router = APIRouter(prefix="/logbook", tags=[LOGBOOK_TAG])

_GOOGLE_ERRORS = (GoogleUnavailable, GoogleTimeout, GoogleError)
_ADMISSION_ERRORS = (EmailNotAllowed, EmailUnverified, DriverDisabled, DriverIdentityConflict)


def _secure(state: State) -> bool:
    return state.settings.base_url.startswith("https://")


def _set_session(response: Response, state: State, refresh_token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        refresh_token,
        max_age=state.settings.logbook_auth.refresh_token_days * 24 * 3600,
        path=AUTH_PATH,
        secure=_secure(state),
        httponly=True,
        samesite="strict",
    )


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


async def start_sign_in(
    request: Request, response: Response, redirect_to: str | None, *, page: bool = False
) -> InitiateResponse:
    """Google's consent URL for a browser sign-in, with the browser's binding cookie set on `response`.

    `page`: started by the web app's sign-in page, which gets the sign-in (and its failures) back.
    """
    state = get_state(request)
    presented = request.cookies.get(BINDING_COOKIE)
    binding = presented if presented and 40 <= len(presented) <= 64 else secrets.token_urlsafe(32)
    started = await driver.initiate(
        SignInStateRepository(state.ephemeral), state.google, state.settings, redirect_to, binding, page=page
    )
    ttl = state.settings.logbook_auth.state_ttl_seconds
    # Lax: Google's redirect back to the callback is a top-level GET from another site.
    cookie = {"path": f"{AUTH_PATH}/google", "secure": _secure(state), "httponly": True, "samesite": "lax"}
    response.set_cookie(BINDING_COOKIE, binding, max_age=ttl, **cookie)  # type: ignore[arg-type]
    if page:
        response.set_cookie(PAGE_MARKER_COOKIE, "1", max_age=ttl, **cookie)  # type: ignore[arg-type]
    else:
        response.delete_cookie(PAGE_MARKER_COOKIE, path=f"{AUTH_PATH}/google")
    return started


@router.post(
    "/auth/google/initiate",
    response_model=InitiateResponse,
    dependencies=[Depends(limit_by_ip("oauth_initiate"))],
    responses=problem_responses(ValidationFailed, RateLimited, DependencyUnavailable, *_GOOGLE_ERRORS),
    summary="Start signing in with Google in a browser (authorization code, PKCE, state and nonce)",
)
async def initiate(request: Request, response: Response, body: InitiateRequest | None = None) -> InitiateResponse:
    return await start_sign_in(request, response, body.redirect_to if body else None)


@router.get(
    "/auth/google/start",
    status_code=303,
    response_class=RedirectResponse,
    dependencies=[Depends(limit_by_ip("oauth_initiate"))],
    responses={
        303: {"description": "to Google's consent page, with the browser's sign-in cookie set"},
        **problem_responses(ValidationFailed, RateLimited, DependencyUnavailable, *_GOOGLE_ERRORS),
    },
    summary="Start signing in from a plain link: like `initiate`, answered by a redirect to Google",
)
async def start(
    request: Request, redirect_to: Annotated[str | None, Query(max_length=REDIRECT_TO_MAX_LENGTH)] = None
) -> RedirectResponse:
    try:
        path = same_origin_path(redirect_to)
    except ValueError as exc:
        loc: list[str | int] = ["query", "redirect_to"]
        raise ValidationFailed(str(exc), errors=[{"loc": loc, "message": str(exc), "type": "value_error"}]) from exc
    redirect = RedirectResponse("/", status_code=303)
    started = await start_sign_in(request, redirect, path)
    redirect.headers["location"] = started.authorization_url
    return redirect


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept or "text/html" not in accept


def _error_page(error: CarPulseError) -> HTMLResponse:
    title, detail = html.escape(error.title), html.escape(error.detail or error.title)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body><main><h1>{title}</h1><p>{detail}</p>"
        f"<p><a href='{AUTH_PATH}/google/start'>Sign in with Google again</a></p></main></body></html>"
    )
    return HTMLResponse(page, status_code=error.status, headers=error.headers)


def _with_html_pages(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    for entry in responses.values():
        entry["content"] = {**entry.get("content", {}), "text/html": {"schema": {"type": "string"}}}
    return responses


@router.get(
    "/auth/google/callback",
    response_model=DriverTokens,
    status_code=303,
    responses={
        200: {"model": DriverTokens, "description": "with `Accept: application/json`: our tokens"},
        303: {"description": "a browser: to `redirect_to` (or `/`), its session in an HttpOnly cookie"},
        **_with_html_pages(
            problem_responses(
                SignInStateInvalid,
                SignInBrowserMismatch,
                SignInDeclined,
                GoogleSignInFailed,
                InvalidIdToken,
                *_ADMISSION_ERRORS,
                ValidationFailed,
                *_GOOGLE_ERRORS,
            )
        ),
    },
    summary="Google redirects the browser here after consent",
)
async def callback(
    request: Request,
    db: SessionDep,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=256)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    app_state = get_state(request)
    try:
        signed_in = await driver.complete(
            db,
            SignInStateRepository(app_state.ephemeral),
            app_state.google,
            app_state.settings,
            app_state.clock,
            code=code,
            state=state,
            error=error,
            binding=request.cookies.get(BINDING_COOKIE),
        )
    except CarPulseError as exc:
        if _wants_json(request):
            raise
        # A browser gets a page; what the refused sign-in may have written is undone first.
        await db.rollback()
        if request.cookies.get(PAGE_MARKER_COOKIE):
            # The web app's sign-in page explains the refusal in the reader's language.
            refused = RedirectResponse(f"{PAGE_SIGN_IN_PATH}?{urlencode({'error': exc.slug})}", status_code=303)
            refused.delete_cookie(BINDING_COOKIE, path=f"{AUTH_PATH}/google")
            refused.delete_cookie(PAGE_MARKER_COOKIE, path=f"{AUTH_PATH}/google")
            _no_store(refused)
            return refused
        return _error_page(exc)
    answer: Response
    if _wants_json(request):
        answer = JSONResponse(signed_in.tokens.model_dump(mode="json"))
    elif signed_in.page:
        ticket = await driver.hand_over(SignInStateRepository(app_state.ephemeral), signed_in)
        answer = RedirectResponse(f"{PAGE_SIGN_IN_PATH}/complete?{urlencode({'ticket': ticket})}", status_code=303)
        answer.delete_cookie(PAGE_MARKER_COOKIE, path=f"{AUTH_PATH}/google")
    else:
        answer = RedirectResponse(signed_in.redirect_to, status_code=303)
        _set_session(answer, app_state, signed_in.refresh_token)
    answer.delete_cookie(BINDING_COOKIE, path=f"{AUTH_PATH}/google")
    _no_store(answer)
    return answer


@router.post(
    "/auth/google/token",
    response_model=DriverTokens,
    dependencies=[Depends(limit_by_ip("driver_sign_in"))],
    responses=problem_responses(
        InvalidIdToken, *_ADMISSION_ERRORS, ValidationFailed, RateLimited, DependencyUnavailable, *_GOOGLE_ERRORS
    ),
    summary="Sign in with an ID token from Google Sign-In (iOS and watch apps)",
)
async def id_token_sign_in(request: Request, response: Response, db: SessionDep, body: IdTokenSignIn) -> DriverTokens:
    state = get_state(request)
    _no_store(response)
    return await driver.sign_in_with_id_token(db, state.google, state.settings, state.clock, body.id_token)


@router.post(
    "/auth/refresh",
    response_model=DriverTokens,
    dependencies=[Depends(limit_by_ip("driver_sign_in"))],
    responses=problem_responses(
        RefreshTokenInvalid, RefreshTokenReused, EmailNotAllowed, ValidationFailed, RateLimited, DependencyUnavailable
    ),
    summary="A new access token for a refresh token (which is spent: the answer carries its successor)",
)
async def refresh(request: Request, db: SessionDep, body: RefreshRequest | None = None) -> Response:
    state = get_state(request)
    from_cookie = body is None or body.refresh_token is None
    presented = request.cookies.get(SESSION_COOKIE) if from_cookie else (body.refresh_token if body else None)
    try:
        if not presented:
            raise RefreshTokenInvalid("Send the refresh token, or sign in first.")
        tokens = await driver.refresh(db, state.settings, state.clock, presented)
    except RefreshTokenReused as exc:
        # Answered, not raised: the request's transaction must commit the family's revocation.
        answer = render_error(request, exc)
        if from_cookie:
            answer.delete_cookie(SESSION_COOKIE, path=AUTH_PATH)
        return answer
    if from_cookie and tokens.refresh_token:
        # The successor goes back into the HttpOnly cookie, never into the page's hands.
        answer = JSONResponse(tokens.model_copy(update={"refresh_token": None}).model_dump(mode="json"))
        _set_session(answer, state, tokens.refresh_token)
    else:
        answer = JSONResponse(tokens.model_dump(mode="json"))
    _no_store(answer)
    return answer


@router.post(
    "/auth/logout",
    status_code=204,
    responses=problem_responses(ValidationFailed, DependencyUnavailable),
    summary="Sign out: the refresh token (or the browser's session) and every successor stop working",
)
async def logout(request: Request, db: SessionDep, body: RefreshRequest | None = None) -> Response:
    state = get_state(request)
    presented = body.refresh_token if body and body.refresh_token else request.cookies.get(SESSION_COOKIE)
    if presented:
        await driver.sign_out(db, state.clock, presented)
    answer = Response(status_code=204)
    answer.delete_cookie(SESSION_COOKIE, path=AUTH_PATH)
    return answer


@router.get(
    "/me",
    response_model=DriverRead,
    responses=problem_responses(InvalidToken, DriverRequired, DependencyUnavailable),
    summary="The signed-in driver",
)
async def me(db: SessionDep, account: DriverAccount) -> DriverRead:
    return await driver.describe(db, account)
