"""An order's checkout across payment providers: start, switch, return, verify, PayPal capture.

Everything that moves money state goes through `OrderService.apply`, whatever told us: the
provider's webhook (the inbox hands it to payment, payment to `apply_outcome` here), the customer's
`verify` call, or a PayPal capture.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.repository import ConnectSessionRepository
from carpulse.connect.schemas import ConnectSession, Locale, Step
from carpulse.connect.service import connect
from carpulse.database import release_read
from carpulse.errors import CarPulseError
from carpulse.kit.logs import get_logger
from carpulse.kit.money import plain_rate
from carpulse.kit.secrets_box import UndecryptableSecret
from carpulse.models import Order, OrderStatus
from carpulse.models.order import order_reference
from carpulse.order.errors import OrderNotFound, OrderNotPayable
from carpulse.order.repository import OrderRepository
from carpulse.order.schemas import CreateIntent, IntentCreated, OrderRead, OrderTransitionRead
from carpulse.order.service import orders
from carpulse.payment.errors import CheckoutAlreadyPaid, CheckoutChanging
from carpulse.payment.factory import PaymentChoice
from carpulse.payment.gateway import CheckoutRequest, PaymentOutcome, PaymentStatus
from carpulse.payment.service import payments
from carpulse.pricing.catalog import PackageCode, package_name
from carpulse.pricing.errors import QuoteExpired, QuoteNotFound
from carpulse.pricing.repository import QuoteRepository
from carpulse.receipt.repository import ReceiptRepository
from carpulse.state import State
from carpulse.worker import enqueue_after_commit

log = get_logger("carpulse.payment")

CLOSE_JOB = "payment.close_checkout"
RETURN_FIELDS_SEPARATOR = "|"
# A switched-away payment's end may be announced for days (webhook retries); after that the order's
# current payment is asked instead (`apply_outcome`).
REPLACED_SECONDS = 3 * 24 * 3600
PAID_STATUSES = frozenset({OrderStatus.paid, OrderStatus.fulfilled, OrderStatus.refunded})


class CheckoutOutcome(StrEnum):
    """The word the return URL gives the frontend (`payment=`), from the provider's state, never the URL taken."""

    paid = "paid"  # the money is taken; the reports are on their way
    processing = "processing"  # not confirmed yet (or the provider could not be asked): poll the order
    declined = "declined"  # the provider or the bank refused the payment
    abandoned = "abandoned"  # the customer left (or the checkout expired) without paying
    replaced = "replaced"  # the customer switched to another payment choice since this checkout
    refunded = "refunded"  # paid and since refunded


def replaced_key(provider: str, payment_id: str) -> str:
    return f"payment.replaced:{provider}:{payment_id}"


def checkout_outcome(status: OrderStatus, *, replaced: bool, cancelled: bool) -> CheckoutOutcome:
    """The outcome of an order after its provider's state was applied."""
    if status in (OrderStatus.paid, OrderStatus.fulfilled):
        return CheckoutOutcome.paid
    if status is OrderStatus.refunded:
        return CheckoutOutcome.refunded
    if replaced:
        return CheckoutOutcome.replaced
    if status is OrderStatus.failed:
        return CheckoutOutcome.declined
    if status is OrderStatus.expired or cancelled:
        return CheckoutOutcome.abandoned
    return CheckoutOutcome.processing


