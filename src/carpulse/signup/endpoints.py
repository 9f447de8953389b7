from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from carpulse.database import SessionDep, transaction
from carpulse.errors import DependencyUnavailable, RateLimited, ValidationFailed, problem_responses
from carpulse.rate_limit import enforce, limit_by_ip, request_client_ip
from carpulse.signup.errors import ConfirmationTokenExpired, ConfirmationTokenInvalid
from carpulse.signup.schemas import Confirmation, ConfirmationRequest, Registration, ResendRequest, SignupAccepted
from carpulse.signup.service import signups
from carpulse.state import get_state

router = APIRouter(prefix="/auth", tags=["auth"])

_CONFIRM_ERRORS = problem_responses(
    ConfirmationTokenInvalid, ConfirmationTokenExpired, ValidationFailed, RateLimited, DependencyUnavailable
)
_DETAILS = {
    "confirmed": "The address is confirmed and the account is active: log in with POST /api/v1/auth/login.",
    "already_confirmed": "The address was already confirmed; nothing changed. Log in with POST /api/v1/auth/login.",
}


async def _limit_by_address(request: Request, policy: str, email: str) -> None:
    # Per IP and, apart, per address: one sender cannot flood many mailboxes, nor many senders one.
    await enforce(request, policy, request_client_ip(request))
    await enforce(request, policy, "address", email.lower())


@router.post(
    "/register",
    status_code=202,
    response_model=SignupAccepted,
    responses=problem_responses(ValidationFailed, RateLimited, DependencyUnavailable),
    summary="Sign up a business for the Data API",
    description=(
        "Creates an `api_client` account, inactive until its address is confirmed by the link mailed to it. "
        "A taken address gets the same answer (its owner is told by mail instead)."
    ),
)
async def register(request: Request, response: Response, session: SessionDep, body: Registration) -> SignupAccepted:
    await _limit_by_address(request, "register", str(body.email))
    await signups.register(session, get_state(request), body)
    response.headers["Cache-Control"] = "no-store"
    return SignupAccepted()


@router.get(
    "/confirm",
    response_model=Confirmation,
    responses=_CONFIRM_ERRORS,
    dependencies=[Depends(limit_by_ip("confirm"))],
    summary="Confirm an address (the link in the mail)",
)
async def confirm_link(
    request: Request,
    response: Response,
    token: Annotated[str, Query(min_length=1, max_length=256, description="the token the mail's link carries")],
) -> Confirmation:
    state = get_state(request)
    # Not the GET's read-only transaction: following the link writes.
    async with transaction(state.sessionmaker, state.jobs) as session:
        outcome = await signups.confirm(session, state, token)
    response.headers["Cache-Control"] = "no-store"
    return Confirmation(status=outcome, detail=_DETAILS[outcome])


@router.post(
    "/confirm",
    response_model=Confirmation,
    responses=_CONFIRM_ERRORS,
    dependencies=[Depends(limit_by_ip("confirm"))],
    summary="Confirm an address (for scripts)",
)
async def confirm(request: Request, response: Response, session: SessionDep, body: ConfirmationRequest) -> Confirmation:
    outcome = await signups.confirm(session, get_state(request), body.token)
    response.headers["Cache-Control"] = "no-store"
    return Confirmation(status=outcome, detail=_DETAILS[outcome])


@router.post(
    "/confirm/resend",
    status_code=202,
    response_model=SignupAccepted,
    responses=problem_responses(ValidationFailed, RateLimited, DependencyUnavailable),
    summary="Mail a new confirmation link",
    description="Answers the same for every address; only an account waiting for its confirmation gets a mail.",
)
async def resend(request: Request, session: SessionDep, body: ResendRequest) -> SignupAccepted:
    await _limit_by_address(request, "confirmation_resend", str(body.email))
    await signups.resend(session, get_state(request), str(body.email))
    return SignupAccepted()
