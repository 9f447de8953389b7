"""Reading and fixing trips through HTTP: pages, formats, totals, merge, split, delete, and other drivers."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import gpxpy
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import TripChange
from tests.car.flow import driver
from tests.trip.flow import HELSINKI_ROUTE, Phone, drive, driver_with_car, sample, trips_of

BASE = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)


async def two_trips(phone: Phone, base: datetime = BASE, gap: timedelta = timedelta(minutes=30)) -> None:
    await phone.trip(drive(base, sample(HELSINKI_ROUTE, every_m=300)))
    await phone.trip(drive(base + gap, sample(list(reversed(HELSINKI_ROUTE)), every_m=300)))


class TestReading:
    async def test_pages_follow_the_cursor_newest_first(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        for day in range(5):
            await phone.trip(drive(BASE + timedelta(days=day), sample(HELSINKI_ROUTE, every_m=1000)))
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/logbook/trips", params=params, headers=headers)).json()
            seen += [t["start"]["at"] for t in page["trips"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 5
        assert seen == sorted(seen, reverse=True)
        window = await trips_of(
            client,
            headers,
            **{"from": (BASE + timedelta(days=1)).isoformat(), "to": (BASE + timedelta(days=3)).isoformat()},
        )
        assert len(window) == 2
        bad = await client.get("/api/v1/logbook/trips", params={"cursor": "not-ours"}, headers=headers)
        assert bad.status_code == 422

    async def test_geojson_and_gpx(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        points = sample(HELSINKI_ROUTE)
        await phone.trip(drive(BASE, points))
        [trip] = await trips_of(client, headers)
        geojson = await client.get(f"/api/v1/logbook/trips/{trip['id']}.geojson", headers=headers)
        assert geojson.status_code == 200
        assert geojson.headers["content-type"].startswith("application/geo+json")
        line, start, end = geojson.json()["features"]
        assert line["geometry"]["type"] == "LineString"
        assert 2 <= len(line["geometry"]["coordinates"]) <= len(points)
        assert start["geometry"]["coordinates"] == pytest.approx([HELSINKI_ROUTE[0][1], HELSINKI_ROUTE[0][0]], abs=1e-4)
        assert end["properties"]["role"] == "end"
        gpx = await client.get(f"/api/v1/logbook/trips/{trip['id']}.gpx", headers=headers)
        assert gpx.headers["content-type"].startswith("application/gpx+xml")
        parsed = gpxpy.parse(io.StringIO(gpx.text))
        fixes = parsed.tracks[0].segments[0].points
        assert len(fixes) == len(points)
        assert fixes[0].time == BASE
        assert fixes[-1].time == BASE + timedelta(seconds=10 * (len(points) - 1))

    async def test_totals_per_day_month_and_car(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, car_id, phone = await driver_with_car(app, client)
        await two_trips(phone)
        await phone.trip(drive(BASE + timedelta(days=1), sample(HELSINKI_ROUTE, every_m=300)))
        trips = await trips_of(client, headers)
        by_day = (await client.get("/api/v1/logbook/trips/totals", params={"by": "day"}, headers=headers)).json()
        assert [(r["period"], r["trips"]) for r in by_day["rows"]] == [("2026-11-02", 2), ("2026-11-03", 1)]
        by_month = (await client.get("/api/v1/logbook/trips/totals", headers=headers)).json()
        assert by_month["rows"][0]["distance_km"] == pytest.approx(sum(t["distance_km"] for t in trips), abs=0.01)
        by_car = (await client.get("/api/v1/logbook/trips/totals", params={"by": "car"}, headers=headers)).json()
        assert by_car["rows"][0]["car_id"] == car_id
        assert (
            await client.get("/api/v1/logbook/trips/totals", params={"by": "year"}, headers=headers)
        ).status_code == 422

    async def test_a_day_is_the_local_day_where_the_trip_started(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        # 23:30 UTC on 2 November is 01:30 on 3 November in Helsinki (EET, UTC+2).
        await phone.trip(drive(datetime(2026, 11, 2, 23, 30, tzinfo=UTC), sample(HELSINKI_ROUTE, every_m=500)))
        by_day = (await client.get("/api/v1/logbook/trips/totals", params={"by": "day"}, headers=headers)).json()
        assert [r["period"] for r in by_day["rows"]] == ["2026-11-03"]


class TestOtherDrivers:
    async def test_every_trip_id_is_404_to_another_driver(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await two_trips(phone)
        first, second = await trips_of(client, headers)
        bob = await driver(app, "bob@example.com")
        for method, path, body in [
            ("GET", f"/api/v1/logbook/trips/{first['id']}", None),
            ("GET", f"/api/v1/logbook/trips/{first['id']}.geojson", None),
            ("GET", f"/api/v1/logbook/trips/{first['id']}.gpx", None),
            ("POST", f"/api/v1/logbook/trips/{first['id']}/merge", {"with_trip": second["id"]}),
            ("POST", f"/api/v1/logbook/trips/{first['id']}/split", {"at": first["start"]["at"]}),
            ("DELETE", f"/api/v1/logbook/trips/{first['id']}", None),
        ]:
            response = await client.request(method, path, json=body, headers=bob)
            assert response.status_code == 404, (method, path, response.text)
        assert await trips_of(client, bob) == []
        assert (await client.get("/api/v1/logbook/trips/totals", headers=bob)).json()["rows"] == []
        assert len(await trips_of(client, headers)) == 2

    async def test_a_shared_car_records_each_driver_and_its_owner_reads_all(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        from tests.car.flow import webhook_token

        alice, car_id, alices_phone = await driver_with_car(app, client)
        await client.post(f"/api/v1/logbook/cars/{car_id}/drivers", json={"email": "bob@example.com"}, headers=alice)
        bob = await driver(app, "bob@example.com")
        bobs_phone = Phone(client, await webhook_token(client, bob, car_id))
        await alices_phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=500)))
        await bobs_phone.trip(drive(BASE + timedelta(hours=2), sample(HELSINKI_ROUTE, every_m=500)))
        assert len(await trips_of(client, alice)) == 2  # the owner's log holds every trip of the car
        [bobs] = await trips_of(client, bob)
        assert bobs["driver_id"] != (await trips_of(client, alice))[1]["driver_id"]


class TestFixing:
    async def test_merge_folds_the_later_trip_into_the_earlier_and_records_it(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await two_trips(phone)
        second, first = await trips_of(client, headers)
        merged = await client.post(
            f"/api/v1/logbook/trips/{second['id']}/merge", json={"with_trip": first["id"]}, headers=headers
        )
        assert merged.status_code == 200, merged.text
        body = merged.json()
        assert body["id"] == first["id"]
        assert body["fix_count"] == first["fix_count"] + second["fix_count"]
        assert (body["start"]["at"], body["end"]["at"]) == (first["start"]["at"], second["end"]["at"])
        assert [t["id"] for t in await trips_of(client, headers)] == [first["id"]]
        assert (await client.get(f"/api/v1/logbook/trips/{second['id']}", headers=headers)).status_code == 404
        changes = (await db.execute(select(TripChange).order_by(TripChange.trip_id))).scalars().all()
        assert sorted(c.kind.value for c in changes) == ["merged", "merged"]
        assert {str(c.trip_id) for c in changes} == {first["id"], second["id"]}

    async def test_merging_is_for_neighbours_of_one_car(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        for hour in range(3):
            await phone.trip(drive(BASE + timedelta(hours=hour), sample(HELSINKI_ROUTE, every_m=1000)))
        third, _, first = await trips_of(client, headers)
        apart = await client.post(
            f"/api/v1/logbook/trips/{first['id']}/merge", json={"with_trip": third["id"]}, headers=headers
        )
        assert apart.status_code == 409
        itself = await client.post(
            f"/api/v1/logbook/trips/{first['id']}/merge", json={"with_trip": first["id"]}, headers=headers
        )
        assert itself.status_code == 409

    async def test_split_makes_two_trips_that_add_up(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        points = sample(HELSINKI_ROUTE)
        await phone.trip(drive(BASE, points))
        [trip] = await trips_of(client, headers)
        at = BASE + timedelta(seconds=10 * (len(points) // 2))
        split = await client.post(
            f"/api/v1/logbook/trips/{trip['id']}/split", json={"at": at.isoformat()}, headers=headers
        )
        assert split.status_code == 200, split.text
        first, second = split.json()["trips"]
        assert first["id"] == trip["id"]
        assert first["fix_count"] + second["fix_count"] == trip["fix_count"]
        assert datetime.fromisoformat(second["start"]["at"]) == at
        assert (first["ended_by"], second["ended_by"]) == ("split", "end")
        assert first["distance_km"] + second["distance_km"] == pytest.approx(trip["distance_km"], abs=0.2)
        outside = await client.post(
            f"/api/v1/logbook/trips/{trip['id']}/split",
            json={"at": (BASE - timedelta(hours=1)).isoformat()},
            headers=headers,
        )
        assert outside.status_code == 422
        assert len((await db.execute(select(TripChange))).scalars().all()) == 2

    async def test_delete_hides_the_trip_and_keeps_it_in_the_history(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=500)))
        [trip] = await trips_of(client, headers)
        assert (await client.delete(f"/api/v1/logbook/trips/{trip['id']}", headers=headers)).status_code == 204
        assert await trips_of(client, headers) == []
        [change] = (await db.execute(select(TripChange))).scalars().all()
        assert change.kind.value == "deleted"
        assert change.before is not None
        assert change.before["distance_m"] == pytest.approx(trip["distance_km"] * 1000, abs=1)
        # A late duplicate of its events does not bring it back as a new trip.
        await phone.send("ping", drive(BASE, sample(HELSINKI_ROUTE, every_m=500))[2:4])
        assert await trips_of(client, headers) == []

    async def test_an_open_trip_cannot_be_merged_or_split(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(datetime.now(UTC) - timedelta(minutes=2), sample(HELSINKI_ROUTE, every_m=1000))
        await phone.send("start", events[0])
        await phone.send("ping", events[1:])
        [trip] = await trips_of(client, headers)
        split = await client.post(
            f"/api/v1/logbook/trips/{trip['id']}/split", json={"at": events[2]["timestamp"]}, headers=headers
        )
        assert split.status_code == 409


class TestPurpose:
    async def test_the_purpose_changes_and_is_recorded_as_an_edit(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=500)))
        [trip] = await trips_of(client, headers)
        assert trip["purpose"] == "unclassified"

        response = await client.patch(
            f"/api/v1/logbook/trips/{trip['id']}", json={"purpose": "business"}, headers=headers
        )

        assert response.status_code == 200, response.text
        assert response.json()["purpose"] == "business"
        [again] = await trips_of(client, headers)
        assert again["purpose"] == "business"
        edits = (await db.scalars(select(TripChange).where(TripChange.trip_id == uuid.UUID(again["id"])))).all()
        assert [(e.kind.value, e.before["purpose"], e.after["purpose"]) for e in edits if e.before and e.after] == [
            ("edited", "unclassified", "business")
        ]

    async def test_an_unknown_purpose_or_field_is_refused(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=500)))
        [trip] = await trips_of(client, headers)

        for body in ({"purpose": "holiday"}, {"note": "x"}):
            response = await client.patch(f"/api/v1/logbook/trips/{trip['id']}", json=body, headers=headers)
            assert response.status_code == 422, body
        assert (await trips_of(client, headers))[0]["purpose"] == "unclassified"

    async def test_another_drivers_trip_is_not_found(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=500)))
        [trip] = await trips_of(client, headers)
        bob = await driver(app, "bob@example.com")

        response = await client.patch(f"/api/v1/logbook/trips/{trip['id']}", json={"purpose": "private"}, headers=bob)

        assert response.status_code == 404
        assert (await trips_of(client, headers))[0]["purpose"] == "unclassified"
