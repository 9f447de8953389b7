"""`CurrentAccount`, `OptionalAccount`, `AdminAccount`, `DriverAccount`: who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from carpulse.auth.errors import AdminRequired, DriverRequired, InvalidToken
from carpulse.auth.service import auth
from carpulse.database import SessionDep
from carpulse.driver.service import driver
from carpulse.models import Account, AccountRole
from carpulse.state import get_state

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_optional_account(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Account | None:
    if token is None:
        if request.headers.get("authorization"):
            raise InvalidToken("The Authorization header must be 'Bearer <token>'.")
        return None
    state = get_state(request)
    return await auth.account_for_token(session, state.settings.auth, token, state.clock)


async def get_current_account(account: Annotated[Account | None, Depends(get_optional_account)]) -> Account:
    if account is None:
        raise InvalidToken("This endpoint needs a bearer token.")
    return account


async def get_admin_account(account: Annotated[Account, Depends(get_current_account)]) -> Account:
    if account.role is not AccountRole.admin:
        raise AdminRequired()
    return account


async def get_driver_account(
    request: Request, session: SessionDep, account: Annotated[Account | None, Depends(get_optional_account)]
) -> Account:
    if account is None:
        if not get_state(request).settings.logbook_auth.enabled:
            # Sign-in is off (development only; production refuses it): everyone is the one local driver.
            return await driver.local_driver(session)
        raise InvalidToken("This endpoint needs a bearer token: sign in with Google first.")
    if account.role is not AccountRole.driver:
        raise DriverRequired("This is the Logbook: sign in with Google as a driver.")
    return account


OptionalAccount = Annotated[Account | None, Depends(get_optional_account)]
CurrentAccount = Annotated[Account, Depends(get_current_account)]
AdminAccount = Annotated[Account, Depends(get_admin_account)]
DriverAccount = Annotated[Account, Depends(get_driver_account)]
