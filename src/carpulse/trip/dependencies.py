from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from carpulse.car.service import TokenHolder, webhook_tokens
from carpulse.state import get_state


async def webhook_holder(request: Request) -> TokenHolder:
    """The car and driver a webhook token stands for, from `Authorization: Bearer` or the path's last segment.

    A dependency, so an unknown or revoked token is turned away before the body is even read.
    """
    state = get_state(request)
    token: str | None = request.path_params.get("token")
    if token is None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" else None
    cache = webhook_tokens.cache(state.replica_caches, state.settings)
    lookups = webhook_tokens.lookups(state.per_process, state.sessionmaker)
    return await webhook_tokens.recognise(lookups, state.settings, cache, token)


WebhookHolder = Annotated[TokenHolder, Depends(webhook_holder)]
