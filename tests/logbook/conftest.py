from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def client(draining_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Trips are assembled by jobs queued with each stored event: wait for them after every response."""
    return draining_client
