from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def client(draining_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Registration mails are sent after each response (see `draining_client`)."""
    return draining_client
