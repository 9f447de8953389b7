"""The Logbook's pages over HTTP: Google sign-in, trips by day and month, a trip, cars and webhook tokens,
places, charging stations and privacy; another driver's ids answer 404 pages, bad input names the field."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Account, Trip
from tests.car.flow import driver
from tests.trip.flow import HELSINKI_ROUTE, Phone, drive, sample
from tests.web.pages import HTML, csrf_of, get_page, post_form

BASE = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
DAY = "2026-11-02"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"logbook": {"assembly_debounce_seconds": 0}}


@pytest.fixture
def client(draining_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Trips are assembled by jobs queued with each stored event: wait for them after every response."""
    return draining_client


def as_driver(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """The browser's page session holds the driver's access token (as Google sign-in leaves it)."""
    client.cookies.set("cp_session", headers["Authorization"].removeprefix("Bearer "))


async def signed_in(app: FastAPI, client: httpx.AsyncClient, email: str = "alice@example.com") -> dict[str, str]:
    headers = await driver(app, email)
    as_driver(client, headers)
    return headers


async def add_car(client: httpx.AsyncClient, **fields: str) -> str:
    response = await post_form(client, "/logbook/cars", {"name": "Work car", **fields})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/logbook/cars/([0-9a-f-]{36})\?added=1", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


async def new_token(client: httpx.AsyncClient, car_id: str) -> tuple[httpx.Response, str]:
    response = await post_form(
        client, f"/logbook/cars/{car_id}/tokens", {"name": "My iPhone"}, from_page=f"/logbook/cars/{car_id}"
    )
    assert response.status_code == 201, response.text
    match = re.search(r'<code id="webhook-token">(cpw_[0-9A-Za-z]+)</code>', response.text)
    assert match
    return response, match.group(1)


async def drive_a_trip(app: FastAPI, client: httpx.AsyncClient) -> tuple[str, str]:
    """Alice signed in, a car added on its page, a token made there, a trip sent by the phone: (car, trip)."""
    await signed_in(app, client)
    car_id = await add_car(client)
    _, token = await new_token(client, car_id)
    await Phone(client, token).trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=300)))
    day = await get_page(client, f"/logbook?day={DAY}")
    trip_ids = re.findall(r'href="/logbook/trips/([0-9a-f-]{36})"', day.text)
    assert len(trip_ids) == 1, day.text
    return car_id, trip_ids[0]


