"""Payment's handler in the inbox: the webhook deliveries of every payment provider."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.inbound_event.service import inbox
from carpulse.models import InboundEvent
from carpulse.payment.service import payments

if TYPE_CHECKING:
    from carpulse.state import State

# The inbox's source key of each provider's deliveries (`inbound_event.provider`, as stored since the first one).
PROVIDERS = ("stripe", "paypal")


@inbox.handler(*PROVIDERS)
async def handle_webhook(db: AsyncSession, state: State, event: InboundEvent) -> str:
    return await payments.handle_event(db, state, event)
