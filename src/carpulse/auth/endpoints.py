from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from carpulse.auth.dependencies import CurrentAccount
from carpulse.auth.errors import EmailUnconfirmed, InvalidCredentials, InvalidToken
from carpulse.auth.schemas import AccessToken, AccountRead, LoginJson
from carpulse.auth.service import auth
from carpulse.database import SessionDep
from carpulse.errors import DependencyUnavailable, RateLimited, ValidationFailed, problem_responses
from carpulse.rate_limit import enforce, request_client_ip
from carpulse.state import get_state

router = APIRouter(prefix="/auth", tags=["auth"])

_LOGIN_ERRORS = problem_responses(
    InvalidCredentials, EmailUnconfirmed, ValidationFailed, RateLimited, DependencyUnavailable
)


async def _login(
    request: Request, response: Response, session: SessionDep, username: str, password: str
) -> AccessToken:
    state = get_state(request)
    # Keyed by IP and username: one attacker cannot lock out a user from everywhere.
    await enforce(request, "login", request_client_ip(request), username.lower())
    account = await auth.authenticate(session, username, password, state.clock)
    response.headers["Cache-Control"] = "no-store"
    return auth.issue_token(state.settings.auth, account, state.clock)


@router.post("/login", response_model=AccessToken, responses=_LOGIN_ERRORS, summary="Log in (OAuth2 password form)")
async def login_form(
    request: Request,
    response: Response,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> AccessToken:
    return await _login(request, response, session, form.username, form.password)


@router.post("/login/json", response_model=AccessToken, responses=_LOGIN_ERRORS, summary="Log in (JSON)")
async def login_json(request: Request, response: Response, session: SessionDep, body: LoginJson) -> AccessToken:
    return await _login(request, response, session, body.username, body.password)


@router.get(
    "/me",
    response_model=AccountRead,
    responses=problem_responses(InvalidToken, DependencyUnavailable),
    summary="The calling account",
)
async def me(account: CurrentAccount) -> AccountRead:
    return AccountRead.model_validate(account)
