from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fakes.tesla_fleet import TeslaFleetFake


@pytest.fixture
def fake() -> TeslaFleetFake:
    return TeslaFleetFake(seed=7)


@pytest.fixture
async def http(fake: TeslaFleetFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://fake") as client:
        yield client
