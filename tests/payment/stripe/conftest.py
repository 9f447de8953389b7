from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from carpulse.payment.stripe import StripeGateway
from fakes.stripe import StripeFake
from tests.payment.stripe.flows import API_BASE, Inbox, gateway_for


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def fake(inbox: Inbox) -> StripeFake:
    return StripeFake(send_webhook=inbox)


@pytest.fixture
async def http(fake: StripeFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=API_BASE) as client:
        yield client


@pytest.fixture
async def gateway(http: httpx.AsyncClient) -> AsyncIterator[StripeGateway]:
    gateway = gateway_for(http)
    yield gateway
    await gateway.aclose()
