"""The inbox serves any source: a stored event goes to the handler its source registered, once."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import transaction
from carpulse.inbound_event.service import Inbox, inbox
from carpulse.models import InboundEvent
from carpulse.state import State

SOURCE = "test-vendor"
handled: list[str] = []


@inbox.handler(SOURCE)
async def handle_test_vendor(db: AsyncSession, state: State, event: InboundEvent) -> str:
    handled.append(event.event_id)
    return f"seen {event.event_type}"


async def _store(app: FastAPI, source: str, event_id: str) -> InboundEvent:
    state = app.state.carpulse
    async with transaction(state.sessionmaker, state.jobs) as db:
        assert await inbox.store(db, source, event_id, "thing.happened", "{}", state.clock.now())
        # A replay of the same delivery stores nothing and starts nothing.
        assert not await inbox.store(db, source, event_id, "thing.happened", "{}", state.clock.now())
    await state.jobs.drain()
    async with state.sessionmaker() as db:
        row = (await db.execute(select(InboundEvent).where(InboundEvent.event_id == event_id))).scalar_one()
    return row


class TestInbox:
    async def test_an_event_goes_to_its_sources_handler_once(self, committed_app: FastAPI) -> None:
        event_id = f"evt_{uuid.uuid4().hex}"
        row = await _store(committed_app, SOURCE, event_id)

        assert handled.count(event_id) == 1
        assert row.handled_at is not None
        assert row.result == "seen thing.happened"

    async def test_an_event_no_handler_serves_stays_unhandled_for_a_later_sweep(self, committed_app: FastAPI) -> None:
        row = await _store(committed_app, "nobody", f"evt_{uuid.uuid4().hex}")

        assert (row.handled_at, row.result) == (None, None)

    def test_a_source_has_one_handler(self) -> None:
        own = Inbox()
        own.handler("vendor")(handle_test_vendor)

        async def another(db: AsyncSession, state: State, event: InboundEvent) -> str:
            return "other"

        with pytest.raises(ValueError, match="already has a handler"):
            own.handler("vendor")(another)