class CheckoutService:
    async def create_intent(
        self, db: AsyncSession, state: State, session: ConnectSession, body: CreateIntent
    ) -> IntentCreated:
        now = state.clock.now()
        quote = await QuoteRepository(db).get_for_session(body.quote_id, session.id)
        if quote is None:
            raise QuoteNotFound("No such quote for this session.")
        choice = state.payments.choose(body.provider)
        existing = await OrderRepository(db).for_quote(quote.id)
        if existing is not None:
            if self._chosen(existing, choice) and existing.status is OrderStatus.pending_payment:
                return self._intent(existing, body.provider)  # double clicks, retries
            return await self._switch(db, state, existing, choice, body.provider)
        if quote.expires_at <= now:
            raise QuoteExpired("The quote has expired; ask for a new one.")
        locale = (body.locale or Locale(quote.locale)).value
        try:
            async with db.begin_nested():
                order = await orders.create(
                    db, quote, choice.gateway.name, locale, now, state.settings.pricing.order_ttl_seconds
                )
        except IntegrityError as exc:
            # The quote's one order was created by a concurrent create-intent that committed first.
            raise CheckoutChanging("Another checkout for this quote started at the same moment; try again.") from exc
        order.checkout_method = choice.method
        await connect.keep(db, session)
        started = await choice.gateway.create_payment(
            self._checkout_request(state, order, choice, f"order:{order.id}:checkout")
        )
        order.provider_payment_id = started.provider_payment_id
        order.redirect_url = started.redirect_url
        await db.flush()
        await self._remember_order(state, session, order.id)
        log.info("payment.intent_created", order=order.id[:8], provider=body.provider, amount=order.gross_cents)
        return self._intent(order, body.provider, started.client_secret)

    @staticmethod
    def _chosen(order: Order, choice: PaymentChoice) -> bool:
        return order.provider == choice.gateway.name and order.checkout_method == choice.method

    def _checkout_request(
        self, state: State, order: Order, choice: PaymentChoice, idempotency_key: str
    ) -> CheckoutRequest:
        # The provider and the browser's history see the return URL: an opaque token, never the order id.
        token = state.box.encrypt(RETURN_FIELDS_SEPARATOR.join((order.id, choice.gateway.name, choice.method or "")))
        back = f"{state.settings.base_url}/api/v1/payment/return?{urlencode({'order': token})}"
        return CheckoutRequest(
            order_id=order.id,
            amount_cents=order.gross_cents,
            currency=order.currency,
            description=f"{package_name(PackageCode(order.package), order.locale)} ({len(order.vins)})",
            locale=order.locale,
            success_url=back,
            cancel_url=f"{back}&via=cancel",
            idempotency_key=idempotency_key,
            expires_at=order.expires_at,
            payment_method=choice.method,
        )

    @staticmethod
    def _intent(order: Order, provider: str, client_secret: str | None = None) -> IntentCreated:
        return IntentCreated(
            order_id=order.id,
            reference=order_reference(order.id),
            provider=provider,
            provider_payment_id=order.provider_payment_id or "",
            redirect_url=order.redirect_url,
            client_secret=client_secret,
            amount_cents=order.gross_cents,
            currency=order.currency,
            expires_at=order.expires_at,
        )

    async def _remember_order(self, state: State, session: ConnectSession, order_id: str) -> None:
        """The connect session resumes at its order (the order itself outlives the session)."""
        session.order_id = order_id
        session.step = Step.ordered
        await ConnectSessionRepository(state.ephemeral).save_until_expiry(session, state.clock.now())

    async def _switch(
        self, db: AsyncSession, state: State, order: Order, choice: PaymentChoice, provider: str
    ) -> IntentCreated:
        """The customer changed their mind before paying: close the first payment at its provider, then
        start one with the new choice. Money already taken, or a concurrent switch, answers 409.

        A failed or expired order is not offered again: its checkout is closed (`close_checkout`) and its
        voucher use given back, so paying it needs a new quote."""
        if order.status in PAID_STATUSES:
            raise CheckoutAlreadyPaid(f"This quote's order is already paid with {order.provider}; nothing to switch.")
        if order.status is not OrderStatus.pending_payment:
            raise OrderNotPayable(
                f"This quote already has an order that is {order.status.value} with {order.provider}; "
                "ask for a new quote."
            )
        order_id, replaced, previous = order.id, order.provider_payment_id, order.provider
        key = f"order:{order_id}:checkout:{secrets.token_urlsafe(9)}"  # a fresh payment, not a replay of one
        request = self._checkout_request(state, order, choice, key)
        await release_read(db)
        if replaced is not None:
            # Closing it makes the provider announce its end (`checkout.session.expired`), maybe before this
            # request commits: that end is the old payment's, not the order's (see `handle_event`).
            await state.ephemeral.set(replaced_key(previous, replaced), order_id, ttl_seconds=REPLACED_SECONDS)
            closed = await state.payments.get(previous).close(replaced, f"order:{order_id}:close:{replaced}")
            if closed.status in (PaymentStatus.succeeded, PaymentStatus.refunded):
                # Paid before the close reached the provider: the webhook or `verify` records it.
                raise CheckoutAlreadyPaid(
                    f"The payment with {previous} went through before the switch; nothing to switch, nothing charged "
                    "twice."
                )
        started = await choice.gateway.create_payment(request)
        now = state.clock.now()
        repository = OrderRepository(db)
        swapped = await repository.replace_payment(
            order_id,
            replaced,
            now,
            provider=choice.gateway.name,
            checkout_method=choice.method,
            provider_payment_id=started.provider_payment_id,
            redirect_url=started.redirect_url,
        )
        if not swapped:
            await release_read(db)  # the close's webhook may arrive inline; it must find no lock held
            await choice.gateway.close(
                started.provider_payment_id, f"order:{order_id}:close:{started.provider_payment_id}"
            )
            raise CheckoutChanging("Another checkout for this quote changed it at the same moment; try again.")
        reason = f"switched from {previous} to {provider}"
        repository.record(order_id, OrderStatus.pending_payment, OrderStatus.pending_payment, "customer", reason, now)
        await db.flush()
        await db.refresh(order)
        log.info("payment.checkout_switched", order=order_id[:8], previous=previous, provider=provider)
        return self._intent(order, provider, started.client_secret)

    async def returned(self, db: AsyncSession, state: State, token: str, via: str | None) -> str:
        """The customer is back from the provider: bring the order in line with the provider's state (capturing
        an approved PayPal order first) and answer the frontend URL carrying the outcome's word."""
        try:
            order_id, gateway, method = state.box.decrypt(token).split(RETURN_FIELDS_SEPARATOR)
        except (UndecryptableSecret, ValueError) as exc:
            raise OrderNotFound("This return link names no order.") from exc
        order = await orders.get(db, order_id)
        word = await self._outcome(
            db, state, order, (order.provider, order.checkout_method or "") != (gateway, method), via
        )
        frontend = state.settings.frontend_url
        separator = "&" if "?" in frontend else "?"
        log.info("payment.returned", order=order_id[:8], via=via or "success", outcome=word.value)
        return f"{frontend}{separator}{urlencode({'checkout': order_reference(order_id), 'payment': word.value})}"

    async def _outcome(
        self, db: AsyncSession, state: State, order: Order, replaced: bool, via: str | None
    ) -> CheckoutOutcome:
        if order.status is OrderStatus.pending_payment and not replaced and order.provider_payment_id:
            gateway, payment_id, order_id = state.payments.get(order.provider), order.provider_payment_id, order.id
            await release_read(db)
            try:
                # Back through the cancel URL nothing is captured; the success URL's approval (PayPal) is.
                outcome = await (
                    gateway.verify(payment_id)
                    if via == "cancel"
                    else gateway.capture(payment_id, f"order:{order_id}:capture")
                )
            except CarPulseError as exc:
                log.warning("payment.return_unverified", order=order_id[:8], error=type(exc).__name__)
                return CheckoutOutcome.processing
            await db.refresh(order)
            await self._apply(db, state, order, outcome, "return")
            if outcome.status is PaymentStatus.failed:
                return CheckoutOutcome.declined
        return checkout_outcome(order.status, replaced=replaced, cancelled=via == "cancel")

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

    async def apply_outcome(self, db: AsyncSession, state: State, outcome: PaymentOutcome, actor: str) -> str | None:
        """Apply what a provider's webhook says to the order it paid for; None when no order of ours is its."""
        order = await self._order_for(db, outcome)
        if order is None:
            return None
        ended = outcome.status in (PaymentStatus.failed, PaymentStatus.expired)
        if ended and await state.ephemeral.get(replaced_key(outcome.provider, outcome.provider_payment_id)):
            return "replaced-payment"
        if (
            outcome.status is PaymentStatus.expired
            and order.provider_payment_id
            and outcome.provider_payment_id != order.provider_payment_id
        ):
            # The end of a checkout this order has replaced (the customer switched): the order's current
            # payment decides, not the old one's end.
            outcome = await state.payments.get(order.provider).verify(order.provider_payment_id)
        return await self._apply(db, state, order, outcome, actor)

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
            checkout_method=order.checkout_method,
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


checkout = CheckoutService()
payments.on_outcome(checkout.apply_outcome)
