"""One transaction per request, committed at the edge: all of a request's writes or none."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from carpulse.database import SessionDep
from carpulse.errors import Conflict
from carpulse.models import Account, AccountRole


def add_probes(app: FastAPI) -> None:
    @app.post("/_probe/write/{username}")
    async def write(username: str, session: SessionDep) -> dict[str, str]:
        session.add(Account(username=username, role=AccountRole.customer))
        await session.flush()
        return {"username": username}

    @app.post("/_probe/write-then-fail/{username}")
    async def write_then_fail(username: str, session: SessionDep) -> None:
        session.add(Account(username=username, role=AccountRole.customer))
        await session.flush()
        raise Conflict("changed my mind")


async def _usernames(app: FastAPI) -> set[str]:
    async with app.state.carpulse.sessionmaker() as session:
        return set((await session.execute(select(Account.username))).scalars())


class TestTransactionPerRequest:
    async def test_a_successful_request_commits(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        add_probes(app)
        assert (await client.post("/_probe/write/kept")).status_code == 200
        assert "kept" in await _usernames(app)

    async def test_a_failed_request_writes_nothing(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        add_probes(app)
        response = await client.post("/_probe/write-then-fail/dropped")
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert "dropped" not in await _usernames(app)

    async def test_a_commit_conflict_is_not_hidden(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        add_probes(app)
        assert (await client.post("/_probe/write/twice")).status_code == 200
        second = await client.post("/_probe/write/twice")
        assert second.status_code == 500
        assert second.headers["content-type"] == "application/problem+json"
        assert len([name for name in await _usernames(app) if name == "twice"]) == 1
