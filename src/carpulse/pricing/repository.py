from __future__ import annotations

import builtins
import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Order, Quote, RedemptionState, Voucher, VoucherRedemption


class VoucherRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str) -> Voucher | None:
        result = await self.session.execute(select(Voucher).where(Voucher.code == code.strip().upper()))
        return result.scalar_one_or_none()

    async def get(self, voucher_id: uuid.UUID) -> Voucher | None:
        return await self.session.get(Voucher, voucher_id)

    async def list(self) -> list[Voucher]:
        return list((await self.session.execute(select(Voucher).order_by(Voucher.created_at))).scalars())

    async def uses(self, voucher_id: uuid.UUID) -> builtins.list[tuple[VoucherRedemption, Order]]:
        """The voucher's redemptions with the orders that took them, newest first."""
        result = await self.session.execute(
            select(VoucherRedemption, Order)
            .join(Order, Order.id == VoucherRedemption.order_id)
            .where(VoucherRedemption.voucher_id == voucher_id)
            .order_by(VoucherRedemption.created_at.desc(), VoucherRedemption.id)
        )
        return [(row[0], row[1]) for row in result.all()]

    async def customer_uses(self, voucher_id: uuid.UUID, customer_key: str) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(VoucherRedemption)
            .where(
                VoucherRedemption.voucher_id == voucher_id,
                VoucherRedemption.customer_key == customer_key,
                VoucherRedemption.state != RedemptionState.released,
            )
        )
        return int(result.scalar_one())

    async def reserve_use(self, voucher_id: uuid.UUID, customer_key: str | None, now: datetime) -> str | None:
        """One use more for an order; None when taken, else why not (`withdrawn`, `used_up`, `customer_limit`).

        A conditional UPDATE takes the use only while the voucher is active, in its window and under its
        cap, so racing buyers cannot both win the last use. The per-customer count cannot be a subquery
        of that UPDATE: on PostgreSQL (READ COMMITTED) a second order of the same customer waits for the
        first's row lock, then re-checks only the voucher row, with a snapshot that misses the first's
        redemption. Counted in a statement of its own after the UPDATE (the lock is held until commit),
        it sees every redemption committed before us; a refusal rolls the use back with the request.
        """
        result = await self.session.execute(
            update(Voucher)
            .where(
                Voucher.id == voucher_id,
                Voucher.active.is_(True),
                Voucher.valid_from.is_(None) | (Voucher.valid_from <= now),
                Voucher.valid_until.is_(None) | (Voucher.valid_until > now),
                Voucher.max_redemptions.is_(None) | (Voucher.uses < Voucher.max_redemptions),
            )
            .values(uses=Voucher.uses + 1)
            .returning(Voucher.max_per_customer)
            .execution_options(synchronize_session=False)
        )
        taken = result.first()
        if taken is None:
            voucher = await self.session.get(Voucher, voucher_id, populate_existing=True)
            if voucher is not None and voucher.max_redemptions is not None and voucher.uses >= voucher.max_redemptions:
                return "used_up"
            return "withdrawn"
        max_per_customer = taken[0]
        if (
            max_per_customer is not None
            and customer_key is not None
            and await self.customer_uses(voucher_id, customer_key) >= max_per_customer
        ):
            return "customer_limit"
        return None

    async def take_use_again(self, voucher_id: uuid.UUID) -> bool:
        """A released use taken back for a late payment, only while under the cap."""
        result = await self.session.execute(
            update(Voucher)
            .where(
                Voucher.id == voucher_id,
                (Voucher.max_redemptions.is_(None)) | (Voucher.uses < Voucher.max_redemptions),
            )
            .values(uses=Voucher.uses + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def record_over_cap(self, voucher_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Voucher)
            .where(Voucher.id == voucher_id)
            .values(over_cap_uses=Voucher.over_cap_uses + 1)
            .execution_options(synchronize_session=False)
        )

    async def give_back_use(self, voucher_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Voucher)
            .where(Voucher.id == voucher_id, Voucher.uses > 0)
            .values(uses=Voucher.uses - 1)
            .execution_options(synchronize_session=False)
        )


class QuoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_for_session(self, quote_id: str, session_id: str) -> Quote | None:
        result = await self.session.execute(select(Quote).where(Quote.id == quote_id, Quote.session_id == session_id))
        return result.scalar_one_or_none()
