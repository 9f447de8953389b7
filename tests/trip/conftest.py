from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.test_logs import log_lines as log_lines  # the fixture, for the tests that read the logs

# Every stored event queues its car's assembly at once, so a test waiting for the jobs sees every trip.
IMMEDIATE_ASSEMBLY = {"logbook": {"assembly_debounce_seconds": 0}}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return IMMEDIATE_ASSEMBLY


@pytest.fixture
def client(draining_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Trips are assembled by jobs queued with each stored event: wait for them after every response."""
    return draining_client
