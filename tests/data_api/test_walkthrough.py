"""The Data API as a business first uses it, end to end through HTTP (the README's walkthrough): register,
confirm, key, static, dynamic, trendline, batch, the quota's 429 on the 101st Basic call of the day, usage,
pay, the invoice as JSON and PDF."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.simulator.service import simulator
from tests.data_api.flow import data_client
from tests.kit.test_documents import pdf_text


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # 100 calls in a row: the burst limit (5 a second on Basic) has its own test.
    return {"rate_limit": {"enabled": False}, "data_api": {"min_cohort": 3}}


async def test_register_to_invoice(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with app.state.carpulse.sessionmaker() as db:
        fleet = (
            await simulator.simulate(db, vehicles=100, months=12, seed=11, until=datetime.now(UTC).date())
        ).vehicles
        await db.commit()
    owner = await data_client(
        app, client, "fleet@leasing.example", sign_up=True, company_name="Leasing Oy", country="FI"
    )
    key = owner.by_header
    vins = [car.vin for car in fleet]
    model_id = Counter(car.model_id for car in fleet if car.make == "Tesla").most_common(1)[0][0]

    static = await client.get(f"/api/v1/vehicle/static/{vins[0]}", headers=key)
    assert static.status_code == 200, static.text
    assert static.json()["make"] == fleet[0].make
    dynamic = await client.get(f"/api/v1/vehicle/dynamic/{vins[0]}", headers=key)
    assert dynamic.status_code == 200, dynamic.text
    assert dynamic.json()["odometer"]["source"] == "simulator"
    trendline = await client.get(f"/api/v1/models/{model_id}/trendline", headers=key)
    assert trendline.status_code == 200, trendline.text
    batch = await client.post("/api/v1/vehicle/batch", json={"vins": vins[1:11]}, headers=key)
    assert batch.json()["billed_units"] == 10
    assert batch.headers["RateLimit-Remaining"] == "87"

    for _ in range(87):
        assert (await client.get(f"/api/v1/vehicle/static/{vins[0]}", headers=key)).status_code == 200
    refused = await client.get(f"/api/v1/vehicle/static/{vins[0]}", headers=key)
    assert refused.status_code == 429
    assert refused.json()["type"].endswith("/quota-exceeded")
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) > 0

    usage = (await client.get("/api/v1/billing/usage", params={"group_by": "endpoint"}, headers=key)).json()
    by_endpoint = {group["group"]: (group["units"], group["amount_minor"]) for group in usage["groups"]}
    assert by_endpoint == {
        "models.trendline": (1, 10),
        "vehicle.batch": (10, 100),
        "vehicle.dynamic": (1, 10),
        "vehicle.static": (88, 880),
    }

    paid = await client.post("/api/v1/billing/pay", json={}, headers=key)
    assert paid.status_code == 201, paid.text
    invoice = paid.json()
    assert (invoice["net_minor"], invoice["vat_minor"], invoice["gross_minor"]) == (1000, 255, 1255)
    assert invoice["vat_treatment"] == "finnish_vat"
    assert sum(line["quantity"] for line in invoice["lines"]) == 100
    pdf = await client.get(invoice["pdf_path"], headers=key)
    text = pdf_text(pdf.content)
    assert invoice["number"] in text
    assert "€12.55" in text
    assert "Leasing Oy" in text
