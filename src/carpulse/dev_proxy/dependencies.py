from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from carpulse.connect.dependencies import ConnectContextDep
from carpulse.dev_proxy.repository import DevTunnelRepository
from carpulse.dev_proxy.service import DevProxyContext, normalized_suffixes
from carpulse.errors import NotFound
from carpulse.state import get_state


def require_dev_proxy(request: Request) -> None:
    """In production (or switched off) the dev proxy answers as if it did not exist."""
    settings = get_state(request).settings
    if settings.is_production or not settings.dev_proxy.enabled:
        raise NotFound()


def get_dev_proxy_context(request: Request, connect_context: ConnectContextDep) -> DevProxyContext:
    state = get_state(request)
    return DevProxyContext(
        repository=DevTunnelRepository(state.ephemeral),
        connect=connect_context,
        clock=state.clock,
        allowed_suffixes=normalized_suffixes(state.settings.dev_proxy.allowed_tunnel_suffixes),
    )


DevProxyContextDep = Annotated[DevProxyContext, Depends(get_dev_proxy_context)]
