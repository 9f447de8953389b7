"""The pages every product shares: the landing page, the password sign-in (admins, Data API clients), sign-out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import JSONResponse, Response

from carpulse.about.endpoints import root as service_info
from carpulse.auth.errors import EmailUnconfirmed, InvalidCredentials
from carpulse.auth.service import auth
from carpulse.database import SessionDep
from carpulse.models import AccountRole
from carpulse.rate_limit import enforce, request_client_ip
from carpulse.state import get_state
from carpulse.web.csrf import verify_csrf
from carpulse.web.pages import page_router, redirect, render_page, wants_page
from carpulse.web.session import OptionalPageAccount, safe_next, sign_in, sign_out

router = page_router()

# Where a role lands after signing in without a `next`.
HOME_OF_ROLE = {
    AccountRole.admin: "/admin",
    AccountRole.api_client: "/console",
    AccountRole.driver: "/logbook",
    AccountRole.customer: "/reports",
}


@router.get("/")
async def landing(request: Request, account: OptionalPageAccount) -> Response:
    if not wants_page(request):
        # API clients and `curl` get the service's JSON.
        return JSONResponse((await service_info(request)).model_dump(mode="json"))
    session_id = request.query_params.get("session_id")
    if session_id:
        # Back from connecting a car account (the brand's consent, then our callback): on to its vehicles.
        return redirect(request, f"/reports/session/{session_id}")
    if request.query_params.get("checkout"):
        # Back from paying (the provider, then `/api/v1/payment/return`): the outcome's page.
        back = urlencode({key: request.query_params.get(key, "") for key in ("checkout", "payment")})
        return redirect(request, f"/reports/checkout/return?{back}")
    return render_page(request, "pages/landing.html")


@router.get("/login")
async def login_page(request: Request, account: OptionalPageAccount, next: str | None = None) -> Response:
    if account is not None and account.role in (AccountRole.admin, AccountRole.api_client):
        return redirect(request, safe_next(next, HOME_OF_ROLE[account.role]))
    return _login(request, next=next)


def _login(request: Request, status_code: int = 200, **context: object) -> Response:
    return render_page(
        request,
        "pages/login.html",
        status_code=status_code,
        next=safe_next(str(context.pop("next", None) or ""), ""),
        reason=request.query_params.get("reason"),
        username=context.pop("username", ""),
        error=context.pop("error", None),
    )


@router.post("/login", dependencies=[Depends(verify_csrf)])
async def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    state = get_state(request)
    await enforce(request, "login", request_client_ip(request), username.lower())
    try:
        account = await auth.authenticate(session, username, password, state.clock)
    except InvalidCredentials:
        return _login(request, 401, next=next, username=username, error="web.login.invalid")
    except EmailUnconfirmed:
        return _login(request, 403, next=next, username=username, error="web.login.unconfirmed")
    response = redirect(request, safe_next(next, HOME_OF_ROLE[account.role]))
    sign_in(request, response, account)
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf)])
async def logout(request: Request) -> Response:
    response = redirect(request, "/")
    sign_out(request, response)
    return response
