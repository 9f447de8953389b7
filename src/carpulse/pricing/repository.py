from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Quote, RedemptionState, Voucher, VoucherRedemption


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

    async def take_use(self, voucher_id: uuid.UUID) -> bool:
        """One use more, only while under the cap: a conditional UPDATE, so racing buyers cannot both win."""
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
