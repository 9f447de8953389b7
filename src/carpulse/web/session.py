"""Who is signed in to the pages: the API's own access token, kept in an HttpOnly cookie.

A page sign-in issues the same kind of token the API's bearer clients get (`auth.issue_token`), valid for
the page session's length, so the pages resolve the account exactly as the API does. The cookie is HttpOnly
(no script reads it), SameSite=Lax (sent on a top-level link from elsewhere, never on another site's
form post) and Secure whenever the service is reached over HTTPS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request, Response

from carpulse.auth.errors import InvalidToken
from carpulse.auth.service import auth
from carpulse.database import SessionDep
from carpulse.driver.service import driver
from carpulse.errors import CarPulseError
from carpulse.models import Account, AccountRole
from carpulse.state import get_state

SESSION_COOKIE = "cp_session"
LOGIN_PATH = "/login"
# Where a role signs in when a page needs it.
LOGIN_PATHS: dict[AccountRole, str] = {
    AccountRole.admin: LOGIN_PATH,
    AccountRole.api_client: LOGIN_PATH,
    AccountRole.customer: LOGIN_PATH,
    AccountRole.driver: "/logbook/sign-in",
}


class LoginRequired(CarPulseError):
    """A page for signed-in users only: answered by a redirect to the sign-in page, then back."""

    status = 401
    slug = "login-required"
    title = "Sign in first"

    def __init__(self, login_path: str, next_path: str, reason: str | None = None) -> None:
        super().__init__("Sign in to open this page.")
        self.login_path = login_path
        self.next_path = next_path
        self.reason = reason

    @property
    def location(self) -> str:
        query = {"next": self.next_path} | ({"reason": self.reason} if self.reason else {})
        return f"{self.login_path}?{urlencode(query)}"


class WrongRole(CarPulseError):
    """Signed in, but as someone this page is not for."""

    status = 403
    slug = "wrong-role"
    title = "This page is not for your account"


def secure_cookies(request: Request) -> bool:
    configured = get_state(request).settings.web.secure_cookies
    if configured is not None:
        return configured
    return get_state(request).settings.base_url.startswith("https://") or request.url.scheme == "https"


def sign_in(request: Request, response: Response, account: Account) -> None:
    """Sign this browser in as `account` for the page session's length (`web.session_hours`).

    The cookie holds an access token of that lifetime, issued as the API issues its own: an HttpOnly cookie
    no script reads, so a page session need not end after the API's short bearer lifetime.
    """
    state = get_state(request)
    lifetime = timedelta(hours=state.settings.web.session_hours)
    token = auth.issue_token(state.settings.auth, account, state.clock, lifetime=lifetime)
    response.set_cookie(
        SESSION_COOKIE,
        token.access_token,
        max_age=token.expires_in,
        httponly=True,
        secure=secure_cookies(request),
        samesite="lax",
        path="/",
    )


def sign_out(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure_cookies(request), samesite="lax", path="/")


async def page_account(request: Request, session: SessionDep) -> Account | None:
    """The signed-in account, or None (no cookie, or one that expired or names a disabled account)."""
    if hasattr(request.state, "page_account"):
        cached: Account | None = request.state.page_account
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    account = None
    if token:
        state = get_state(request)
        try:
            account = await auth.account_for_token(session, state.settings.auth, token, state.clock)
        except InvalidToken:
            account = None
    request.state.page_account = account
    return account


def _next_path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def require_role(*roles: AccountRole) -> Callable[..., Awaitable[Account]]:
    """A dependency: the signed-in account when it has one of `roles`, else a redirect to sign in."""

    async def dependency(request: Request, account: Annotated[Account | None, Depends(page_account)]) -> Account:
        if account is None:
            had_cookie = SESSION_COOKIE in request.cookies
            raise LoginRequired(LOGIN_PATHS[roles[0]], _next_path(request), "expired" if had_cookie else None)
        if account.role not in roles:
            raise WrongRole(f"Signed in as {account.email}; this page is for another kind of account.")
        return account

    return dependency


async def page_driver(
    request: Request, session: SessionDep, account: Annotated[Account | None, Depends(page_account)]
) -> Account:
    """The signed-in driver; with sign-in off (development only), the one local driver, as the API has it."""
    if account is None and not get_state(request).settings.logbook_auth.enabled:
        return await driver.local_driver(session)
    return await require_role(AccountRole.driver)(request, account)


OptionalPageAccount = Annotated[Account | None, Depends(page_account)]
PageDriver = Annotated[Account, Depends(page_driver)]
PageAdmin = Annotated[Account, Depends(require_role(AccountRole.admin))]
PageClient = Annotated[Account, Depends(require_role(AccountRole.api_client))]


def safe_next(target: str | None, default: str = "/") -> str:
    """A `next` parameter only if it is a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\n" in target:
        return default
    return target
