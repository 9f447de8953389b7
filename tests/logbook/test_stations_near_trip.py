"""Charging stations near where a trip ended, through HTTP, from the Open Charge Map fake."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from carpulse.geo.track import geodesic_m
from tests.car.flow import driver
from tests.trip.flow import HELSINKI_ROUTE, drive, driver_with_car, sample, trips_of

BASE = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)


class TestStationsNearATrip:
    async def test_the_stations_near_the_end_nearest_first_with_attribution(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        [trip] = await trips_of(client, headers)
        response = await client.get(
            f"/api/v1/logbook/trips/{trip['id']}/charging-stations",
            params={"radius_km": 5, "limit": 3},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["attribution"]
        stations = body["stations"]
        assert 1 <= len(stations) <= 3
        distances = [s["distance_km"] for s in stations]
        assert distances == sorted(distances)
        end = HELSINKI_ROUTE[-1]
        assert geodesic_m(end[0], end[1], stations[0]["lat"], stations[0]["lon"]) / 1000 <= 5

    async def test_another_drivers_trip_is_404_and_a_dead_ocm_with_nothing_kept_is_503(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        [trip] = await trips_of(client, headers)
        bob = await driver(app, "bob@example.com")
        path = f"/api/v1/logbook/trips/{trip['id']}/charging-stations"
        assert (await client.get(path, headers=bob)).status_code == 404
        app.state.carpulse.sandbox.open_charge_map.set_fault(down=True)
        down = await client.get(path, headers=headers)
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert (await client.get(path, params={"radius_km": 500}, headers=headers)).status_code == 422
