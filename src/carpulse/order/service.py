"""Orders: durable, with a state machine and every transition recorded.

pending_payment → paid → fulfilled, plus failed, expired, refunded. A payment succeeds exactly once:
the move to `paid` is one conditional UPDATE, so a webhook racing a `verify` call cannot pay twice.
A paid order that delivered nothing is refunded in full through its gateway (one idempotency key per
order, so a replay never refunds twice), and its receipt is cancelled by a credit note. What a payment
or a refund starts beyond the order and its receipt (the reports) registers itself: `on_paid`, `on_refunded`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.config import CompanySettings
from carpulse.database import release_read
from carpulse.kit.logs import get_logger
from carpulse.models import DataSharing, Order, OrderStatus, Quote, RedemptionState, VoucherRedemption
from carpulse.models.order import order_reference
from carpulse.models.priced import priced_values
from carpulse.observation.service import observations
from carpulse.order.errors import OrderNotFound
from carpulse.order.repository import OrderRepository
from carpulse.order.schemas import AdminOrder, AdminOrderDetail, AdminOrderList, OrderTransitionRead
from carpulse.payment.factory import PaymentGateways
from carpulse.payment.gateway import PaymentOutcome, PaymentStatus, Refund
from carpulse.pricing.errors import VoucherNoLongerValid, VoucherUsedUp
from carpulse.pricing.repository import VoucherRepository
from carpulse.receipt.service import receipt as receipt_service

log = get_logger("carpulse.order")

PAYABLE_FROM = (OrderStatus.pending_payment, OrderStatus.failed, OrderStatus.expired)
REFUNDABLE_FROM = (OrderStatus.paid, OrderStatus.fulfilled)


# A paid order's history says why its refund was asked for before the provider is called; whoever then
# records the refund (our call's answer or the provider's webhook, which may come first) gives that reason.
REFUND_REQUESTED = "refund requested: "


def refund_key(order_id: str) -> str:
    """The provider idempotency key of an order's refund: one per order, so a retry or replay refunds once."""
    return f"order:{order_id}:refund"


# Runs inside the transaction that moved the order; queues its work after commit (`enqueue_after_commit`).
OrderHook = Callable[[AsyncSession, Order], Awaitable[None]]


