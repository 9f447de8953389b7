"""Phone webhooks through HTTP: who may send, what is stored, and trips whatever order the events come in."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import TripEvent
from tests.trip.flow import BORDER_ROUTE, HELSINKI_ROUTE, Phone, drive, driver_with_car, length_m, sample, trips_of


def recent(minutes: float = 30) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes)


async def stored_events(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(TripEvent)) or 0)


def figures(trip: dict[str, Any]) -> tuple[Any, ...]:
    return (
        trip["state"],
        trip["ended_by"],
        trip["start"]["at"],
        trip["end"]["at"],
        trip["fix_count"],
        round(trip["distance_km"], 3),
        trip["start"]["address"]["city"] if trip["start"]["address"] else None,
    )


class TestWhoMaySend:
    async def test_unknown_missing_and_revoked_tokens_store_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        headers, car_id, phone = await driver_with_car(app, client)
        event = drive(recent(), HELSINKI_ROUTE[:1])[0]
        assert (await client.post("/webhook/start", json=event)).status_code == 401
        forged = Phone(client, "cpw_" + "A" * 32)
        response = await forged.send("start", event)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        tokens = await client.get(f"/api/v1/logbook/cars/{car_id}/webhook-tokens", headers=headers)
        token_id = tokens.json()["tokens"][0]["id"]
        revoked = await client.delete(f"/api/v1/logbook/cars/{car_id}/webhook-tokens/{token_id}", headers=headers)
        assert revoked.status_code == 200
        for in_path in (False, True):
            assert (await phone.send("start", event, in_path=in_path)).status_code == 401
        # A token is checked before the body: a revoked one learns nothing about what it sent.
        assert (await phone.send("ping", {"lat": 999})).status_code == 401
        assert await stored_events(db) == 0

    async def test_the_token_may_be_the_last_path_segment(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(), sample(HELSINKI_ROUTE))
        for kind, body in [("start", events[0]), ("ping", events[1]), ("end", events[2])]:
            response = await phone.send(kind, body, in_path=True)
            assert response.status_code == 202, response.text
            assert response.json() == {"status": "accepted", "received": 1, "stored": 1}
        also = await client.post(
            "/api/v1/logbook/webhook/ping", json=events[3], headers={"Authorization": f"Bearer {phone.token}"}
        )
        assert also.status_code == 202
        assert len(await trips_of(client, headers)) == 2  # the last ping came after the end: a new trip

    @pytest.mark.parametrize(
        "body",
        [
            {"lat": 91, "lon": 24.9, "timestamp": "2026-01-01T10:00:00Z"},
            {"lat": 60.1, "lon": 181, "timestamp": "2026-01-01T10:00:00Z"},
            {"lat": 60.1, "lon": 24.9},
            {"lat": 60.1, "lon": 24.9, "timestamp": "2026-01-01T10:00:00"},  # no offset
            {"lat": 60.1, "lon": 24.9, "timestamp": "yesterday"},
            {"lat": "north", "lon": 24.9, "timestamp": "2026-01-01T10:00:00Z"},
            [],
        ],
    )
    async def test_bad_events_get_a_problem_and_store_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, body: Any
    ) -> None:
        _, _, phone = await driver_with_car(app, client)
        response = await phone.send("ping", body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert await stored_events(db) == 0

    async def test_a_phone_clock_far_ahead_and_an_oversized_backlog_are_refused(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        _, _, phone = await driver_with_car(app, client)
        ahead = drive(datetime.now(UTC) + timedelta(hours=1), HELSINKI_ROUTE[:1])
        assert (await phone.send("ping", ahead)).status_code == 422
        backlog = drive(recent(), sample(HELSINKI_ROUTE, every_m=5))
        assert len(backlog) > 500
        assert (await phone.send("ping", backlog)).status_code == 413
        assert await stored_events(db) == 0

    async def test_an_unknown_event_kind_is_404_or_422(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        _, _, phone = await driver_with_car(app, client)
        response = await phone.send("stop", drive(recent(), HELSINKI_ROUTE[:1])[0])
        assert response.status_code == 422


class TestTrips:
    async def test_start_pings_end_make_one_measured_labelled_trip(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers, car_id, phone = await driver_with_car(app, client)
        points = sample(HELSINKI_ROUTE)
        await phone.trip(drive(recent(), points, battery_level=80))
        [trip] = await trips_of(client, headers)
        assert (trip["state"], trip["ended_by"], trip["recovered"], trip["car_id"]) == ("closed", "end", False, car_id)
        assert trip["distance_source"] == "gps"
        assert trip["distance_km"] == pytest.approx(length_m(HELSINKI_ROUTE) / 1000, rel=0.01)
        assert trip["fix_count"] == len(points)
        assert trip["duration_s"] == (len(points) - 1) * 10
        for end in ("start", "end"):
            assert trip[end]["time_zone"] == "Europe/Helsinki"
            # The offline default names the district (Kamppi, Länsi-Pasila): city level from a bundled data set.
            assert trip[end]["address"]["country_code"] == "FI"
            assert trip[end]["address"]["city"]
            assert trip[end]["local_time"].endswith("+02:00") or trip[end]["local_time"].endswith("+03:00")
        assert trip["purpose"] == "unclassified"
        assert trip["start"]["battery_pct"] == 80

    async def test_the_same_events_twice_change_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(), sample(HELSINKI_ROUTE))
        await phone.trip(events)
        first = await trips_of(client, headers)
        count = await stored_events(db)
        for kind, body in [("start", events[0]), ("ping", events[1:-1]), ("end", events[-1])]:
            response = await phone.send(kind, body)
            assert response.json()["stored"] == 0
        assert await stored_events(db) == count
        assert await trips_of(client, headers) == first

    async def test_an_event_id_dedupes_even_when_the_payload_differs(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        _, _, phone = await driver_with_car(app, client)
        event = {**drive(recent(), HELSINKI_ROUTE[:1])[0], "event_id": "shortcut-42"}
        assert (await phone.send("ping", event)).json()["stored"] == 1
        assert (await phone.send("ping", {**event, "lat": 60.2})).json()["stored"] == 0

    @pytest.mark.parametrize("seed", [1, 2, 3])
    async def test_any_order_of_arrival_gives_the_same_trips(
        self, app: FastAPI, client: httpx.AsyncClient, seed: int
    ) -> None:
        """Two drives with a stop between them, sent in order to one car and shuffled (in small batches) to another."""
        base = recent(90)
        first = drive(base, sample(HELSINKI_ROUTE, every_m=300))
        second = drive(base + timedelta(minutes=40), sample(list(reversed(HELSINKI_ROUTE)), every_m=300))
        kinds = lambda events: [("start", events[0]), *(("ping", e) for e in events[1:-1]), ("end", events[-1])]  # noqa: E731
        sends = kinds(first) + kinds(second)
        headers, _, in_order = await driver_with_car(app, client)
        for kind, body in sends:
            await in_order.send(kind, body)
        expected = [figures(t) for t in await trips_of(client, headers)]
        assert [f[:2] for f in expected] == [("closed", "end"), ("closed", "end")]

        other, _, shuffled = await driver_with_car(app, client, "bob@example.com")
        order = sends[:]
        random.Random(seed).shuffle(order)
        for kind, body in order:
            await shuffled.send(kind, body)
        assert [figures(t) for t in await trips_of(client, other)] == expected

    async def test_pings_without_a_start_open_a_trip_and_a_late_start_joins_it(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(10), sample(HELSINKI_ROUTE, every_m=400))
        for event in events[1:4]:
            await phone.send("ping", event)
        active = await client.get("/api/v1/logbook/trips/active", headers=headers)
        assert active.json()["active"] is True
        assert datetime.fromisoformat(active.json()["trip"]["start"]["at"]) == datetime.fromisoformat(
            events[1]["timestamp"]
        )
        await phone.send("start", events[0])
        [trip] = await trips_of(client, headers)
        assert trip["state"] == "open"
        assert datetime.fromisoformat(trip["start"]["at"]) == datetime.fromisoformat(events[0]["timestamp"])
        assert trip["fix_count"] == 4

    async def test_a_start_while_a_trip_is_open_closes_it_at_its_last_ping(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(20), sample(HELSINKI_ROUTE, every_m=400))
        await phone.send("start", events[0])
        await phone.send("ping", events[1:4])
        later = drive(recent(5), sample(list(reversed(HELSINKI_ROUTE)), every_m=800))
        await phone.send("start", later[0])
        newer, older = await trips_of(client, headers)
        assert (older["state"], older["ended_by"]) == ("closed", "next_start")
        assert datetime.fromisoformat(older["end"]["at"]) == datetime.fromisoformat(events[3]["timestamp"])
        assert newer["state"] == "open"

    async def test_an_end_with_no_open_trip_ends_the_recovered_one(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(60), sample(HELSINKI_ROUTE, every_m=400))
        await phone.send("start", events[0])
        await phone.send("ping", events[1:-1])
        recovered = await client.post(
            "/api/v1/admin/logbook/recover-trips", headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert recovered.status_code == 200, recovered.text
        [trip] = await trips_of(client, headers)
        assert (trip["state"], trip["ended_by"], trip["recovered"]) == ("recovered", "recovered", True)
        assert datetime.fromisoformat(trip["end"]["at"]) == datetime.fromisoformat(events[-2]["timestamp"])
        assert trip["end"]["address"]["country_code"] == "FI"
        # The end arrives at last (the phone was offline): it is matched to the trip it ends.
        await phone.send("end", events[-1])
        [trip] = await trips_of(client, headers)
        assert (trip["state"], trip["ended_by"]) == ("closed", "end")
        assert datetime.fromisoformat(trip["end"]["at"]) == datetime.fromisoformat(events[-1]["timestamp"])

    async def test_the_worker_recovers_a_lost_end(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        from carpulse.trip.tasks import sweep_recover

        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(40), sample(HELSINKI_ROUTE, every_m=400))
        await phone.send("start", events[0])
        await phone.send("ping", events[1:])
        await sweep_recover(app.state.carpulse)
        [trip] = await trips_of(client, headers)
        assert trip["state"] == "recovered"
        assert (await client.get("/api/v1/logbook/trips/active", headers=headers)).json()["active"] is False

    async def test_a_recent_trip_is_not_recovered(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(3), sample(HELSINKI_ROUTE, every_m=800))
        await phone.send("start", events[0])
        await phone.send("ping", events[1:])
        answer = await client.post(
            "/api/v1/admin/logbook/recover-trips", headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert answer.json() == {"recovered": []}
        assert (await trips_of(client, headers))[0]["state"] == "open"

    async def test_only_an_admin_runs_recovery(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, _ = await driver_with_car(app, client)
        assert (await client.post("/api/v1/admin/logbook/recover-trips", headers=headers)).status_code == 403

    async def test_odometer_readings_decide_the_distance(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(), sample(HELSINKI_ROUTE))
        events[0]["odometer_km"], events[-1]["odometer_km"] = 42_000.0, 42_004.2
        await phone.trip(events)
        [trip] = await trips_of(client, headers)
        assert (trip["distance_source"], trip["distance_km"]) == ("odometer", pytest.approx(4.2))
        assert (trip["start"]["odometer_km"], trip["end"]["odometer_km"]) == (42_000.0, 42_004.2)

    async def test_a_start_and_an_end_alone_are_routed_and_say_so(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(), [HELSINKI_ROUTE[0], HELSINKI_ROUTE[-1]], every_s=600)
        await phone.trip(events)
        [trip] = await trips_of(client, headers)
        assert trip["distance_source"] == "route"
        assert trip["distance_estimated"] is True  # the offline router estimates
        assert trip["distance_km"] > length_m([HELSINKI_ROUTE[0], HELSINKI_ROUTE[-1]]) / 1000

    async def test_each_end_carries_its_own_time_zone(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(recent(), sample(BORDER_ROUTE, every_m=200)))
        [trip] = await trips_of(client, headers)
        assert (trip["start"]["time_zone"], trip["end"]["time_zone"]) == ("Europe/Helsinki", "Europe/Stockholm")
        assert (trip["start"]["address"]["country_code"], trip["end"]["address"]["country_code"]) == ("FI", "SE")
        start, end = (datetime.fromisoformat(trip[e]["local_time"]) for e in ("start", "end"))
        assert start.utcoffset() - end.utcoffset() == timedelta(hours=1)


class TestLogs:
    async def test_coordinates_never_reach_the_logs(
        self, app: FastAPI, client: httpx.AsyncClient, log_lines: io.StringIO
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(recent(), sample(HELSINKI_ROUTE, every_m=500)))
        [trip] = await trips_of(client, headers)
        await client.get(f"/api/v1/logbook/trips/{trip['id']}/charging-stations", headers=headers)
        await client.get("/api/v1/charging-stations", params={"lat": 60.16921, "lon": 24.93131}, headers=headers)
        logged = log_lines.getvalue()
        assert "http.request_completed" in logged  # the log was captured
        for lat, lon in HELSINKI_ROUTE:
            assert f"{lat:.3f}" not in logged
            assert f"{lon:.3f}" not in logged
        assert phone.token not in logged


class TestLostJobs:
    async def test_the_sweep_places_events_whose_job_was_lost(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        from sqlalchemy import delete, update

        from carpulse.models import Trip
        from carpulse.trip.tasks import requeue_pending

        headers, _, phone = await driver_with_car(app, client)
        await phone.trip(drive(recent(), sample(HELSINKI_ROUTE, every_m=300)))
        expected = [figures(t) for t in await trips_of(client, headers)]
        # As if the worker died before its transaction committed: the events are stored, nothing placed them.
        await db.execute(update(TripEvent).values(trip_id=None, assembled_at=None))
        await db.execute(delete(Trip))
        await db.commit()
        assert await trips_of(client, headers) == []
        assert await requeue_pending(app.state.carpulse, older_than_seconds=0) == 1
        await app.state.carpulse.jobs.drain()
        assert [figures(t) for t in await trips_of(client, headers)] == expected


class TestDebouncedAssembly:
    """With the production default, pings of a busy car queue its assembly at most twice per window."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"logbook": {"assembly_debounce_seconds": 0.3}}

    async def test_every_event_is_placed_by_the_end_of_the_window(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        import asyncio

        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(), sample(HELSINKI_ROUTE, every_m=300))
        await phone.trip(events)
        await asyncio.sleep(0.6)  # the window's closing message
        await app.state.carpulse.jobs.drain()
        [trip] = await trips_of(client, headers)
        assert (trip["state"], trip["fix_count"]) == ("closed", len(events))


class TestOpenTripMeasuring:
    async def test_an_open_trip_counts_every_fix_but_is_measured_at_most_every_few_seconds(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers, _, phone = await driver_with_car(app, client)
        events = drive(recent(5), sample(HELSINKI_ROUTE, every_m=300))
        await phone.send("start", events[0])
        await phone.send("ping", events[1])  # measured: two fixes
        first = (await client.get("/api/v1/logbook/trips/active", headers=headers)).json()["trip"]
        for event in events[2:-1]:
            await phone.send("ping", event)
        active = (await client.get("/api/v1/logbook/trips/active", headers=headers)).json()["trip"]
        # Within `open_measure_seconds` (10 s) of the last measure: the fixes are counted, the track not measured.
        assert active["fix_count"] == len(events) - 1
        assert active["distance_km"] == first["distance_km"]
        await phone.send("end", events[-1])
        [closed] = await trips_of(client, headers)
        assert closed["distance_km"] == pytest.approx(length_m(HELSINKI_ROUTE) / 1000, rel=0.02)
