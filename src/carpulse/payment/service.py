"""Webhook intake across providers, and the hand-over of what a provider says to whoever took the payment.

Payment knows no product: a product registers with `on_outcome` and answers for the payments it started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.config import StripeSettings
from carpulse.inbound_event.service import inbox
from carpulse.kit.logs import get_logger
from carpulse.models import InboundEvent
from carpulse.payment.errors import ApplePayDomainNotConfigured, WebhookRejected
from carpulse.payment.gateway import PaymentOutcome, WebhookSignatureInvalid
from carpulse.state import State

log = get_logger("carpulse.payment")

# The answer for its payment's state, or None when the payment is not the registrant's.
OutcomeHandler = Callable[[AsyncSession, State, PaymentOutcome, str], Awaitable[str | None]]


class PaymentService:
    def __init__(self) -> None:
        self._outcome_handlers: list[OutcomeHandler] = []

    def on_outcome(self, handler: OutcomeHandler) -> OutcomeHandler:
        """Register `handler` for the outcomes webhooks announce (a product, for the payments it started)."""
        if handler not in self._outcome_handlers:
            self._outcome_handlers.append(handler)
        return handler

    async def receive_webhook(
        self, db: AsyncSession, state: State, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> bool:
        """Verify, store once in the inbox (its job starts after commit); True when this delivery was new."""
        gateway = state.payments.get(provider)
        try:
            event = await gateway.parse_webhook(body, headers)
        except WebhookSignatureInvalid as exc:
            log.warning("payment.webhook_rejected", provider=provider, reason=str(exc)[:200])
            raise WebhookRejected(f"The {provider} webhook did not verify: {exc}") from exc
        return await inbox.store(
            db, provider, event.event_id, event.event_type, body.decode("utf-8", "replace"), state.clock.now()
        )

    async def handle_event(self, db: AsyncSession, state: State, row: InboundEvent) -> str:
        """Act on one stored webhook event (the inbox runs this once per event)."""
        event = state.payments.get(row.provider).read_event(row.payload.encode())
        result = "ignored"
        if event.outcome is not None:
            result = "no-order"
            for handler in self._outcome_handlers:
                answer = await handler(db, state, event.outcome, f"webhook:{row.provider}")
                if answer is not None:
                    result = answer
                    break
        log.info("payment.webhook_handled", provider=row.provider, event_type=row.event_type, result=result)
        return result

    async def apple_pay_domain_association(self, settings: StripeSettings) -> str:
        """The file Apple checks before it shows Apple Pay on our own pages (hosted Checkout needs none)."""
        path = settings.apple_pay_domain_association
        if path is None:
            raise ApplePayDomainNotConfigured("No Apple Pay domain association is configured on this server.")
        try:
            return await asyncio.to_thread(path.read_text, "utf-8")
        except OSError as exc:
            log.warning("payment.apple_pay_domain_file_unreadable", error=type(exc).__name__)
            raise ApplePayDomainNotConfigured("The Apple Pay domain association file cannot be read.") from exc


payments = PaymentService()
