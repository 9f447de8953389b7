from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import stripe

from fakes.stripe import StripeFake
from tests.fakes.stripe.flows import API_BASE, Inbox, sdk_with


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def fake(inbox: Inbox) -> StripeFake:
    return StripeFake(send_webhook=inbox, webhook_url="https://shop.example/api/v1/payment/webhook/stripe")


@pytest.fixture
async def http(fake: StripeFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=API_BASE) as client:
        yield client


@pytest.fixture
def sdk(http: httpx.AsyncClient) -> stripe.StripeClient:
    return sdk_with(http)
