"""The dev proxy, `/api/v1/dev-proxy/*`: relay OAuth callbacks to a developer's tunnel (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from carpulse.auth.dependencies import AdminAccount
from carpulse.auth.errors import AdminRequired, InvalidToken
from carpulse.dev_proxy.dependencies import DevProxyContextDep, require_dev_proxy
from carpulse.dev_proxy.errors import DevTunnelNotFound, RelayStateTaken, TunnelUrlRefused
from carpulse.dev_proxy.schemas import (
    DevProxyStatus,
    DevTunnel,
    InitiateOAuthRequest,
    InitiateOAuthResponse,
    RegisterRequest,
    TunnelName,
    UnregisterRequest,
)
from carpulse.dev_proxy.service import dev_proxy
from carpulse.errors import DependencyUnavailable, NotFound, ValidationFailed, problem_responses

router = APIRouter(prefix="/dev-proxy", tags=["dev proxy"], dependencies=[Depends(require_dev_proxy)])

_ACCESS_ERRORS = (InvalidToken, AdminRequired, NotFound, DependencyUnavailable)


@router.post(
    "/register",
    response_model=DevTunnel,
    responses=problem_responses(*_ACCESS_ERRORS, TunnelUrlRefused, ValidationFailed),
    summary="Register (or replace) a developer's tunnel for OAuth relays",
)
async def register(body: RegisterRequest, account: AdminAccount, context: DevProxyContextDep) -> DevTunnel:
    return await dev_proxy.register(context, body, account.username)


@router.delete(
    "/unregister",
    status_code=204,
    responses=problem_responses(*_ACCESS_ERRORS, DevTunnelNotFound, ValidationFailed),
    summary="Remove a tunnel registration; flows started for it are no longer relayed",
)
async def unregister(
    _: AdminAccount,
    context: DevProxyContextDep,
    body: UnregisterRequest | None = None,
    name: Annotated[TunnelName | None, Query(description="instead of the body")] = None,
) -> Response:
    names = {given for given in (name, body.name if body else None) if given is not None}
    if len(names) != 1:
        reason = "name is required (in the body or the query)" if not names else "the body and the query name differ"
        raise ValidationFailed(reason, errors=[{"loc": ["query", "name"], "message": reason, "type": "value_error"}])
    await dev_proxy.unregister(context, names.pop())
    return Response(status_code=204)


@router.post(
    "/initiate-oauth",
    response_model=InitiateOAuthResponse,
    responses=problem_responses(*_ACCESS_ERRORS, DevTunnelNotFound, RelayStateTaken, ValidationFailed),
    summary="Relay the OAuth callback of a local instance's sign-in to a tunnel (or start a flow completed here)",
)
async def initiate_oauth(
    body: InitiateOAuthRequest, _: AdminAccount, context: DevProxyContextDep
) -> InitiateOAuthResponse:
    return await dev_proxy.initiate(context, body)


@router.get(
    "/status",
    response_model=DevProxyStatus,
    responses=problem_responses(*_ACCESS_ERRORS),
    summary="Active tunnel registrations",
)
async def status(_: AdminAccount, context: DevProxyContextDep) -> DevProxyStatus:
    return await dev_proxy.status(context)
