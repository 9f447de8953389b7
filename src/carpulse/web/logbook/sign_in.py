"""`/logbook/sign-in`: drivers sign in with Google through the API's own flow, which hands the page a ticket.

The page starts the same flow as `GET /api/v1/logbook/auth/google/start` (state, PKCE, nonce, the browser's
binding cookie), marked as the page's: the callback then answers with a one-time ticket that this page trades
for the driver's access token, kept in the page session cookie. A refused sign-in comes back here with the
reason, said in the reader's language.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import Response

from carpulse.auth.errors import InvalidToken
from carpulse.auth.service import auth
from carpulse.database import SessionDep
from carpulse.driver.endpoints import start_sign_in
from carpulse.driver.repository import SignInStateRepository
from carpulse.driver.service import driver
from carpulse.models import AccountRole
from carpulse.rate_limit import enforce, request_client_ip
from carpulse.state import get_state
from carpulse.web.csrf import verify_csrf
from carpulse.web.pages import page_router, redirect, render_page
from carpulse.web.session import OptionalPageAccount, safe_next, sign_in

router = page_router()

HOME = "/logbook"
# Why Google's answer did not sign the driver in: the callback's problem slug, and what the page says.
REFUSALS = {
    "email-not-allowed": "web.logbook.sign_in.refused.not_allowed",
    "email-unverified": "web.logbook.sign_in.refused.unverified",
    "driver-disabled": "web.logbook.sign_in.refused.disabled",
    "sign-in-declined": "web.logbook.sign_in.refused.declined",
    "sign-in-state-invalid": "web.logbook.sign_in.refused.expired",
    "sign-in-browser-mismatch": "web.logbook.sign_in.refused.other_browser",
    "driver-identity-conflict": "web.logbook.sign_in.refused.conflict",
}
UNKNOWN_REFUSAL = "web.logbook.sign_in.refused.google"


@router.get("/logbook/sign-in")
async def sign_in_page(
    request: Request,
    account: OptionalPageAccount,
    next: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    target = safe_next(next, HOME)
    if account is not None and account.role is AccountRole.driver and error is None:
        return redirect(request, target)
    refusal = (REFUSALS.get(error) or UNKNOWN_REFUSAL) if error else None
    return render_page(
        request,
        "pages/logbook/sign_in.html",
        status_code=403 if error in ("email-not-allowed", "email-unverified", "driver-disabled") else 200,
        next=target,
        refusal=refusal,
        reason=request.query_params.get("reason"),
        enabled=get_state(request).settings.logbook_auth.enabled,
    )


@router.post("/logbook/sign-in", dependencies=[Depends(verify_csrf)])
async def start(request: Request, next: Annotated[str, Form(max_length=2048)] = "") -> Response:
    await enforce(request, "oauth_initiate", request_client_ip(request))
    response = redirect(request, "/")
    started = await start_sign_in(request, response, safe_next(next, HOME), page=True)
    response.headers["location"] = started.authorization_url
    return response


@router.get("/logbook/sign-in/complete")
async def complete(
    request: Request, session: SessionDep, ticket: Annotated[str, Query(min_length=20, max_length=128)]
) -> Response:
    state = get_state(request)
    handed = await driver.take_handoff(SignInStateRepository(state.ephemeral), ticket)
    if handed is None:
        return redirect(request, "/logbook/sign-in?error=sign-in-state-invalid")
    access_token, _expires_in, target = handed
    try:
        account = await auth.account_for_token(session, state.settings.auth, access_token, state.clock)
    except InvalidToken:
        return redirect(request, "/logbook/sign-in?error=sign-in-state-invalid")
    response = redirect(request, safe_next(target, HOME))
    # The page session outlives the API's 30-minute access token the sign-in handed over (web.session_hours).
    sign_in(request, response, account)
    return response
