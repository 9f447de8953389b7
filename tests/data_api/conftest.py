from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import CLIENT_ADDRESS


@pytest.fixture
def client(draining_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Registration mails are sent after each response (see `draining_client`)."""
    return draining_client


@pytest.fixture
async def committed_data_client(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose requests commit for real, waiting after each response for its jobs."""

    async def drain(response: httpx.Response) -> None:
        await committed_app.state.carpulse.jobs.drain()

    transport = httpx.ASGITransport(app=committed_app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"response": [drain]}
    ) as client:
        yield client