class TestGoogleSignIn:
    async def consent(self, client: httpx.AsyncClient, user: str) -> httpx.Response:
        page = await get_page(client, "/logbook/sign-in?next=/logbook/cars")
        assert page.status_code == 200
        assert "Sign in with Google" in page.text
        start = await post_form(client, "/logbook/sign-in", {"next": "/logbook/cars"})
        assert start.status_code == 303
        at_google = await client.get(f"{start.headers['location']}&sandbox_user={user}")
        assert at_google.status_code == 302
        callback = await client.get(at_google.headers["location"], headers=HTML)
        assert callback.status_code == 303
        return callback

    async def test_a_driver_signs_in_with_google_and_lands_where_they_were_going(
        self, client: httpx.AsyncClient
    ) -> None:
        callback = await self.consent(client, "alice")
        location = callback.headers["location"]
        assert location.startswith("/logbook/sign-in/complete?ticket=")
        # The access token never travels in a URL, only the one-time ticket.
        assert "carpulse_driver_session" not in callback.headers.get("set-cookie", "")

        done = await client.get(location, headers=HTML)

        assert done.status_code == 303
        assert done.headers["location"] == "/logbook/cars"
        assert "cp_session" in client.cookies
        cars = await get_page(client, "/logbook/cars")
        assert cars.status_code == 200
        assert "alice@example.com" in cars.text
        # The ticket is spent.
        again = await client.get(location, headers=HTML)
        assert again.headers["location"] == "/logbook/sign-in?error=sign-in-state-invalid"

    async def test_a_google_user_off_the_allowlist_gets_a_page_saying_so(self, client: httpx.AsyncClient) -> None:
        callback = await self.consent(client, "eve")

        assert callback.headers["location"] == "/logbook/sign-in?error=email-not-allowed"
        page = await get_page(client, callback.headers["location"])
        assert page.status_code == 403
        assert "may not use this logbook" in page.text
        assert "cp_session" not in client.cookies

    async def test_an_unverified_google_address_is_refused_in_the_readers_language(
        self, client: httpx.AsyncClient
    ) -> None:
        callback = await self.consent(client, "carol")

        page = await get_page(client, callback.headers["location"], headers={"accept-language": "fi"})
        assert page.status_code == 403
        assert "Google ei ole vahvistanut" in page.text

    async def test_cancelling_at_google_comes_back_to_the_page(self, client: httpx.AsyncClient) -> None:
        start = await post_form(client, "/logbook/sign-in", {"next": "/logbook"})
        at_google = await client.get(f"{start.headers['location']}&sandbox_deny=1")
        callback = await client.get(at_google.headers["location"], headers=HTML)

        assert callback.headers["location"] == "/logbook/sign-in?error=sign-in-declined"

    async def test_the_api_flow_still_answers_json_and_its_own_cookie(self, client: httpx.AsyncClient) -> None:
        started = await client.post("/api/v1/logbook/auth/google/initiate", json={})
        at_google = await client.get(f"{started.json()['authorization_url']}&sandbox_user=alice")
        callback = await client.get(at_google.headers["location"], headers=HTML)

        assert callback.status_code == 303
        assert callback.headers["location"] == "/"
        assert "carpulse_driver_session" in callback.headers["set-cookie"]

    async def test_a_page_needs_a_driver_and_sends_the_browser_to_sign_in(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/logbook?day=2026-11-02")

        assert response.status_code == 303
        location = urlsplit(response.headers["location"])
        assert location.path == "/logbook/sign-in"
        assert parse_qs(location.query)["next"] == ["/logbook?day=2026-11-02"]

    async def test_signing_in_needs_the_forms_csrf_token(self, client: httpx.AsyncClient) -> None:
        await get_page(client, "/logbook/sign-in")
        response = await client.post("/logbook/sign-in", data={"next": "/logbook"}, headers=HTML)

        assert response.status_code == 403


class TestTripsByDayAndMonth:
    async def test_the_day_shows_the_trip_with_its_totals_and_the_month_adds_it_up(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        _car_id, _trip_id = await drive_a_trip(app, client)
        headers = await driver(app, "alice2@example.com")
        api_totals = (
            await client.get(
                "/api/v1/logbook/trips/totals",
                params={"by": "day"},
                headers={"Authorization": f"Bearer {client.cookies['cp_session']}"},
            )
        ).json()
        [row] = api_totals["rows"]
        assert row["period"] == DAY

        day = await get_page(client, f"/logbook?day={DAY}")

        assert day.status_code == 200
        assert "Monday, November 2, 2026" in day.text
        km = f"{round(row['distance_km'], 1)} km"
        assert km in day.text
        assert 'href="/logbook?day=2026-11-01"' in day.text
        assert 'href="/logbook?day=2026-11-03"' in day.text
        month = await get_page(client, "/logbook?month=2026-11")
        assert month.status_code == 200
        assert "November 2026" in month.text
        assert f'href="/logbook?day={DAY}"' in month.text
        assert km in month.text
        other_day = await get_page(client, "/logbook?day=2026-11-03")
        assert "No trips on this day." in other_day.text
        assert headers  # another driver exists and sees none of it
        as_driver(client, headers)
        assert "No trips on this day." in (await get_page(client, f"/logbook?day={DAY}")).text

    async def test_a_bad_day_or_month_is_a_page_saying_what_is_wrong(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await signed_in(app, client)

        for query, text in (("day=2026-13-45", "is not a date"), ("month=nope", "is not a month")):
            response = await get_page(client, f"/logbook?{query}")
            assert response.status_code == 422, query
            assert text in response.text
            assert response.headers["content-type"].startswith("text/html")


class TestTripPage:
    async def test_the_trip_page_has_its_map_ends_and_downloads(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        _, trip_id = await drive_a_trip(app, client)

        page = await get_page(client, f"/logbook/trips/{trip_id}")

        assert page.status_code == 200
        assert f'data-geojson="/logbook/trips/{trip_id}.geojson"' in page.text
        assert 'data-tiles=""' in page.text  # no tile URL in tests: a plain background
        assert "60.16920, 24.93130" in page.text  # the start, where it was
        assert "Kamppi, Finland" in page.text
        assert "Pasila, Finland" in page.text
        geojson = await client.get(f"/logbook/trips/{trip_id}.geojson")
        assert geojson.status_code == 200
        kinds = [feature["geometry"]["type"] for feature in geojson.json()["features"]]
        assert kinds == ["LineString", "Point", "Point"]
        gpx = await client.get(f"/logbook/trips/{trip_id}.gpx")
        assert gpx.status_code == 200
        assert gpx.headers["content-type"].startswith("application/gpx+xml")
        assert "<trkpt" in gpx.text

    async def test_the_purpose_is_edited_in_place_through_the_trip_service(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        _, trip_id = await drive_a_trip(app, client)
        page = await get_page(client, f"/logbook/trips/{trip_id}")

        fragment = await client.post(
            f"/logbook/trips/{trip_id}/purpose",
            data={"purpose": "business"},
            headers={"hx-request": "true", "x-csrf-token": csrf_of(page)},
        )

        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith("<form")
        assert "Saved: Business." in fragment.text
        trip = await db.scalar(
            select(Trip).where(Trip.id == uuid.UUID(trip_id)).execution_options(populate_existing=True)
        )
        assert trip is not None
        assert trip.purpose == "business"
        bad = await post_form(client, f"/logbook/trips/{trip_id}/purpose", {"purpose": "holiday"}, from_page="/logbook")
        assert bad.status_code == 422
        assert "Choose one of the listed purposes." in bad.text
        plain = await post_form(
            client, f"/logbook/trips/{trip_id}/purpose", {"purpose": "private"}, from_page="/logbook"
        )
        assert plain.status_code == 303
        assert "Private" in (await get_page(client, f"/logbook?day={DAY}")).text

    async def test_editing_without_the_csrf_token_is_refused(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        _, trip_id = await drive_a_trip(app, client)

        response = await client.post(
            f"/logbook/trips/{trip_id}/purpose", data={"purpose": "business"}, headers={"hx-request": "true"}
        )

        assert response.status_code == 403

    async def test_another_drivers_trip_is_a_404_page(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        _, trip_id = await drive_a_trip(app, client)
        await signed_in(app, client, "bob@example.com")

        for path in (f"/logbook/trips/{trip_id}", f"/logbook/trips/{trip_id}.gpx", "/logbook/trips/not-an-id"):
            response = await get_page(client, path)
            assert response.status_code == 404, path
            assert "There is no such trip among yours." in response.text
        refused = await post_form(
            client, f"/logbook/trips/{trip_id}/purpose", {"purpose": "private"}, from_page="/logbook"
        )
        assert refused.status_code == 404

    async def test_deleting_a_trip_takes_it_off_the_day(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        _, trip_id = await drive_a_trip(app, client)

        response = await post_form(
            client, f"/logbook/trips/{trip_id}/delete", {}, from_page=f"/logbook/trips/{trip_id}"
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/logbook?day={DAY}"
        assert "No trips on this day." in (await get_page(client, f"/logbook?day={DAY}")).text


class TestMerging:
    async def test_two_neighbouring_trips_are_merged_from_the_trip_page(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await signed_in(app, client)
        car_id = await add_car(client)
        _, token = await new_token(client, car_id)
        phone = Phone(client, token)
        await phone.trip(drive(BASE, sample(HELSINKI_ROUTE, every_m=400)))
        await phone.trip(drive(BASE + timedelta(minutes=20), sample(list(reversed(HELSINKI_ROUTE)), every_m=400)))
        day = await get_page(client, f"/logbook?day={DAY}")
        first, second = re.findall(r'href="/logbook/trips/([0-9a-f-]{36})"', day.text)
        page = await get_page(client, f"/logbook/trips/{first}")
        assert "Merge with the next trip (9:50" in page.text
        assert "Merge with the trip before" not in page.text

        merged = await post_form(
            client, f"/logbook/trips/{first}/merge", {"with_trip": second}, from_page=f"/logbook/trips/{first}"
        )

        assert merged.status_code == 303
        assert merged.headers["location"] == f"/logbook/trips/{first}"
        day = await get_page(client, f"/logbook?day={DAY}")
        assert re.findall(r'href="/logbook/trips/([0-9a-f-]{36})"', day.text) == [first]
        refused = await post_form(
            client, f"/logbook/trips/{first}/merge", {"with_trip": first}, from_page=f"/logbook/trips/{first}"
        )
        assert refused.status_code == 409
        assert "These trips cannot be merged" in refused.text


class TestCarsAndTokens:
    async def test_bad_car_input_names_the_field(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await signed_in(app, client)

        no_name = await post_form(client, "/logbook/cars", {"name": "  "})
        bad_vin = await post_form(client, "/logbook/cars", {"name": "Van", "vin": "NOTAVIN"})
        bad_km = await post_form(client, "/logbook/cars", {"name": "Van", "odometer_start_km": "lots"})

        assert no_name.status_code == 422
        assert 'id="error-name"' in no_name.text
        assert "Fill in this field." in no_name.text
        assert bad_vin.status_code == 422
        assert 'id="error-vin"' in bad_vin.text
        assert "not a valid VIN" in bad_vin.text
        assert 'value="Van"' in bad_vin.text  # what was typed stays
        assert bad_km.status_code == 422
        assert 'id="error-odometer_start_km"' in bad_km.text
        assert "No cars yet." in (await get_page(client, "/logbook/cars")).text

    async def test_a_car_is_added_edited_shared_and_deleted(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await signed_in(app, client)
        car_id = await add_car(client, plate="abc-123")
        page = await get_page(client, f"/logbook/cars/{car_id}?added=1")
        assert "Car added." in page.text
        assert "ABC-123" in page.text

        edited = await post_form(client, f"/logbook/cars/{car_id}", {"name": "Family car", "plate": "XYZ-9"})
        assert edited.status_code == 303
        assert "Family car" in (await get_page(client, "/logbook/cars")).text
        bad_share = await post_form(
            client, f"/logbook/cars/{car_id}/drivers", {"email": "not-an-address"}, from_page=f"/logbook/cars/{car_id}"
        )
        assert bad_share.status_code == 422
        assert 'id="error-email"' in bad_share.text
        shared = await post_form(
            client, f"/logbook/cars/{car_id}/drivers", {"email": "bob@example.com"}, from_page=f"/logbook/cars/{car_id}"
        )
        assert shared.status_code == 303
        assert "bob@example.com" in (await get_page(client, f"/logbook/cars/{car_id}")).text
        twice = await post_form(
            client, f"/logbook/cars/{car_id}/drivers", {"email": "bob@example.com"}, from_page=f"/logbook/cars/{car_id}"
        )
        assert twice.status_code == 409
        assert "already shares" in twice.text

        await signed_in(app, client, "bob@example.com")
        bobs = await get_page(client, f"/logbook/cars/{car_id}")
        assert bobs.status_code == 200
        assert "only its owner changes or deletes it" in bobs.text
        refused = await post_form(client, f"/logbook/cars/{car_id}/delete", {}, from_page="/logbook/cars")
        assert refused.status_code == 403

    async def test_a_new_token_is_shown_once_with_the_shortcut_setup_and_qr_codes(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await signed_in(app, client)
        car_id = await add_car(client)

        response, token = await new_token(client, car_id)

        assert response.headers["cache-control"] == "no-store"
        assert f"http://testserver/webhook/ping/{token}" in response.text
        assert response.text.count('class="qr"') == 3
        assert "style=" not in response.text
        assert "Get Current Location" in response.text
        car_page = await get_page(client, f"/logbook/cars/{car_id}")
        assert token not in car_page.text  # shown once
        assert token[:6] in car_page.text

    async def test_a_revoked_token_stores_nothing_more(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await signed_in(app, client)
        car_id = await add_car(client)
        _, token = await new_token(client, car_id)
        page = await get_page(client, f"/logbook/cars/{car_id}")
        [token_id] = re.findall(rf"/logbook/cars/{car_id}/tokens/([0-9a-f-]{{36}})/revoke", page.text)

        revoked = await post_form(client, f"/logbook/cars/{car_id}/tokens/{token_id}/revoke", {}, from_page="/logbook")

        assert revoked.status_code == 303
        assert "revoked" in (await get_page(client, f"/logbook/cars/{car_id}")).text
        event = drive(BASE, HELSINKI_ROUTE[:1])[0]
        assert (await Phone(client, token).send("start", event, in_path=True)).status_code == 401

    async def test_another_drivers_car_is_a_404_page(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await signed_in(app, client)
        car_id = await add_car(client)
        await signed_in(app, client, "bob@example.com")

        for path in (f"/logbook/cars/{car_id}", "/logbook/cars/42"):
            response = await get_page(client, path)
            assert response.status_code == 404
            assert "There is no such car among yours." in response.text
        for action in ("delete", "tokens"):
            refused = await post_form(client, f"/logbook/cars/{car_id}/{action}", {}, from_page="/logbook/cars")
            assert refused.status_code == 404, action


class TestPlacesAndStations:
    async def test_places_are_added_renamed_moved_and_deleted(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await signed_in(app, client)
        bad = await post_form(client, "/logbook/places", {"name": "Office", "lat": "95", "lon": "x"})
        assert bad.status_code == 422
        assert 'id="error-lat"' in bad.text
        assert "outside the allowed range" in bad.text
        assert 'id="error-lon"' in bad.text
        assert "Enter a number" in bad.text
        added = await post_form(
            client, "/logbook/places", {"name": "Office", "kind": "work", "lat": "60.1987", "lon": "24.9333"}
        )
        assert added.status_code == 303
        page = await get_page(client, "/logbook/places")
        [place_id] = re.findall(r'href="/logbook/places/([0-9a-f-]{36})"', page.text)
        assert 'data-lat="60.1987"' in page.text

        moved = await post_form(
            client,
            f"/logbook/places/{place_id}",
            {"name": "Pasila office", "kind": "work", "lat": "60.1990", "lon": "24.9340", "radius_m": "300"},
        )
        assert moved.status_code == 303
        page = await get_page(client, "/logbook/places")
        assert "Pasila office" in page.text
        assert 'data-radius="300.0"' in page.text
        too_small = await post_form(
            client,
            f"/logbook/places/{place_id}",
            {"name": "Pasila office", "kind": "work", "lat": "60.1990", "lon": "24.9340", "radius_m": "2"},
        )
        assert too_small.status_code == 422
        assert 'id="error-radius_m"' in too_small.text

        await signed_in(app, client, "bob@example.com")
        assert (await get_page(client, f"/logbook/places/{place_id}")).status_code == 404
        assert (
            await post_form(client, f"/logbook/places/{place_id}/delete", {}, from_page="/logbook")
        ).status_code == 404
        await signed_in(app, client, "alice3@example.com")
        assert (await get_page(client, f"/logbook/places/{place_id}")).status_code == 404

    async def test_a_trip_ending_at_a_place_shows_its_name(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        _, trip_id = await drive_a_trip(app, client)
        end = HELSINKI_ROUTE[-1]

        await post_form(client, "/logbook/places", {"name": "Depot", "lat": str(end[0]), "lon": str(end[1])})

        assert "Depot" in (await get_page(client, f"/logbook/trips/{trip_id}")).text
        assert "Depot" in (await get_page(client, f"/logbook?day={DAY}")).text

    async def test_charging_stations_near_a_point_and_the_outage_page(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await signed_in(app, client)
        end = HELSINKI_ROUTE[-1]

        found = await get_page(client, f"/logbook/stations?lat={end[0]}&lon={end[1]}&radius_km=5")
        assert found.status_code == 200
        assert "Open Charge Map" in found.text
        assert found.text.count('<li class="panel">') >= 1
        bad = await get_page(client, "/logbook/stations?lat=500&lon=0")
        assert bad.status_code == 422
        assert "lat" in bad.text
        app.state.carpulse.sandbox.open_charge_map.set_fault(down=True)
        down = await get_page(client, "/logbook/stations?lat=10&lon=10")
        assert down.status_code == 503
        assert "is not answering right now" in down.text


class TestPrivacy:
    async def test_the_export_holds_the_drivers_trips(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        _, trip_id = await drive_a_trip(app, client)

        response = await client.get("/logbook/privacy/export.zip")

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert any(name.endswith(".gpx") for name in names), names
        assert any(trip_id in zipfile.ZipFile(io.BytesIO(response.content)).read(n).decode() for n in names)

    async def test_deleting_the_account_needs_the_confirmation_then_signs_out(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        await drive_a_trip(app, client)

        unconfirmed = await post_form(client, "/logbook/privacy/delete", {}, from_page="/logbook/privacy")
        assert unconfirmed.status_code == 422
        assert "nothing was deleted" in unconfirmed.text
        deleted = await post_form(client, "/logbook/privacy/delete", {"confirm": "yes"}, from_page="/logbook/privacy")

        assert deleted.status_code == 200
        assert "Your logbook account is deleted" in deleted.text
        assert 'cp_session=""' in deleted.headers["set-cookie"] or "cp_session=;" in deleted.headers["set-cookie"]
        assert await db.scalar(select(Account).where(Account.email == "alice@example.com")) is None
        assert (await get_page(client, "/logbook")).status_code == 303


class TestWithSignInOff:
    """Development with `logbook_auth.enabled=false`: the pages act as the one local driver, as the API does."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"logbook": {"assembly_debounce_seconds": 0}, "logbook_auth": {"enabled": False}}

    async def test_the_pages_open_without_signing_in_and_say_why(self, client: httpx.AsyncClient) -> None:
        sign_in = await get_page(client, "/logbook/sign-in")
        assert sign_in.status_code == 200
        assert "Sign-in is switched off" in sign_in.text
        assert "Sign in with Google" not in sign_in.text

        car_id = await add_car(client)
        listed = await client.get("/api/v1/logbook/cars")
        assert listed.status_code == 200
        assert [car["id"] for car in listed.json()["cars"]] == [car_id]  # the API's local driver is the same
        assert (await get_page(client, f"/logbook?day={DAY}")).status_code == 200
