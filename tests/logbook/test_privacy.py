"""A driver's data through HTTP: exported whole, erased whole, and tracks thinned after the retention."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import gpxpy
import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Account, Car, Place, Trip, TripEvent, WebhookToken
from tests.car.flow import driver, webhook_token
from tests.trip.flow import HELSINKI_ROUTE, Phone, drive, driver_with_car, sample, trips_of

BASE = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)


async def count(db: AsyncSession, table: type) -> int:
    return int(await db.scalar(select(func.count()).select_from(table)) or 0)


class TestExport:
    async def test_the_zip_holds_account_cars_places_trips_and_every_fix(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers, car_id, phone = await driver_with_car(app, client)
        points = sample(HELSINKI_ROUTE, every_m=400)
        await phone.trip(drive(BASE, points))
        await client.post(
            "/api/v1/logbook/places", json={"name": "Home", "lat": 60.1692, "lon": 24.9313}, headers=headers
        )
        response = await client.get("/api/v1/logbook/privacy/export", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        names = set(archive.namelist())
        assert {
            "account.json",
            "cars.json",
            "places.json",
            "trips.json",
            "fixes.json",
            "trips.gpx",
            "webhook_tokens.json",
        } <= names
        assert json.loads(archive.read("account.json"))["email"] == "alice@example.com"
        assert json.loads(archive.read("cars.json"))[0]["id"] == car_id
        assert json.loads(archive.read("places.json"))[0]["name"] == "Home"
        [trip] = json.loads(archive.read("trips.json"))
        assert trip["start"]["place"]["name"] == "Home"
        assert len(json.loads(archive.read("fixes.json"))[0]["fixes"]) == len(points)
        assert len(gpxpy.parse(archive.read("trips.gpx").decode()).tracks[0].segments[0].points) == len(points)
        assert phone.token not in archive.read("webhook_tokens.json").decode()

    async def test_another_driver_exports_only_their_own(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        _, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=800)))
        bob = await driver(app, "bob@example.com")
        archive = zipfile.ZipFile(io.BytesIO((await client.get("/api/v1/logbook/privacy/export", headers=bob)).content))
        assert json.loads(archive.read("trips.json")) == []
        assert json.loads(archive.read("cars.json")) == []


class TestErase:
    async def test_erasing_removes_trips_tracks_places_tokens_and_the_account(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        await client.post(
            "/api/v1/logbook/places", json={"name": "Home", "lat": 60.1692, "lon": 24.9313}, headers=headers
        )
        erased = await client.delete("/api/v1/logbook/privacy/account", headers=headers)
        assert erased.status_code == 200, erased.text
        body = erased.json()
        assert (body["cars"], body["trips"], body["places"], body["webhook_tokens"], body["kept_locked_trips"]) == (
            1,
            1,
            1,
            1,
            0,
        )
        for table in (Trip, TripEvent, Place, WebhookToken, Car):
            assert await count(db, table) == 0, table
        assert (
            await db.scalar(select(func.count()).select_from(Account).where(Account.email == "alice@example.com")) == 0
        )
        assert (await client.get("/api/v1/logbook/cars", headers=headers)).status_code == 401
        assert (await phone.send("ping", drive(BASE, HELSINKI_ROUTE[:1]))).status_code == 401

    async def test_a_shared_car_passes_to_its_other_driver_with_their_trips(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        alice, car_id, alices_phone = await driver_with_car(app, client)
        await client.post(f"/api/v1/logbook/cars/{car_id}/drivers", json={"email": "bob@example.com"}, headers=alice)
        bob = await driver(app, "bob@example.com")
        bobs_phone = Phone(client, await webhook_token(client, bob, car_id))
        await alices_phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=800)))
        await bobs_phone.trip(drive(BASE + timedelta(hours=3), sample(HELSINKI_ROUTE, every_m=800)))
        erased = (await client.delete("/api/v1/logbook/privacy/account", headers=alice)).json()
        assert (erased["cars"], erased["cars_handed_over"], erased["trips"]) == (0, 1, 1)
        car = (await client.get(f"/api/v1/logbook/cars/{car_id}", headers=bob)).json()
        assert car["role"] == "owner"
        assert len(await trips_of(client, bob)) == 1


class TestRetention:
    async def test_old_tracks_keep_only_their_ends_and_their_figures(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        from carpulse.trip.tasks import thin_tracks

        headers, _, phone = await driver_with_car(app, client)
        old = datetime.now(UTC) - timedelta(days=800)
        await phone.trip(drive(old, sample(HELSINKI_ROUTE, every_m=400)))
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        before = await trips_of(client, headers)
        assert await thin_tracks(app.state.carpulse) == 1
        after = await trips_of(client, headers)
        recent, thinned = after
        assert (thinned["thinned"], recent["thinned"]) == (True, False)
        assert thinned["distance_km"] == before[1]["distance_km"]
        assert thinned["start"]["address"] == before[1]["start"]["address"]
        events = await db.scalar(
            select(func.count()).select_from(TripEvent).where(TripEvent.trip_id == uuid.UUID(thinned["id"]))
        )
        assert events == 2
        assert await thin_tracks(app.state.carpulse) == 0
