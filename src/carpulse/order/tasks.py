"""Jobs of checkouts: closing the provider's checkout of an order that failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from carpulse.database import transaction
from carpulse.order.checkout import CLOSE_JOB, checkout
from carpulse.worker import job

if TYPE_CHECKING:
    from carpulse.state import State


# Named for payment still: messages queued before the checkout moved to `order` carry this name.
@job(CLOSE_JOB)
async def close_checkout(state: State, order_id: str) -> None:
    async with transaction(state.sessionmaker, state.jobs) as db:
        await checkout.close_checkout(db, state, order_id)
