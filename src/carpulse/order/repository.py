from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import (
    Order,
    OrderStatus,
    OrderTransition,
    RedemptionState,
    Report,
    ReportStatus,
    VoucherRedemption,
)


class Move(NamedTuple):
    """A status change that happened: the status it left, and when it is recorded."""

    previous: OrderStatus
    at: datetime


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: str) -> Order | None:
        return await self.session.get(Order, order_id)

    async def search(
        self,
        query: str | None,
        status: OrderStatus | None,
        provider: str | None,
        limit: int,
        offset: int,
        failed_reports: bool = False,
    ) -> tuple[list[Order], int]:
        """Orders newest first, one page of them and how many match: `query` matches the start of the
        order id, session id, provider payment id, payment reference or voucher code; `failed_reports`
        keeps the orders with a failed report."""
        conditions: list[ColumnElement[bool]] = []
        if failed_reports:
            conditions.append(
                select(Report.id).where(Report.order_id == Order.id, Report.status == ReportStatus.failed).exists()
            )
        if query:
            conditions.append(
                or_(
                    *(
                        column.startswith(query, autoescape=True)
                        for column in (
                            Order.id,
                            Order.session_id,
                            Order.provider_payment_id,
                            Order.payment_reference,
                            Order.voucher_code,
                        )
                    )
                )
            )
        if status is not None:
            conditions.append(Order.status == status)
        if provider:
            conditions.append(Order.provider == provider)
        total = await self.session.scalar(select(func.count()).select_from(Order).where(*conditions))
        rows = await self.session.execute(
            select(Order).where(*conditions).order_by(Order.created_at.desc(), Order.id).limit(limit).offset(offset)
        )
        return list(rows.scalars()), int(total or 0)

    async def count_by_status(self) -> dict[OrderStatus, int]:
        rows = await self.session.execute(select(Order.status, func.count()).group_by(Order.status))
        return {OrderStatus(status): int(count) for status, count in rows.all()}

    async def for_session(self, session_id: str) -> list[Order]:
        """The session's orders, newest first."""
        statement = select(Order).where(Order.session_id == session_id).order_by(Order.created_at.desc())
        return list((await self.session.execute(statement)).scalars())

    async def for_quote(self, quote_id: str) -> Order | None:
        return (await self.session.execute(select(Order).where(Order.quote_id == quote_id))).scalar_one_or_none()

    async def by_payment_id(self, provider: str, payment_id: str) -> Order | None:
        result = await self.session.execute(
            select(Order).where(Order.provider == provider, Order.provider_payment_id == payment_id)
        )
        return result.scalar_one_or_none()

    async def replace_payment(self, order_id: str, replaced: str | None, at: datetime, **values: Any) -> bool:
        """Point an unpaid order at a new provider payment, only if it still points at `replaced`.

        Two checkouts switching one order at once both reach this UPDATE; the row lock (PostgreSQL) or the
        write lock (SQLite) lets one match, and the other learns it lost (False) and closes its payment.
        """
        current = Order.provider_payment_id.is_(None) if replaced is None else Order.provider_payment_id == replaced
        result = await self.session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == OrderStatus.pending_payment, current)
            .values(updated_at=at, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def move(
        self, order_id: str, allowed_from: Iterable[OrderStatus], to: OrderStatus, at: datetime, **values: Any
    ) -> Move | None:
        """Change the status only from one of `allowed_from`, at `at`; None when the status allows no move.

        The status is read under the row's lock (PostgreSQL; on SQLite the transaction holds the write
        lock) and the UPDATE is conditional on exactly that status, so `Move.previous` is the status the
        UPDATE replaced, never one read before a concurrent move, and only one caller wins a given move.
        `Move.at` is `at`, or just after the transition it follows when that one was recorded later (a
        concurrent handler may have read the clock first): the recorded history stays in order.
        """
        allowed = set(allowed_from)
        while True:
            current = (
                await self.session.execute(select(Order.status).where(Order.id == order_id).with_for_update())
            ).scalar_one_or_none()
            if current is None or current not in allowed:
                return None
            result = await self.session.execute(
                update(Order)
                .where(Order.id == order_id, Order.status == current)
                .values(status=to, updated_at=at, **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                last = (
                    await self.session.execute(
                        select(func.max(OrderTransition.created_at)).where(OrderTransition.order_id == order_id)
                    )
                ).scalar_one_or_none()
                # Strictly later: the history is read back in `created_at` order.
                return Move(current, at if last is None or at > last else last + timedelta(microseconds=1))
            # Moved by another transaction between the read and the UPDATE (a database without row
            # locks): read again. The statuses form no cycle, so this ends.

    async def note_refund_id(self, order_id: str, refund_id: str) -> None:
        """Keep the provider's refund id, unless one is kept already."""
        await self.session.execute(
            update(Order)
            .where(Order.id == order_id, Order.refund_id.is_(None))
            .values(refund_id=refund_id)
            .execution_options(synchronize_session=False)
        )

    def record(
        self, order_id: str, from_status: str | None, to_status: str, actor: str, reason: str | None, at: datetime
    ) -> None:
        self.session.add(
            OrderTransition(
                order_id=order_id,
                from_status=from_status,
                to_status=to_status,
                actor=actor,
                reason=reason,
                created_at=at,
            )
        )

    async def last_reason_starting(self, order_id: str, prefix: str) -> str | None:
        """The latest transition reason of the order that starts with `prefix`."""
        result = await self.session.execute(
            select(OrderTransition.reason)
            .where(OrderTransition.order_id == order_id, OrderTransition.reason.startswith(prefix, autoescape=True))
            .order_by(OrderTransition.created_at.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def transitions(self, order_id: str) -> list[OrderTransition]:
        result = await self.session.execute(
            select(OrderTransition).where(OrderTransition.order_id == order_id).order_by(OrderTransition.created_at)
        )
        return list(result.scalars())

    async def redemption(self, order_id: str) -> VoucherRedemption | None:
        result = await self.session.execute(select(VoucherRedemption).where(VoucherRedemption.order_id == order_id))
        return result.scalar_one_or_none()

    async def set_redemption_state(
        self, order_id: str, allowed_from: Iterable[RedemptionState], to: RedemptionState
    ) -> bool:
        result = await self.session.execute(
            update(VoucherRedemption)
            .where(VoucherRedemption.order_id == order_id, VoucherRedemption.state.in_(list(allowed_from)))
            .values(state=to)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
