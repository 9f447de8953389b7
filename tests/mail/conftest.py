from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import CLIENT_ADDRESS


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The suite's client, waiting after each response for the jobs it queued (the mail sends): they share
    the test's one database connection, so they must not run beside the next request."""

    async def drain(response: httpx.Response) -> None:
        await app.state.carpulse.jobs.drain()

    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"response": [drain]}
    ) as client:
        yield client
