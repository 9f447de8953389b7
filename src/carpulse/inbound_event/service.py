"""The inbox: deliveries from outside (webhooks) stored once, each handled once by the handler its source names.

A domain registers its handler for its sources (`@inbox.handler("stripe")`); the inbox knows no domain.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.inbound_event.repository import InboundEventRepository
from carpulse.kit.logs import get_logger
from carpulse.models import InboundEvent
from carpulse.worker import enqueue_after_commit

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.inbound_event")

HANDLE_JOB = "inbound_event.handle"

# Acts on one stored event inside the transaction that stamps it handled; answers the result to store.
InboxHandler = Callable[[AsyncSession, "State", InboundEvent], Awaitable[str]]


class NoInboxHandler(LookupError):
    """A stored event's source has no registered handler (the event stays unhandled, for a later sweep)."""


class Inbox:
    def __init__(self) -> None:
        self._handlers: dict[str, InboxHandler] = {}

    def handler(self, *sources: str) -> Callable[[InboxHandler], InboxHandler]:
        """Register `async def fn(db, state, event) -> result` for the events stored under `sources`."""

        def register(fn: InboxHandler) -> InboxHandler:
            for source in sources:
                known = self._handlers.get(source)
                if known is not None and known is not fn:
                    raise ValueError(f"the inbox source {source!r} already has a handler")
                self._handlers[source] = fn
            return fn

        return register

    async def store(
        self, db: AsyncSession, source: str, event_id: str, event_type: str, payload: str, now: datetime
    ) -> bool:
        """Store a delivery unless (source, event id) is already there; its job starts after commit. True when new."""
        row_id = await InboundEventRepository(db).insert_new(source, event_id, event_type, payload, now)
        if row_id is None:
            return False
        enqueue_after_commit(db, HANDLE_JOB, event_pk=str(row_id))
        return True

    async def handle(self, db: AsyncSession, state: State, event_pk: str) -> str:
        """Hand one stored event to its source's handler, once (the row is stamped in the same transaction)."""
        row = await InboundEventRepository(db).claim(uuid.UUID(event_pk), state.clock.now())
        if row is None:
            return "already-handled"
        handler = self._handlers.get(row.provider)
        if handler is None:
            raise NoInboxHandler(f"no inbox handler for {row.provider!r} events")
        row.result = await handler(db, state, row)
        await db.flush()
        return row.result


inbox = Inbox()
