"""Consent: a car's readings from a paid report leave through the Data API only as its buyer agreed.

By default nothing leaves. The buyer may allow model statistics (never per VIN) or vehicle data (per VIN),
and change or withdraw that at any time, for the readings kept and the later ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from carpulse.models import DataSharing, Observation
from carpulse.report.tasks import delete_expired
from tests.data_api.flow import DataClient, data_client
from tests.payment.flow import act_on_hosted_page, checkout
from tests.report.flow import REPORTS_ON, paid_order, reports_of, settle_reports


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Real readings, not the simulator's: what a report acquired.
    return {**REPORTS_ON, "data_api": {"synthetic": False, "key_cache_seconds": 0}, "rate_limit": {"enabled": False}}


@pytest.fixture
def client(committed_data_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return committed_data_client


async def sharing_of(app: FastAPI, vin: str) -> set[DataSharing]:
    async with app.state.carpulse.sessionmaker() as db:
        rows = (await db.execute(select(Observation).where(Observation.vin == vin))).scalars()
        return {row.sharing for row in rows}


class TestConsent:
    async def test_a_reports_readings_leave_only_as_the_buyer_chose(
        self, committed_app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        intent = await paid_order(client, committed_app)
        order_id = intent["order_id"]
        vin = (await reports_of(client, order_id))["vehicles"][0]["vin"]
        assert await sharing_of(committed_app, vin) == {DataSharing.private}
        business: DataClient = await data_client(committed_app, client)
        dynamic = f"/api/v1/vehicle/dynamic/{vin}"

        # Without consent the car is unknown to the Data API, and the miss is not billed.
        refused = await client.get(dynamic, headers=business.by_key)
        assert refused.status_code == 404, refused.text
        assert refused.json()["type"].endswith("/no-data")
        assert (await client.get(f"/api/v1/orders/{order_id}/data-sharing")).json()["sharing"] == "private"

        # Statistics only: still nothing per VIN.
        stats = await client.put(f"/api/v1/orders/{order_id}/data-sharing", json={"sharing": "model_statistics"})
        assert stats.status_code == 200, stats.text
        assert stats.json()["readings"] > 0
        assert (await client.get(dynamic, headers=business.by_key)).status_code == 404

        # Vehicle data: the car's readings are sold per VIN, with their times and source.
        shared = await client.put(f"/api/v1/orders/{order_id}/data-sharing", json={"sharing": "vehicle_data"})
        assert shared.json()["sharing"] == "vehicle_data"
        answered = await client.get(dynamic, headers=business.by_key)
        assert answered.status_code == 200, answered.text
        body = answered.json()
        assert body["vin"] == vin
        assert body["synthetic"] is False
        assert body["odometer"]["source"]
        assert body["odometer"]["captured_at"]

        # Withdrawn: gone again, for what was kept.
        withdrawn = await client.put(f"/api/v1/orders/{order_id}/data-sharing", json={"sharing": "private"})
        assert withdrawn.status_code == 200
        assert await sharing_of(committed_app, vin) == {DataSharing.private}
        assert (await client.get(dynamic, headers=business.by_key)).status_code == 404
        usage = (await client.get("/api/v1/billing/usage", headers=business.by_key)).json()
        assert sum(total["calls"] for total in usage["totals"]) == 1

    async def test_a_choice_made_before_paying_applies_to_the_readings_the_report_takes(
        self, committed_app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        intent = await checkout(client, "stripe", account="solo", package="pro")
        chosen = await client.put(f"/api/v1/orders/{intent['order_id']}/data-sharing", json={"sharing": "vehicle_data"})
        assert chosen.status_code == 200
        assert chosen.json()["readings"] == 0  # nothing read yet
        paid = await act_on_hosted_page(client, intent["redirect_url"], "pay")
        assert paid.status_code < 400
        assert (await client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})).status_code == 200
        await settle_reports(committed_app)
        vin = (await reports_of(client, intent["order_id"]))["vehicles"][0]["vin"]
        assert await sharing_of(committed_app, vin) == {DataSharing.vehicle_data}

    async def test_shared_readings_outlive_the_retention_until_the_consent_is_withdrawn(
        self, committed_app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        state = committed_app.state.carpulse
        intent = await paid_order(client, committed_app)
        order_id = intent["order_id"]
        vin = (await reports_of(client, order_id))["vehicles"][0]["vin"]
        await client.put(f"/api/v1/orders/{order_id}/data-sharing", json={"sharing": "vehicle_data"})
        old = datetime.now(UTC) - timedelta(days=state.settings.report.retention_days + 1)
        async with state.sessionmaker() as db:
            await db.execute(update(Observation).where(Observation.vin == vin).values(captured_at=old))
            await db.commit()

        await delete_expired(state)
        assert await sharing_of(committed_app, vin) == {DataSharing.vehicle_data}

        await client.put(f"/api/v1/orders/{order_id}/data-sharing", json={"sharing": "private"})
        await delete_expired(state)
        assert await sharing_of(committed_app, vin) == set()

    async def test_an_unknown_order_is_404_and_a_bad_choice_422(self, client: httpx.AsyncClient) -> None:
        missing = await client.put("/api/v1/orders/" + "x" * 43 + "/data-sharing", json={"sharing": "private"})
        assert missing.status_code == 404
        bad = await client.put("/api/v1/orders/" + "x" * 43 + "/data-sharing", json={"sharing": "everything"})
        assert bad.status_code == 422
