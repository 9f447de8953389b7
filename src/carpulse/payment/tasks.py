"""Jobs of checkouts: closing the provider's checkout of an order that failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from carpulse.database import transaction
from carpulse.worker import job

if TYPE_CHECKING:
    from carpulse.state import State


@job("payment.close_checkout")
async def close_checkout(state: State, order_id: str) -> None:
    from carpulse.payment.service import payments

    async with transaction(state.sessionmaker, state.jobs) as db:
        await payments.close_checkout(db, state, order_id)
