from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from carpulse.connect.repository import ConnectSessionRepository
from carpulse.connect.service import ConnectContext, origin_of
from carpulse.state import State, get_state


def _return_origins(frontend_url: str | None, cors_origins: list[str], base_url: str) -> frozenset[str]:
    candidates = [*cors_origins, base_url, *([frontend_url] if frontend_url else [])]
    return frozenset(origin for origin in (origin_of(url) for url in candidates) if origin)


def get_connect_context(request: Request) -> ConnectContext:
    return connect_context(get_state(request))


def connect_context(state: State) -> ConnectContext:
    settings = state.settings
    return ConnectContext(
        repository=ConnectSessionRepository(state.ephemeral),
        providers=state.providers,
        box=state.box,
        clock=state.clock,
        session_ttl_seconds=settings.connect.session_ttl_seconds,
        state_ttl_seconds=settings.connect.state_ttl_seconds,
        connection_days=settings.connect.connection_days,
        allowed_return_origins=_return_origins(settings.frontend_url, settings.http.cors_origins, settings.base_url),
        sessionmaker=state.sessionmaker,
    )


ConnectContextDep = Annotated[ConnectContext, Depends(get_connect_context)]
