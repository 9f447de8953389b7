"""A car that is asleep or offline: the report waits for it instead of being delivered empty, and an order
that delivered nothing gets its money back, with a credit note; or the customer takes what was readable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from carpulse.kit.clock import FrozenClock
from carpulse.models import CreditNote, Report
from carpulse.order.service import refund_key
from carpulse.report.pipeline import run_render
from carpulse.report.tasks import order_paid, order_undelivered, requeue_lost
from tests.connect.flow import connect_account, sandbox_fake
from tests.payment.flow import act_on_hosted_page, order
from tests.report.flow import REPORTS_ON, local, reports_of, settle_reports

pytestmark = pytest.mark.usefixtures("committed_app")

WINDOW = 3600
ASLEEP, OFFLINE = 0, 1  # the `sleepy` account's cars: one wakes when asked, one has no connectivity


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # No time to wake within a try (the sandbox car takes an hour): a try sees the car as it is.
    return REPORTS_ON | {
        "report": {
            "start_on_payment": True,
            "retry_window_seconds": WINDOW,
            "retry_seconds": [30.0, 600.0],
            "wake_budget_seconds": 0,
        },
        "tesla": {"max_retries": 0},
    }


async def _paid_sleepy_order(
    client: httpx.AsyncClient, app: FastAPI, car: int, provider: str = "stripe"
) -> dict[str, Any]:
    """A Pro order for one of the `sleepy` cars, paid; its reports not started yet (the test starts them)."""
    state = app.state.carpulse
    fake = sandbox_fake(app)
    fake.wake_delay_seconds = 3600
    vin = fake.accounts["sleepy"].vehicles[car].vin
    session_id = str((await connect_account(client, "sleepy"))["session_id"])
    selected = await client.post(f"/api/v1/tesla/session/{session_id}/select", json={"vins": [vin], "package": "pro"})
    assert selected.status_code == 200, selected.text
    quote = (await client.post("/api/v1/pricing/quote", json={"session_id": session_id})).json()
    intent = (
        await client.post(
            "/api/v1/payment/create-intent",
            json={"session_id": session_id, "quote_id": quote["quote_id"], "provider": provider, "locale": "fi"},
        )
    ).json()
    state.settings.report.start_on_payment = False
    try:
        paid = await act_on_hosted_page(client, intent["redirect_url"], "approve" if provider == "paypal" else "pay")
        assert paid.status_code < 400, paid.text
        if provider == "paypal":
            done = await client.post(f"/api/v1/payment/capture/paypal/{intent['order_id']}")
        else:
            done = await client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})
        assert done.status_code == 200, done.text
        await settle_reports(app)
    finally:
        state.settings.report.start_on_payment = True
    intent |= {"vin": vin, "session_id": session_id, "gross_cents": quote["gross_cents"]}
    # From here time moves only when the test says so.
    state.clock = FrozenClock(state.clock.now())
    await order_paid(state, intent["order_id"])
    await settle_reports(app)
    return intent


async def _report(app: FastAPI, order_id: str) -> Report:
    async with app.state.carpulse.sessionmaker() as db:
        (report,) = (await db.execute(select(Report).where(Report.order_id == order_id))).scalars()
        return report


async def _status(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tesla/reports/status/{task_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _wakes(client: httpx.AsyncClient) -> int:
    billing = (await client.get("/_sandbox/tesla/_control/billing")).json()
    return int(billing["totals"]["wakes"])


async def _past_the_window(app: FastAPI, order_id: str) -> None:
    """Let the window end and run the last try (as the scheduled job would), then what it started."""
    state = app.state.carpulse
    report = await _report(app, order_id)
    state.clock = FrozenClock(report.created_at + timedelta(seconds=WINDOW + 1))
    await run_render(state, report.id)
    await settle_reports(app)


class TestWaitingForTheCar:
    async def test_a_car_that_gives_no_headline_facts_waits_instead_of_an_empty_report(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await _paid_sleepy_order(committed_client, committed_app, OFFLINE)

        listing = await reports_of(committed_client, intent["order_id"])
        assert listing["status"] == "waiting_for_vehicle"
        assert listing["order_status"] == "paid"
        (vehicle,) = listing["vehicles"]
        (task,) = vehicle["reports"]
        assert task["status"] == "waiting_for_vehicle"
        assert task["download_url"] is None
        status = await _status(committed_client, task["task_id"])
        assert "Open the Tesla app to wake the car" in status["message"]
        assert set(status["unread_facts"]) == {"odometer", "battery_level", "range", "software_version"}
        now = committed_app.state.carpulse.clock.now()
        assert status["retry_at"] is not None
        report = await _report(committed_app, intent["order_id"])
        assert report.retry_at is not None
        assert now + timedelta(seconds=15) <= report.retry_at <= now + timedelta(seconds=30)  # [30, 600] s, jittered
        assert status["waiting_until"] is not None

    async def test_tries_back_off_with_one_wake_each_and_a_car_that_wakes_gets_its_full_report(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        intent = await _paid_sleepy_order(committed_client, committed_app, ASLEEP)
        first = await _report(committed_app, intent["order_id"])
        assert (first.status.value, first.attempts) == ("waiting_for_vehicle", 1)
        assert await _wakes(committed_client) == 1

        # A second try while the car still sleeps waits longer than the first.
        assert first.retry_at is not None
        state.clock = FrozenClock(first.retry_at + timedelta(seconds=1))
        await run_render(state, first.id)
        second = await _report(committed_app, intent["order_id"])
        assert (second.status.value, second.attempts) == ("waiting_for_vehicle", 2)
        assert second.retry_at is not None
        assert second.retry_at - state.clock.now() >= timedelta(seconds=30)  # [60, 60] / 2 at the least
        assert await _wakes(committed_client) == 2  # one wake per try, never more

        # The owner opens the Tesla app: the car is online for the next try.
        woken = await committed_client.post(
            "/_sandbox/tesla/_control/faults", json={"account": "sleepy", "asleep": False}
        )
        assert woken.status_code == 200, woken.text
        state.clock = FrozenClock(second.retry_at + timedelta(seconds=1))
        await run_render(state, second.id)
        await settle_reports(committed_app)

        listing = await reports_of(committed_client, intent["order_id"])
        assert (listing["status"], listing["order_status"]) == ("complete", "fulfilled")
        (vehicle,) = listing["vehicles"]
        assert vehicle["facts"]["odometer_km"] > 0
        assert vehicle["facts"]["software_version"]
        (task,) = vehicle["reports"]
        assert task["unread_facts"] == []
        assert task["partial"] is False
        assert (await committed_client.get(local(task["download_url"]))).content.startswith(b"%PDF")
        assert sandbox_stripe(committed_app).refunds == {}
        assert (await order(committed_client, intent["order_id"]))["refunded_cents"] is None


def sandbox_stripe(app: FastAPI) -> Any:
    return app.state.carpulse.sandbox.stripe


def sandbox_paypal(app: FastAPI) -> Any:
    return app.state.carpulse.sandbox.paypal


class TestRefundAfterTheWindow:
    async def _refunded(self, client: httpx.AsyncClient, app: FastAPI, provider: str) -> dict[str, Any]:
        intent = await _paid_sleepy_order(client, app, OFFLINE, provider)
        await _past_the_window(app, intent["order_id"])

        body = await order(client, intent["order_id"])
        assert body["status"] == "refunded"
        assert body["refunded_cents"] == intent["gross_cents"] == body["gross_cents"]
        assert body["refunded_at"] is not None
        assert body["refund_id"]
        assert body["credit_note_id"]
        (last,) = [t for t in body["transitions"] if t["to_status"] == "refunded"]
        assert last["from_status"] == "paid"
        assert "asleep or offline" in last["reason"]

        report = await _report(app, intent["order_id"])
        assert report.status.value == "failed"
        assert report.failure_reason is not None
        assert "stayed asleep or offline for 1 h" in report.failure_reason
        assert "odometer" in report.failure_reason
        # A refunded order opens nothing any more; its history and credit note say what happened.
        gone = await client.get(f"/api/v1/tesla/reports/status/{report.id}")
        assert gone.status_code == 404
        return intent | {"order": body}

    async def _credit_note_matches_the_receipt(self, client: httpx.AsyncClient, refunded: dict[str, Any]) -> None:
        body = refunded["order"]
        receipt = (await client.get(f"/api/v1/payment/receipt/{body['receipt_id']}")).json()
        note_response = await client.get(f"/api/v1/payment/credit-note/{body['credit_note_id']}")
        assert note_response.status_code == 200, note_response.text
        note = note_response.json()
        assert note["id"] == body["credit_note_id"]
        assert note["number"].startswith("HYV-")
        assert note["number"] != receipt["number"]
        assert note["receipt_number"] == receipt["number"]
        assert note["refund_reference"] == body["refund_id"]
        for field in ("net_cents", "vat_cents", "gross_cents", "discount_cents"):
            assert note[field] == -receipt[field]
        assert note["vat_rate"] == receipt["vat_rate"]
        assert [line["gross_cents"] for line in note["lines"]] == [-line["gross_cents"] for line in receipt["lines"]]
        # The receipt itself is unchanged.
        assert receipt["gross_cents"] == body["gross_cents"] > 0
        pdf = await client.get(f"/api/v1/payment/credit-note/{note['id']}/pdf")
        assert pdf.status_code == 200, pdf.text
        assert pdf.content.startswith(b"%PDF")

    async def test_stripe_order_is_refunded_at_stripe_with_a_credit_note(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        refunded = await self._refunded(committed_client, committed_app, "stripe")

        stripe = sandbox_stripe(committed_app)
        (refund,) = stripe.refunds.values()
        assert refund["id"] == refunded["order"]["refund_id"]
        assert (refund["amount"], refund["status"]) == (refunded["gross_cents"], "succeeded")
        charge = stripe.charges[refund["charge"]]
        assert charge["refunded"] is True
        assert charge["amount_refunded"] == refunded["gross_cents"]
        assert any(event["type"] == "charge.refunded" for event in stripe.events)
        await self._credit_note_matches_the_receipt(committed_client, refunded)

    async def test_paypal_order_is_refunded_at_paypal_with_a_credit_note(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        refunded = await self._refunded(committed_client, committed_app, "paypal")

        paypal = sandbox_paypal(committed_app)
        (refund,) = paypal.refunds.values()
        assert refund.id == refunded["order"]["refund_id"]
        assert refund.status == "COMPLETED"
        assert paypal.captures[refund.capture_id].status == "REFUNDED"
        await self._credit_note_matches_the_receipt(committed_client, refunded)

    async def test_a_replayed_final_failure_refunds_once(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        refunded = await self._refunded(committed_client, committed_app, "stripe")
        order_id = refunded["order_id"]
        report = await _report(committed_app, order_id)

        # The refund job delivered again, the last render's job again, the reconciler's sweep.
        await order_undelivered(state, order_id)
        await run_render(state, report.id)
        await requeue_lost(state)
        await settle_reports(committed_app)

        assert len(sandbox_stripe(committed_app).refunds) == 1
        again = await order(committed_client, order_id)
        assert again["refund_id"] == refunded["order"]["refund_id"]
        assert [t["to_status"] for t in again["transitions"]].count("refunded") == 1
        async with state.sessionmaker() as db:
            notes = list((await db.execute(select(CreditNote).where(CreditNote.order_id == order_id))).scalars())
        assert len(notes) == 1

    async def test_a_refund_whose_answer_was_lost_is_asked_again_with_the_same_key(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        """An earlier run refunded at Stripe and died before recording it: the next run gets that refund."""
        state = committed_app.state.carpulse
        intent = await _paid_sleepy_order(committed_client, committed_app, OFFLINE)
        stripe = sandbox_stripe(committed_app)
        stripe.auto_deliver = False  # no webhook tells us either, until the end
        report = await _report(committed_app, intent["order_id"])
        state.clock = FrozenClock(report.created_at + timedelta(seconds=WINDOW + 1))
        await run_render(state, report.id)  # fails the report and queues the refund job
        failed = await _report(committed_app, intent["order_id"])
        body = await order(committed_client, intent["order_id"])
        earlier = await state.payments.get("stripe").refund(
            body["provider_payment_id"],
            body["gross_cents"],
            "EUR",
            refund_key(intent["order_id"]),
            failed.failure_reason,
        )
        await settle_reports(committed_app)
        await stripe.deliver_pending()
        await settle_reports(committed_app)

        assert list(stripe.refunds) == [earlier.provider_refund_id]
        refund_calls = [r for r in stripe.requests if r.path == "/v1/refunds"]
        assert [r.idempotency_key for r in refund_calls] == [f"order:{intent['order_id']}:refund"] * 2
        after = await order(committed_client, intent["order_id"])
        assert (after["status"], after["refund_id"]) == ("refunded", earlier.provider_refund_id)
        assert [t["to_status"] for t in after["transitions"]].count("refunded") == 1


class TestPartialDelivery:
    async def test_the_customer_takes_what_was_readable_and_keeps_the_report(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await _paid_sleepy_order(committed_client, committed_app, OFFLINE)
        report = await _report(committed_app, intent["order_id"])

        response = await committed_client.post(f"/api/v1/tesla/reports/{report.id}/deliver-partial")
        assert response.status_code == 200, response.text
        assert response.json()["partial"] is True
        await settle_reports(committed_app)

        status = await _status(committed_client, report.id)
        assert (status["status"], status["partial"]) == ("complete", True)
        assert "odometer" in status["unread_facts"]
        html = await committed_client.get(local(status["html_url"]))
        assert html.status_code == 200
        assert intent["vin"] in html.text
        assert "Ei saatavilla: ajoneuvon reaaliaikaiset tiedot" in html.text  # the gap, listed (fi)
        listing = await reports_of(committed_client, intent["order_id"])
        assert listing["order_status"] == "fulfilled"

        # Past the window nothing is refunded: the customer has the report they asked for.
        committed_app.state.carpulse.clock = FrozenClock(report.created_at + timedelta(seconds=WINDOW + 1))
        await requeue_lost(committed_app.state.carpulse)
        await settle_reports(committed_app)
        assert sandbox_stripe(committed_app).refunds == {}
        assert (await order(committed_client, intent["order_id"]))["status"] == "fulfilled"

    async def test_only_a_waiting_report_can_be_taken_partial(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await _paid_sleepy_order(committed_client, committed_app, OFFLINE)
        report = await _report(committed_app, intent["order_id"])
        await _past_the_window(committed_app, intent["order_id"])

        refused = await committed_client.post(f"/api/v1/tesla/reports/{report.id}/deliver-partial")
        assert refused.status_code in (404, 409)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert len(sandbox_stripe(committed_app).refunds) == 1