class OrderService:
    def __init__(self) -> None:
        self._on_paid: list[OrderHook] = []
        self._on_refunded: list[OrderHook] = []

    def on_paid(self, hook: OrderHook) -> OrderHook:
        """Register what an order's payment starts (once per order: the move to paid happens once)."""
        if hook not in self._on_paid:
            self._on_paid.append(hook)
        return hook

    def on_refunded(self, hook: OrderHook) -> OrderHook:
        """Register what an order's full refund ends (once per order)."""
        if hook not in self._on_refunded:
            self._on_refunded.append(hook)
        return hook

    async def create(
        self, db: AsyncSession, quote: Quote, provider: str, locale: str, now: datetime, ttl_seconds: int
    ) -> Order:
        order = Order(
            id=secrets.token_urlsafe(32),
            session_id=quote.session_id,
            quote_id=quote.id,
            status=OrderStatus.pending_payment,
            locale=locale,
            provider=provider,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            **priced_values(quote),
        )
        db.add(order)
        await db.flush()
        repository = OrderRepository(db)
        repository.record(order.id, None, OrderStatus.pending_payment, "customer", f"checkout with {provider}", now)
        if quote.voucher_id is not None:
            # Reserve the voucher now; confirmed when paid, released on decline or expiry.
            refused = await VoucherRepository(db).reserve_use(quote.voucher_id, quote.customer_key, now)
            if refused == "used_up":
                raise VoucherUsedUp("The voucher's last use was just taken; ask for a new quote without it.")
            if refused is not None:
                raise VoucherNoLongerValid(
                    "The quote's voucher can no longer be used; ask for a new quote, with another code or none.",
                    reason=refused,
                )
            db.add(
                VoucherRedemption(
                    voucher_id=quote.voucher_id,
                    order_id=order.id,
                    customer_key=quote.customer_key,
                    state=RedemptionState.reserved,
                    created_at=now,
                    updated_at=now,
                )
            )
            await db.flush()
        return order

    async def get(self, db: AsyncSession, order_id: str) -> Order:
        order = await OrderRepository(db).get(order_id)
        if order is None:
            raise OrderNotFound("No such order.")
        return order

    async def share_data(self, db: AsyncSession, order_id: str, sharing: DataSharing) -> tuple[Order, int]:
        """The buyer's consent for the order's cars' readings, given, changed or withdrawn at any time: it
        applies to the readings already kept and to every later one; returns the order and the rows changed."""
        order = await self.get(db, order_id)
        order.data_sharing = sharing
        changed = await observations.share(db, order.session_id, order.vins, sharing)
        await db.flush()
        log.info("order.data_sharing_set", order=order.id[:8], sharing=sharing.value, readings=changed)
        return order, changed

    async def apply(
        self,
        db: AsyncSession,
        order: Order,
        outcome: PaymentOutcome,
        actor: str,
        now: datetime,
        company: CompanySettings,
    ) -> str:
        """Bring the order in line with what the provider says; returns what happened (for logs and the inbox)."""
        if outcome.status is PaymentStatus.succeeded:
            return await self._paid(db, order, outcome, actor, now, company)
        if outcome.status is PaymentStatus.failed:
            return await self._unpaid(db, order, OrderStatus.failed, actor, now, "payment declined")
        if outcome.status is PaymentStatus.expired:
            return await self._unpaid(db, order, OrderStatus.expired, actor, now, "checkout abandoned or expired")
        if outcome.status is PaymentStatus.refunded:
            if outcome.amount_cents is not None and outcome.amount_cents < order.gross_cents:
                # A partial refund keeps the order paid; it is recorded for the books.
                reason = f"partial refund of {outcome.amount_cents} {outcome.currency}"
                OrderRepository(db).record(order.id, order.status, order.status, actor, reason, now)
                await db.flush()
                return "partially-refunded"
            return await self._refunded(db, order, actor, now, amount_cents=outcome.amount_cents)
        return "pending"

    async def _paid(
        self,
        db: AsyncSession,
        order: Order,
        outcome: PaymentOutcome,
        actor: str,
        now: datetime,
        company: CompanySettings,
    ) -> str:
        repository = OrderRepository(db)
        if order.flagged_reason is not None:
            return "flagged"  # a person looks at flagged orders; no automatic payment or fulfilment
        if outcome.amount_cents != order.gross_cents or (outcome.currency or "").upper() != order.currency.upper():
            reason = (
                f"paid {outcome.amount_cents} {outcome.currency} but the order is {order.gross_cents} {order.currency}"
            )
            order.flagged_reason = reason
            repository.record(order.id, order.status, order.status, actor, f"flagged: {reason}", now)
            await db.flush()
            log.warning("order.amount_mismatch", order=order.id[:8], reason=reason)
            return "flagged"
        moved = await repository.move(
            order.id,
            PAYABLE_FROM,
            OrderStatus.paid,
            now,
            paid_at=now,
            payment_method=outcome.payment_method,
            payment_reference=outcome.reference,
        )
        if moved is None:
            return "already-paid"
        await db.refresh(order)
        reason = f"payment {outcome.provider_payment_id}"
        repository.record(order.id, moved.previous, OrderStatus.paid, actor, reason, moved.at)
        await self._confirm_voucher(db, order, actor, moved.at)
        await receipt_service.issue(db, order, company, now)
        # Fulfilment starts once this commits; the reconciler finds paid orders whose job was lost.
        for hook in self._on_paid:
            await hook(db, order)
        log.info("order.paid", order=order.id[:8], provider=order.provider, actor=actor)
        return "paid"

    async def fulfil(self, db: AsyncSession, order_id: str, now: datetime) -> bool:
        """Paid → fulfilled once every report it paid for is delivered; True for the one caller that moved it."""
        repository = OrderRepository(db)
        moved = await repository.move(order_id, (OrderStatus.paid,), OrderStatus.fulfilled, now)
        if moved is None:
            return False
        repository.record(order_id, moved.previous, OrderStatus.fulfilled, "worker", "reports delivered", moved.at)
        log.info("order.fulfilled", order=order_id[:8])
        return True

    async def _confirm_voucher(self, db: AsyncSession, order: Order, actor: str, now: datetime) -> None:
        if order.voucher_id is None:
            return
        repository = OrderRepository(db)
        if await repository.set_redemption_state(order.id, [RedemptionState.reserved], RedemptionState.confirmed):
            return
        if not await repository.set_redemption_state(order.id, [RedemptionState.released], RedemptionState.confirmed):
            return
        # Paid after a decline or expiry released its use (its checkout could not be closed in time).
        vouchers = VoucherRepository(db)
        if await vouchers.take_use_again(order.voucher_id):
            return
        # The money is in and the customer paid the price they were quoted: the sale is honoured, and the
        # use beyond the cap is counted on the voucher and written into the order's history for the admin.
        await vouchers.record_over_cap(order.voucher_id)
        reason = f"voucher {order.voucher_code} over its cap: paid after its released use was taken by another order"
        repository.record(order.id, OrderStatus.paid, OrderStatus.paid, actor, reason, now)
        log.warning("order.voucher_over_cap_after_late_payment", order=order.id[:8], voucher=order.voucher_code)

    async def _unpaid(
        self, db: AsyncSession, order: Order, to: OrderStatus, actor: str, now: datetime, reason: str
    ) -> str:
        repository = OrderRepository(db)
        allowed = (
            (OrderStatus.pending_payment,)
            if to is OrderStatus.failed
            else (OrderStatus.pending_payment, OrderStatus.failed)
        )
        moved = await repository.move(order.id, allowed, to, now)
        if moved is None:
            return "ignored"
        repository.record(order.id, moved.previous, to, actor, reason, moved.at)
        if order.voucher_id is not None and await repository.set_redemption_state(
            order.id, [RedemptionState.reserved], RedemptionState.released
        ):
            await VoucherRepository(db).give_back_use(order.voucher_id)
        await db.refresh(order)
        return to.value

    async def _refunded(
        self,
        db: AsyncSession,
        order: Order,
        actor: str,
        now: datetime,
        *,
        reason: str | None = None,
        amount_cents: int | None = None,
        refund_id: str | None = None,
    ) -> str:
        """Record a full refund (ours, or one made at the provider) and cancel the receipt by a credit note."""
        repository = OrderRepository(db)
        if reason is None:
            requested = await repository.last_reason_starting(order.id, REFUND_REQUESTED)
            reason = requested.removeprefix(REFUND_REQUESTED) if requested else "refunded at the provider"
        refunded = amount_cents if amount_cents is not None else order.gross_cents
        moved = await repository.move(
            order.id, REFUNDABLE_FROM, OrderStatus.refunded, now, refunded_cents=refunded, refunded_at=now
        )
        if moved is None:
            await db.refresh(order)  # read under the move's lock: what a concurrent handler committed
            if order.status is OrderStatus.refunded and refund_id is not None:
                # The provider's webhook recorded it first; the refund id is only in our call's answer.
                await repository.note_refund_id(order.id, refund_id)
                await receipt_service.note_refund(db, order.id, refund_id)
                await db.refresh(order)
            return "ignored"
        if refund_id is not None:
            await repository.note_refund_id(order.id, refund_id)
        detail = f"{reason} (refund {refund_id})" if refund_id else reason
        repository.record(order.id, moved.previous, OrderStatus.refunded, actor, detail, moved.at)
        await db.refresh(order)
        await receipt_service.credit(db, order, moved.at, reason, refund_id)
        # From this commit on the order opens nothing; the hooks' jobs delete its files and kept tokens.
        for hook in self._on_refunded:
            await hook(db, order)
        log.info("order.refunded", order=order.id[:8], actor=actor, amount=refunded)
        return "refunded"

    async def request_refund(self, db: AsyncSession, order_id: str, reason: str, now: datetime) -> bool:
        """Write down why a paid order is to be refunded (once); False when it is not refundable."""
        order = await self.get(db, order_id)
        if order.status is not OrderStatus.paid:
            return False
        repository = OrderRepository(db)
        if await repository.last_reason_starting(order_id, REFUND_REQUESTED) is None:
            repository.record(order_id, order.status, order.status, "worker", REFUND_REQUESTED + reason, now)
            await db.flush()
        return True

    async def refund_undelivered(
        self, db: AsyncSession, gateways: PaymentGateways, order_id: str, reason: str, now: datetime
    ) -> str:
        """Give the whole price of a paid order that delivered nothing back through its gateway, once.

        No transaction is held during the provider call; a crash after it is safe to run again, since the
        same idempotency key returns the first refund, and the conditional move records it once.
        """
        order = await self.get(db, order_id)
        if order.status is not OrderStatus.paid or order.provider_payment_id is None:
            return "not-refundable"
        provider, payment_id = order.provider, order.provider_payment_id
        amount, currency = order.gross_cents, order.currency
        await release_read(db)
        refund: Refund = await gateways.get(provider).refund(payment_id, amount, currency, refund_key(order_id), reason)
        await db.refresh(order)
        if refund.status is not PaymentStatus.refunded:
            OrderRepository(db).record(
                order.id, order.status, order.status, "worker", f"refund {refund.provider_refund_id} pending", now
            )
            await db.flush()
            log.info("order.refund_pending", order=order_id[:8], refund=refund.provider_refund_id)
            return "refund-pending"
        return await self._refunded(
            db,
            order,
            "worker",
            now,
            reason=reason,
            amount_cents=refund.amount_cents,
            refund_id=refund.provider_refund_id,
        )

    async def admin_list(
        self,
        db: AsyncSession,
        query: str | None = None,
        status: OrderStatus | None = None,
        provider: str | None = None,
        limit: int = 25,
        offset: int = 0,
        failed_reports: bool = False,
    ) -> AdminOrderList:
        """Every order (admin), newest first, filtered and one page at a time."""
        rows, total = await OrderRepository(db).search(
            (query or "").strip() or None, status, provider, limit, offset, failed_reports
        )
        return AdminOrderList(orders=[admin_order(row) for row in rows], total=total, limit=limit, offset=offset)

    async def admin_detail(self, db: AsyncSession, order_id: str) -> AdminOrderDetail:
        """Any order (admin) with its status history."""
        order = await self.get(db, order_id)
        transitions = await OrderRepository(db).transitions(order.id)
        return AdminOrderDetail(
            **admin_order(order).model_dump(),
            vins=list(order.vins),
            session_id=order.session_id,
            transitions=[OrderTransitionRead.model_validate(row) for row in transitions],
        )

    async def count_by_status(self, db: AsyncSession) -> dict[OrderStatus, int]:
        return await OrderRepository(db).count_by_status()


def admin_order(order: Order) -> AdminOrder:
    return AdminOrder(
        id=order.id,
        reference=order_reference(order.id),
        status=order.status.value,
        provider=order.provider,
        payment_method=order.payment_method,
        provider_payment_id=order.provider_payment_id,
        package=order.package,
        vehicles=len(order.vins),
        locale=order.locale,
        currency=order.currency,
        subtotal_cents=order.subtotal_cents,
        discount_cents=order.discount_cents,
        net_cents=order.net_cents,
        vat_rate=order.vat_rate,
        vat_cents=order.vat_cents,
        gross_cents=order.gross_cents,
        voucher_code=order.voucher_code,
        refunded_cents=order.refunded_cents,
        flagged_reason=order.flagged_reason,
        created_at=order.created_at,
        paid_at=order.paid_at,
        expires_at=order.expires_at,
    )


orders = OrderService()
