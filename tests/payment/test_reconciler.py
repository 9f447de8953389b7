"""A webhook stored but never handled (its job was lost) is found and handled by the reconciler."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from carpulse.inbound_event.tasks import requeue_unhandled
from carpulse.models import InboundEvent
from tests.payment.flow import act_on_hosted_page, checkout, order, settle


class TestLostJobs:
    async def test_an_unhandled_event_is_requeued_and_pays_the_order(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        state = committed_app.state.carpulse
        fake = state.sandbox.stripe
        fake.auto_deliver = False
        intent = await checkout(committed_client, "stripe")
        await act_on_hosted_page(committed_client, intent["redirect_url"], "pay")
        event = next(e for e in fake.events if e["type"] == "checkout.session.completed")
        body = json.dumps(event).encode()

        # Store the delivery as the endpoint would, but lose its job: no enqueue.
        from carpulse.inbound_event.repository import InboundEventRepository

        async with state.sessionmaker() as db:
            await InboundEventRepository(db).insert_new(
                "stripe", event["id"], event["type"], body.decode(), state.clock.now()
            )
            await db.commit()
        async with state.sessionmaker() as db:
            await db.execute(update(InboundEvent).values(received_at=state.clock.now() - timedelta(minutes=5)))
            await db.commit()
        assert (await order(committed_client, intent["order_id"]))["status"] == "pending_payment"

        assert await requeue_unhandled(state, older_than_seconds=60) == 1
        await settle(committed_app)
        assert (await order(committed_client, intent["order_id"]))["status"] == "paid"
        assert await requeue_unhandled(state, older_than_seconds=60) == 0
