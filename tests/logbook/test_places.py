"""Known places through HTTP: a trip's ends carry the nearest place's name, and changing a place re-labels trips."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.config import Settings
from tests.car.flow import driver
from tests.trip.flow import HELSINKI_ROUTE, drive, driver_with_car, sample, trips_of

BASE = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
KAMPPI, PASILA = HELSINKI_ROUTE[0], HELSINKI_ROUTE[-1]


def labels(trip: dict[str, Any]) -> tuple[str | None, str | None]:
    return tuple(trip[end]["place"]["name"] if trip[end]["place"] else None for end in ("start", "end"))  # type: ignore[return-value]


class TestPlaces:
    async def test_a_new_place_labels_past_trips_and_new_ones(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        assert labels((await trips_of(client, headers))[0]) == (None, None)
        home = await client.post(
            "/api/v1/logbook/places",
            json={"name": "Home", "kind": "home", "lat": KAMPPI[0], "lon": KAMPPI[1]},
            headers=headers,
        )
        assert home.status_code == 201, home.text
        assert (home.json()["relabelled_trips"], home.json()["radius_m"]) == (1, 150)
        work = await client.post(
            "/api/v1/logbook/places",
            json={"name": "Pasila office", "kind": "work", "lat": PASILA[0], "lon": PASILA[1], "radius_m": 300},
            headers=headers,
        )
        assert work.json()["relabelled_trips"] == 1
        assert labels((await trips_of(client, headers))[0]) == ("Home", "Pasila office")
        await phone.trip(drive(BASE.replace(hour=17), sample(list(reversed(HELSINKI_ROUTE)), every_m=400)))
        newest = (await trips_of(client, headers))[0]
        assert labels(newest) == ("Pasila office", "Home")
        assert newest["start"]["place"]["kind"] == "work"

    async def test_moving_or_deleting_a_place_relabels(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        place = (
            await client.post(
                "/api/v1/logbook/places", json={"name": "Gym", "lat": KAMPPI[0], "lon": KAMPPI[1]}, headers=headers
            )
        ).json()
        moved = await client.patch(
            f"/api/v1/logbook/places/{place['id']}", json={"lat": PASILA[0], "lon": PASILA[1]}, headers=headers
        )
        assert moved.json()["relabelled_trips"] == 1
        assert labels((await trips_of(client, headers))[0]) == (None, "Gym")
        assert (await client.delete(f"/api/v1/logbook/places/{place['id']}", headers=headers)).status_code == 204
        assert labels((await trips_of(client, headers))[0]) == (None, None)

    async def test_the_nearest_place_wins(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        for name, offset in (("Far", 0.0012), ("Near", 0.0003)):
            await client.post(
                "/api/v1/logbook/places",
                json={"name": name, "lat": KAMPPI[0] + offset, "lon": KAMPPI[1], "radius_m": 500},
                headers=headers,
            )
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        assert labels((await trips_of(client, headers))[0])[0] == "Near"

    async def test_places_are_private_and_checked(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        alice = await driver(app)
        place = (
            await client.post("/api/v1/logbook/places", json={"name": "Home", "lat": 60.1, "lon": 24.9}, headers=alice)
        ).json()
        bob = await driver(app, "bob@example.com")
        assert (
            await client.patch(f"/api/v1/logbook/places/{place['id']}", json={"name": "x"}, headers=bob)
        ).status_code == 404
        assert (await client.delete(f"/api/v1/logbook/places/{place['id']}", headers=bob)).status_code == 404
        assert (await client.get("/api/v1/logbook/places", headers=bob)).json()["places"] == []
        for bad in (
            {"name": "x", "lat": 91, "lon": 0},
            {"name": "x", "lat": 0, "lon": 0, "radius_m": 1},
            {"name": "x", "lat": 0, "lon": 0, "kind": "pub"},
        ):
            assert (await client.post("/api/v1/logbook/places", json=bad, headers=alice)).status_code == 422


class TestConfiguredPlaces:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "logbook": {"home_lat": KAMPPI[0], "home_lon": KAMPPI[1], "office_lat": PASILA[0], "office_lon": PASILA[1]}
        }

    async def test_the_seed_home_and_office_label_every_driver_trips(
        self, app: FastAPI, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        listed = (await client.get("/api/v1/logbook/places", headers=headers)).json()["places"]
        assert [(p["name"], p["source"], p["id"]) for p in listed] == [
            ("Home", "settings", None),
            ("Office", "settings", None),
        ]
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        assert labels((await trips_of(client, headers))[0]) == ("Home", "Office")
