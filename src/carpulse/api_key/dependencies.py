"""`DataCaller`: who calls the Data API, by API key (`Authorization: Bearer cp_…` or `X-API-Key`) or JWT."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from carpulse.api_key.errors import ApiClientRequired, InvalidApiKey
from carpulse.api_key.service import api_keys
from carpulse.auth.dependencies import CurrentAccount
from carpulse.auth.service import auth
from carpulse.database import SessionDep, release_read
from carpulse.models import Account, AccountRole
from carpulse.state import get_state

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="a Data API key (`cp_live_…`, `cp_test_…`) or the account's JWT from `/api/v1/auth/login`",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey", description="a Data API key (`cp_live_…`, `cp_test_…`)"
)
# Who may call the Data API: its clients, and admins trying it out.
_DATA_ROLES = frozenset({AccountRole.api_client, AccountRole.admin})


@dataclass(frozen=True)
class DataCaller:
    """A Data API call's account, and the key it came with (None for a JWT)."""

    account_id: uuid.UUID
    key_id: uuid.UUID | None
    role: AccountRole


async def get_data_caller(
    request: Request,
    db: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    header_key: Annotated[str | None, Depends(api_key_scheme)],
) -> DataCaller:
    state = get_state(request)
    key = header_key if header_key is not None else (bearer.credentials if bearer is not None else None)
    if key is None:
        if request.headers.get("authorization"):
            raise InvalidApiKey("The Authorization header must be 'Bearer <API key or token>'.")
        raise InvalidApiKey("Send your API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.")
    due = False
    if header_key is not None or key.startswith("cp_"):
        holder, due = await api_keys.recognise(db, state.settings, key, state.api_key_cache)
        caller = DataCaller(holder.account_id, holder.key_id, holder.role)
    else:
        account = await auth.account_for_token(db, state.settings.auth, key, state.clock)
        caller = DataCaller(account.id, None, account.role)
    # The lookup's connection goes back to the pool before the call takes another (the key's touch, the
    # metered work's own transaction): holding it meanwhile let a burst of uncached keys take every connection
    # and wait for one until the pool timed out.
    await release_read(db)
    if due and caller.key_id is not None:
        await api_keys.touch(state.sessionmaker, caller.key_id, state.clock)
    if caller.role not in _DATA_ROLES:
        raise ApiClientRequired("The Data API answers API client accounts; register one at /api/v1/auth/register.")
    return caller


async def get_api_client(account: CurrentAccount) -> Account:
    """A logged-in API client (or admin): who manages keys. A key cannot mint keys."""
    if account.role not in _DATA_ROLES:
        raise ApiClientRequired("Only API client accounts have Data API keys.")
    return account


DataCallerDep = Annotated[DataCaller, Depends(get_data_caller)]
ApiClientAccount = Annotated[Account, Depends(get_api_client)]
