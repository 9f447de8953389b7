"""Checkout, verification, PayPal capture and webhook intake, across providers.

Everything that moves money state goes through `OrderService.apply`, whatever told us: the
provider's webhook (via the inbox and a job), the customer's `verify` call, or a PayPal capture.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.repository import ConnectSessionRepository
from carpulse.connect.schemas import ConnectSession, Locale, Step
from carpulse.connect.service import connect
from carpulse.database import release_read
from carpulse.errors import CarPulseError
from carpulse.inbound_event.repository import InboundEventRepository
from carpulse.kit.logs import get_logger
from carpulse.kit.money import plain_rate
from carpulse.models import Order, OrderStatus
from carpulse.models.order import order_reference
from carpulse.order.errors import OrderNotPayable
from carpulse.order.repository import OrderRepository
from carpulse.order.service import orders
from carpulse.payment.errors import WebhookRejected
from carpulse.payment.gateway import CheckoutRequest, PaymentOutcome, PaymentStatus, WebhookSignatureInvalid
from carpulse.payment.schemas import CreateIntent, IntentCreated, OrderRead, OrderTransitionRead
from carpulse.pricing.catalog import PackageCode, package_name
from carpulse.pricing.errors import QuoteExpired, QuoteNotFound
from carpulse.pricing.repository import QuoteRepository
from carpulse.receipt.repository import ReceiptRepository
from carpulse.state import State
from carpulse.worker import enqueue_after_commit

log = get_logger("carpulse.payment")

WEBHOOK_JOB = "inbound_event.handle"
CLOSE_JOB = "payment.close_checkout"


class PaymentService:
    async def create_intent(
        self, db: AsyncSession, state: State, session: ConnectSession, body: CreateIntent
    ) -> IntentCreated:
        now = state.clock.now()
        quote = await QuoteRepository(db).get_for_session(body.quote_id, session.id)
        if quote is None:
            raise QuoteNotFound("No such quote for this session.")
        gateway = state.payments.get(body.provider)
        existing = await OrderRepository(db).for_quote(quote.id)
        if existing is not None:
            return await self._existing(existing, body.provider)
        if quote.expires_at <= now:
            raise QuoteExpired("The quote has expired; ask for a new one.")
        locale = (body.locale or Locale(quote.locale)).value
        order = await orders.create(db, quote, body.provider, locale, now, state.settings.pricing.order_ttl_seconds)
        await connect.keep(db, session)
        frontend = state.settings.tesla.frontend_url or f"{state.settings.base_url}/"
        separator = "&" if "?" in frontend else "?"
        # The provider and the browser's history see the return URL: it carries a reference, never an id.
        back = f"{frontend}{separator}{urlencode({'checkout': order_reference(order.id)})}"
        started = await gateway.create_payment(
            CheckoutRequest(
                order_id=order.id,
                amount_cents=order.gross_cents,
                currency=order.currency,
                description=f"{package_name(PackageCode(order.package), locale)} ({len(order.vins)})",
                locale=locale,
                success_url=f"{back}&payment=complete",
                cancel_url=f"{back}&payment=cancelled",
                idempotency_key=f"order:{order.id}:checkout",
                expires_at=order.expires_at,
            )
        )
        order.provider_payment_id = started.provider_payment_id
        order.redirect_url = started.redirect_url
        await db.flush()
        await self._remember_order(state, session, order.id)
        log.info("payment.intent_created", order=order.id[:8], provider=body.provider, amount=order.gross_cents)
        return IntentCreated(
            order_id=order.id,
            reference=order_reference(order.id),
            provider=body.provider,
            provider_payment_id=started.provider_payment_id,
            redirect_url=started.redirect_url,
            client_secret=started.client_secret,
            amount_cents=order.gross_cents,
            currency=order.currency,
            expires_at=order.expires_at,
        )

    async def _remember_order(self, state: State, session: ConnectSession, order_id: str) -> None:
        """The connect session resumes at its order (the order itself outlives the session)."""
        session.order_id = order_id
        session.step = Step.ordered
        await ConnectSessionRepository(state.ephemeral).save_until_expiry(session, state.clock.now())

    async def _existing(self, order: Order, provider: str) -> IntentCreated:
        """A second create-intent for the same quote returns the first (double clicks, retries).

        A failed order is not offered again: its checkout is closed (`close_checkout`) and its voucher
        use given back, so paying it needs a new quote."""
        if order.status is not OrderStatus.pending_payment or order.provider != provider:
            raise OrderNotPayable(
                f"This quote already has an order that is {order.status.value} with {order.provider}; "
                "ask for a new quote."
            )
        return IntentCreated(
            order_id=order.id,
            reference=order_reference(order.id),
            provider=order.provider,
            provider_payment_id=order.provider_payment_id or "",
            redirect_url=order.redirect_url,
            amount_cents=order.gross_cents,
            currency=order.currency,
            expires_at=order.expires_at,
        )

    async def verify(self, db: AsyncSession, state: State, order_id: str) -> Order:
        order = await orders.get(db, order_id)
        if order.provider_payment_id is None:
            return order
        provider, payment_id = order.provider, order.provider_payment_id
        await release_read(db)
        outcome = await state.payments.get(provider).verify(payment_id)
        await db.refresh(order)
        await self._apply(db, state, order, outcome, "verify")
        return order

    async def capture(self, db: AsyncSession, state: State, order_id: str) -> Order:
        order = await orders.get(db, order_id)
        if order.provider != "paypal" or order.provider_payment_id is None:
            raise OrderNotPayable("Only a PayPal order waiting for capture can be captured.")
        if order.status is OrderStatus.paid or order.status is OrderStatus.fulfilled:
            return order
        if order.status is not OrderStatus.pending_payment:
            # We gave this order up (and its voucher use with it): we do not take its money any more.
            raise OrderNotPayable(f"This order is {order.status.value}; ask for a new quote.")
        payment_id, order_key = order.provider_payment_id, order.id
        await release_read(db)
        outcome = await state.payments.get("paypal").capture(payment_id, f"order:{order_key}:capture")
        await db.refresh(order)
        await self._apply(db, state, order, outcome, "capture")
        return order

    async def _apply(self, db: AsyncSession, state: State, order: Order, outcome: PaymentOutcome, actor: str) -> str:
        if outcome.status is PaymentStatus.succeeded and outcome.payment_method is None and order.provider_payment_id:
            # Some events do not say how the customer paid; the receipt should.
            with contextlib.suppress(CarPulseError):
                verified = await state.payments.get(order.provider).verify(order.provider_payment_id)
                if verified.status is PaymentStatus.succeeded and verified.payment_method:
                    outcome = dataclasses.replace(outcome, payment_method=verified.payment_method)
        result = await orders.apply(db, order, outcome, actor, state.clock.now(), state.settings.company)
        if result == OrderStatus.failed.value:
            # A declined try leaves the provider's checkout payable; the order has given its voucher use
            # back, so close the checkout before someone pays it at the discount after all.
            enqueue_after_commit(db, CLOSE_JOB, order_id=order.id)
        await db.refresh(order)
        return result

    async def close_checkout(self, db: AsyncSession, state: State, order_id: str) -> str:
        """Close a failed order's checkout at the provider, then apply what the provider says."""
        order = await orders.get(db, order_id)
        if order.status is not OrderStatus.failed or order.provider_payment_id is None:
            return "not-failed"
        provider, payment_id = order.provider, order.provider_payment_id
        await release_read(db)
        outcome = await state.payments.get(provider).close(payment_id, f"order:{order_id}:close")
        await db.refresh(order)
        result = await self._apply(db, state, order, outcome, "worker")
        log.info("payment.checkout_closed", order=order_id[:8], provider=provider, result=result)
        return result

    async def receive_webhook(
        self, db: AsyncSession, state: State, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> bool:
        """Verify, store once, and hand to a job; True when this delivery was new."""
        gateway = state.payments.get(provider)
        try:
            event = await gateway.parse_webhook(body, headers)
        except WebhookSignatureInvalid as exc:
            log.warning("payment.webhook_rejected", provider=provider, reason=str(exc)[:200])
            raise WebhookRejected(f"The {provider} webhook did not verify: {exc}") from exc
        row_id = await InboundEventRepository(db).insert_new(
            provider, event.event_id, event.event_type, body.decode("utf-8", "replace"), state.clock.now()
        )
        if row_id is None:
            return False
        enqueue_after_commit(db, WEBHOOK_JOB, event_pk=str(row_id))
        return True

    async def handle_event(self, db: AsyncSession, state: State, event_pk: str) -> str:
        """Act on one stored webhook event, once (the inbox row is stamped in the same transaction)."""
        row = await InboundEventRepository(db).claim(uuid.UUID(event_pk), state.clock.now())
        if row is None:
            return "already-handled"
        event = state.payments.get(row.provider).read_event(row.payload.encode())
        result = "ignored"
        if event.outcome is not None:
            order = await self._order_for(db, event.outcome)
            if order is None:
                result = "no-order"
            else:
                result = await self._apply(db, state, order, event.outcome, f"webhook:{row.provider}")
        row.result = result
        await db.flush()
        log.info("payment.webhook_handled", provider=row.provider, event_type=row.event_type, result=result)
        return result

    async def read_order(self, db: AsyncSession, order_id: str, connection_days: int) -> OrderRead:
        order = await orders.get(db, order_id)
        receipt = await ReceiptRepository(db).for_order(order.id)
        transitions = await OrderRepository(db).transitions(order.id)
        return OrderRead(
            order_id=order.id,
            status=order.status.value,
            package=order.package,
            vins=order.vins,
            currency=order.currency,
            net_cents=order.net_cents,
            vat_rate=plain_rate(order.vat_rate),
            vat_cents=order.vat_cents,
            gross_cents=order.gross_cents,
            discount_cents=order.discount_cents,
            voucher_code=order.voucher_code,
            provider=order.provider,
            provider_payment_id=order.provider_payment_id,
            payment_method=order.payment_method,
            flagged=order.flagged_reason is not None,
            paid_at=order.paid_at,
            data_until=order.paid_at + timedelta(days=connection_days)
            if order.paid_at and order.status in (OrderStatus.paid, OrderStatus.fulfilled)
            else None,
            expires_at=order.expires_at,
            receipt_id=receipt.id if receipt else None,
            transitions=[OrderTransitionRead.model_validate(t) for t in transitions],
            **await self._refund_fields(db, order),
        )

    async def _refund_fields(self, db: AsyncSession, order: Order) -> dict[str, object]:
        """What a refund left on the order: the amount, when, the provider's id, and the credit note."""
        note = await ReceiptRepository(db).credit_note_for_order(order.id)
        return {
            "refunded_cents": order.refunded_cents,
            "refunded_at": order.refunded_at,
            "refund_id": order.refund_id,
            "credit_note_id": note.id if note else None,
        }

    async def _order_for(self, db: AsyncSession, outcome: PaymentOutcome) -> Order | None:
        repository = OrderRepository(db)
        if outcome.order_id:
            order = await repository.get(outcome.order_id)
            if order is not None and order.provider == outcome.provider:
                return order
        return await repository.by_payment_id(outcome.provider, outcome.provider_payment_id)


payments = PaymentService()
