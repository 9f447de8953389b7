"""The Data API's data through HTTP on a simulated fleet: dynamic data with its sources, model trendlines with
small cohorts withheld, batches billed per VIN answered."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.models import DataSharing, Observation, ObservationKind
from carpulse.simulator.fleet import SimulatedVehicle
from carpulse.simulator.service import simulator
from tests.data_api.flow import MODEL_3_VIN, data_client


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit": {"enabled": False}, "data_api": {"min_cohort": 3}}


@pytest.fixture
async def fleet(app: FastAPI) -> list[SimulatedVehicle]:
    async with app.state.carpulse.sessionmaker() as db:
        simulated = await simulator.simulate(db, vehicles=100, months=12, seed=7, until=datetime.now(UTC).date())
        await db.commit()
    return simulated.vehicles


def tesla(fleet: list[SimulatedVehicle]) -> SimulatedVehicle:
    return next(vehicle for vehicle in fleet if vehicle.make == "Tesla")


async def billed(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    usage = (await client.get("/api/v1/billing/usage", params={"group_by": "endpoint"}, headers=headers)).json()
    return {group["group"]: group["units"] for group in usage["groups"]}


class TestDynamic:
    async def test_a_simulated_teslas_health_odometer_and_readings_each_with_time_and_source(
        self, app: FastAPI, client: httpx.AsyncClient, fleet: list[SimulatedVehicle]
    ) -> None:
        owner = await data_client(app, client)
        car = tesla(fleet)
        response = await client.get(f"/api/v1/vehicle/dynamic/{car.vin}", headers=owner.by_key)
        assert response.status_code == 200, response.text
        assert response.headers["RateLimit-Remaining"] == "99"
        body = response.json()
        assert body["synthetic"] is True
        assert body["model_id"] == car.model_id
        health = body["battery_health"]
        assert health["status"] == "estimated", health
        truth = car.truth[-1].soh_percent
        assert abs(health["soh_percent"] - truth) <= 3, (health, truth)
        assert health["soh_low_percent"] <= health["soh_percent"] <= health["soh_high_percent"]
        assert health["samples_used"] > 10
        for reading in ("odometer", "battery_level", "range"):
            assert body[reading]["source"] == "simulator"
            assert body[reading]["captured_at"]
        assert await billed(client, owner.by_key) == {"vehicle.dynamic": 1}

    async def test_an_answer_is_reused_until_a_new_reading_arrives_which_is_seen_at_once(
        self, app: FastAPI, client: httpx.AsyncClient, fleet: list[SimulatedVehicle]
    ) -> None:
        owner = await data_client(app, client)
        car = tesla(fleet)
        path = f"/api/v1/vehicle/dynamic/{car.vin}"
        first = (await client.get(path, headers=owner.by_key)).json()
        memo = app.state.carpulse.replica_caches["data_api.dynamic"]
        (kept,) = memo.values()
        assert (await client.get(path, headers=owner.by_key)).json() == first
        assert next(iter(memo.values()))[1] is kept[1]  # the same answer, not computed again

        later = datetime.now(UTC)
        async with app.state.carpulse.sessionmaker() as db:
            db.add(
                Observation(
                    vin=car.vin,
                    kind=ObservationKind.odometer,
                    value="123456",
                    unit="km",
                    captured_at=later,
                    source="simulator",
                    brand=car.brand,
                    sharing=DataSharing.vehicle_data,
                    synthetic=True,
                )
            )
            await db.commit()
        fresh = (await client.get(path, headers=owner.by_key)).json()
        assert fresh["odometer"]["value"] == 123456.0
        assert fresh["last_seen"]["captured_at"] != first["last_seen"]["captured_at"]

    async def test_a_vin_we_hold_nothing_for_is_404_and_not_billed(
        self, app: FastAPI, client: httpx.AsyncClient, fleet: list[SimulatedVehicle]
    ) -> None:
        owner = await data_client(app, client)
        response = await client.get(f"/api/v1/vehicle/dynamic/{MODEL_3_VIN}", headers=owner.by_key)
        assert response.status_code == 404
        assert response.json()["type"].endswith("/no-data")
        assert await billed(client, owner.by_key) == {}


class TestTrendline:
    async def test_percentiles_per_bin_from_enough_vehicles_the_rest_withheld(
        self, app: FastAPI, client: httpx.AsyncClient, fleet: list[SimulatedVehicle]
    ) -> None:
        owner = await data_client(app, client)
        model_id, count = Counter(car.model_id for car in fleet if car.make == "Tesla").most_common(1)[0]
        assert count >= 3
        response = await client.get(f"/api/v1/models/{model_id}/trendline", headers=owner.by_key)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["min_cohort"] == 3
        bins = body["by_odometer"]["bins"] + body["by_age"]["bins"]
        published = [item for item in bins if not item["withheld"]]
        assert published, bins
        for item in published:
            assert item["vehicles"] >= 3
            assert item["p10"] <= item["p50"] <= item["p90"]
        for item in bins:
            if item["withheld"]:
                assert item["vehicles"] is None
                assert item["p50"] is None
        assert await billed(client, owner.by_key) == {"models.trendline": 1}

    async def test_an_unknown_model_is_404(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await data_client(app, client)
        response = await client.get("/api/v1/models/no-such-car/trendline", headers=owner.by_key)
        assert response.status_code == 404
        assert response.json()["type"].endswith("/model-not-found")


class TestBatch:
    async def test_one_entry_per_vin_billed_per_vin_answered(
        self, app: FastAPI, client: httpx.AsyncClient, fleet: list[SimulatedVehicle]
    ) -> None:
        owner = await data_client(app, client)
        known = [car.vin for car in fleet[:5]]
        vins = [*known, MODEL_3_VIN, "5YJ3E1EB4LF000001", "AAA3E1EB5LF000001"]
        response = await client.post("/api/v1/vehicle/batch", json={"vins": vins}, headers=owner.by_key)
        assert response.status_code == 200, response.text
        results = {entry["vin"]: entry for entry in response.json()["results"]}
        assert list(results) == vins
        for vin in known:
            assert results[vin]["status"] == 200
            assert results[vin]["billed"] is True
            assert results[vin]["dynamic"]["vin"] == vin
        # Static only (no readings held): billed for the static data, the missing part said.
        assert results[MODEL_3_VIN]["billed"] is True
        assert results[MODEL_3_VIN]["static"]["vin"] == MODEL_3_VIN
        assert results[MODEL_3_VIN]["problem"]["type"].endswith("/no-data")
        assert results["5YJ3E1EB4LF000001"]["status"] == 422
        assert results["5YJ3E1EB4LF000001"]["problem"]["check"] == "check_digit"
        assert results["AAA3E1EB5LF000001"]["status"] == 404
        assert response.json()["billed_units"] == 6
        assert response.headers["CarPulse-Billed-Units"] == "6"
        assert response.headers["RateLimit-Remaining"] == "94"
        assert await billed(client, owner.by_key) == {"vehicle.batch": 6}

    @pytest.mark.parametrize(
        ("vins", "says"),
        [
            ([f"5YJ3E1EB5LF{n:06d}" for n in range(101)], "at most 100"),
            ([MODEL_3_VIN, MODEL_3_VIN], "listed twice"),
        ],
        ids=["too-many", "twice"],
    )
    async def test_a_batch_too_big_or_with_a_vin_twice_is_422_and_not_billed(
        self, app: FastAPI, client: httpx.AsyncClient, vins: list[str], says: str
    ) -> None:
        owner = await data_client(app, client)
        response = await client.post("/api/v1/vehicle/batch", json={"vins": vins}, headers=owner.by_key)
        assert response.status_code == 422
        assert says in response.json()["detail"]
        assert await billed(client, owner.by_key) == {}
