"""Many phones at once against an app whose requests and jobs commit for real: every acknowledged event is
stored once, and each car's trip holds exactly its own fixes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from carpulse.models import Trip, TripEvent
from tests.car.flow import add_car, driver, webhook_token
from tests.conftest import CLIENT_ADDRESS
from tests.trip.flow import HELSINKI_ROUTE, Phone, drive, sample

CARS = 6


@pytest.fixture
async def committed(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class TestManyPhonesAtOnce:
    async def test_every_acknowledged_ping_is_stored_once_in_its_cars_trip(
        self, committed_app: FastAPI, committed: httpx.AsyncClient
    ) -> None:
        headers = await driver(committed_app)
        phones = []
        for n in range(CARS):
            car = await add_car(committed, headers, name=f"Car {n}")
            phones.append(Phone(committed, await webhook_token(committed, headers, car["id"])))
        start = datetime.now(UTC) - timedelta(minutes=20)
        events = drive(start, sample(HELSINKI_ROUTE, every_m=100))

        async def phone_drives(phone: Phone) -> int:
            stored = 0
            first = await phone.send("start", events[0])
            stored += first.json()["stored"]
            # Each ping twice, concurrently: the retry of a phone that did not hear back.
            answers = await asyncio.gather(*(phone.send("ping", e) for e in events[1:-1] for _ in range(2)))
            assert {a.status_code for a in answers} == {202}
            stored += sum(a.json()["stored"] for a in answers)
            stored += (await phone.send("end", events[-1])).json()["stored"]
            return stored

        acknowledged = await asyncio.gather(*(phone_drives(phone) for phone in phones))
        await committed_app.state.carpulse.jobs.drain()
        state = committed_app.state.carpulse
        async with state.sessionmaker() as db:
            rows = await db.scalar(select(func.count()).select_from(TripEvent))
            trips = (await db.execute(select(Trip.car_id, Trip.fix_count, Trip.state))).all()
            pending = await db.scalar(
                select(func.count()).select_from(TripEvent).where(TripEvent.assembled_at.is_(None))
            )
        assert acknowledged == [len(events)] * CARS
        assert rows == len(events) * CARS
        assert pending == 0
        assert sorted((fixes, state.value) for _, fixes, state in trips) == [(len(events), "closed")] * CARS
        assert len({car for car, _, _ in trips}) == CARS


class TestCarGoneMeanwhile:
    async def test_a_token_still_trusted_for_a_deleted_car_gets_401_and_the_others_are_stored(
        self, committed_app: FastAPI, committed: httpx.AsyncClient
    ) -> None:
        from sqlalchemy import delete

        from carpulse.models import Car

        alice, bob = await driver(committed_app), await driver(committed_app, "bob@example.com")
        gone_car = await add_car(committed, alice)
        gone = Phone(committed, await webhook_token(committed, alice, gone_car["id"]))
        kept = Phone(committed, await webhook_token(committed, bob, (await add_car(committed, bob))["id"]))
        start = datetime.now(UTC) - timedelta(minutes=20)
        first, later = drive(start, HELSINKI_ROUTE[:2])
        assert (await gone.send("ping", first)).status_code == 202  # the token is now in this replica's cache
        # Deleted behind this replica's back (by another replica, or an operator): it still trusts the token.
        async with committed_app.state.carpulse.sessionmaker() as db:
            await db.execute(delete(Car).where(Car.id == uuid.UUID(gone_car["id"])))
            await db.commit()
        refused, stored = await asyncio.gather(gone.send("ping", later), kept.send("ping", later))
        assert refused.status_code == 401, refused.text
        assert refused.json()["type"].endswith("invalid-webhook-token")
        assert stored.status_code == 202, stored.text
        assert stored.json()["stored"] == 1
