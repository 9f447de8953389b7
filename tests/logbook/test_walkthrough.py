"""The Logbook as a driver first meets it, all through HTTP: sign in with Google, add a car, make the phone's
token, drive; a second driver signed in the other way sees none of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests.logbook.drivers import sign_in
from tests.logbook.test_google_sign_in import JSON, consent
from tests.trip.flow import BORDER_ROUTE, HELSINKI_ROUTE, Phone, drive, length_m, sample, trips_of


class TestWalkthrough:
    async def test_sign_in_car_token_drive_and_privacy_between_drivers(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        # alice on the web flow: initiate, Google's consent, our callback answering JSON.
        callback = await consent(client, "alice")
        tokens = (await client.get(callback, headers=JSON)).json()
        alice = {"Authorization": f"Bearer {tokens['access_token']}"}
        car = await client.post(
            "/api/v1/logbook/cars",
            json={"name": "Company Model 3", "brand": "Tesla", "plate": "ABC-123", "vin": "5YJ3E1EB5LF000001"},
            headers=alice,
        )
        assert car.status_code == 201, car.text
        car_id = car.json()["id"]
        made = await client.post(
            f"/api/v1/logbook/cars/{car_id}/webhook-tokens", json={"name": "iPhone"}, headers=alice
        )
        phone = Phone(client, made.json()["token"])
        home = await client.post(
            "/api/v1/logbook/places",
            json={"name": "Home", "kind": "home", "lat": HELSINKI_ROUTE[0][0], "lon": HELSINKI_ROUTE[0][1]},
            headers=alice,
        )
        assert home.status_code == 201

        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        await phone.trip(drive(start, sample(HELSINKI_ROUTE)))
        # The next drive loses its `end`: the recovery job closes it at its last fix.
        lost = drive(start + timedelta(minutes=40), sample(BORDER_ROUTE, every_m=300))
        await phone.send("start", lost[0])
        await phone.send("ping", lost[1:])
        from carpulse.trip.tasks import recover

        await recover(app.state.carpulse)
        recovered, first = await trips_of(client, alice)
        assert first["distance_km"] == pytest.approx(length_m(HELSINKI_ROUTE) / 1000, rel=0.01)
        assert first["start"]["place"]["name"] == "Home"
        assert (first["start"]["time_zone"], recovered["end"]["time_zone"]) == ("Europe/Helsinki", "Europe/Stockholm")
        assert recovered["recovered"] is True

        # bob on the ID-token path (an iPhone app): none of alice's ids are his.
        bob = await sign_in(client, "bob")
        for path in (
            f"/api/v1/logbook/cars/{car_id}",
            f"/api/v1/logbook/trips/{first['id']}",
            f"/api/v1/logbook/trips/{first['id']}.gpx",
            f"/api/v1/logbook/places/{home.json()['id']}",
        ):
            method = "PATCH" if "places" in path else "GET"
            response = await client.request(method, path, json={} if method == "PATCH" else None, headers=bob)
            assert response.status_code == 404, path
        assert await trips_of(client, bob) == []
