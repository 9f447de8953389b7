"""A driver's day in Chromium: sign in with the Google fake, add a car, make a webhook token, let the phone
(httpx, as the iPhone Shortcut would) send a trip, find it on the day and on its map, and edit its purpose.
Every page passes axe, makes no request to another host and logs no console error; also on a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.trip.flow import HELSINKI_ROUTE, drive, sample
from tests.web.conftest import BrowserPage, LiveServer, axe_violations

PHONE = {"width": 360, "height": 740}


def assert_clean(watched: BrowserPage) -> None:
    assert watched.console_errors == []
    assert watched.blocked_requests == []


def assert_fits_and_passes_axe(page: Page) -> None:
    assert axe_violations(page) == []
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def sign_in_as(page: Page, live_server: LiveServer, user: str) -> None:
    page.goto("/logbook/sign-in")
    assert_fits_and_passes_axe(page)
    page.get_by_role("button", name="Sign in with Google").click()
    # The sandbox's Google consent page: pick the test user.
    page.get_by_role("button", name=f"Continue as {user}").click()
    page.wait_for_url(f"{live_server.base_url}/logbook")


def send_trip(live_server: LiveServer, token: str) -> None:
    """The phone's Shortcut: `start`, pings, `end`, each a POST with the token as the URL's last segment."""
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    events = drive(started, sample(HELSINKI_ROUTE, every_m=300), every_s=20)
    with httpx.Client(base_url=live_server.base_url, timeout=10) as phone:
        for kind, event in [("start", events[0]), *(("ping", e) for e in events[1:-1]), ("end", events[-1])]:
            response = phone.post(f"/webhook/{kind}/{token}", json=event)
            assert response.status_code == 202, response.text


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_a_drivers_day(browser_page: BrowserPage, live_server: LiveServer, viewport: dict[str, int] | None) -> None:
    page = browser_page.page
    if viewport:
        page.set_viewport_size(viewport)
    sign_in_as(page, live_server, "alice" if viewport is None else "bob")
    assert_fits_and_passes_axe(page)

    page.get_by_role("link", name="Cars and phones").first.click()
    assert_fits_and_passes_axe(page)
    page.get_by_label("Name", exact=True).fill("Work car")
    page.get_by_label("Registration plate").fill("abc-123")
    page.get_by_role("button", name="Add the car").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Work car")
    expect(page.get_by_text("Car added.")).to_be_visible()
    assert_fits_and_passes_axe(page)

    page.get_by_label("Name of the phone").fill("My iPhone")
    page.get_by_role("button", name="Create a token").click()
    expect(page.get_by_role("heading", name="The iPhone Shortcut, step by step")).to_be_visible()
    assert_fits_and_passes_axe(page)
    token = page.locator("#webhook-token").inner_text().strip()
    assert re.fullmatch(r"cpw_[0-9A-Za-z]+", token)
    assert page.locator("svg.qr").count() == 3
    assert page.locator("#url-ping").inner_text().endswith(f"/webhook/ping/{token}")

    send_trip(live_server, token)

    page.goto("/logbook")
    trip_link = page.locator("a[href^='/logbook/trips/']")
    # The server assembles the trip from the phone's events in the background: the day shows it once closed.
    for _ in range(60):
        if trip_link.count() and "still driving" not in trip_link.inner_text():
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(trip_link).to_have_count(1)
    expect(page.get_by_role("cell", name=re.compile("Kamppi, Finland → Pasila, Finland"))).to_be_visible()
    expect(page.get_by_role("cell", name="3.5 km")).to_be_visible()
    assert_fits_and_passes_axe(page)

    trip_link.click()
    map_element = page.locator("#trip-map")
    expect(map_element).to_have_attribute("data-drawn", "true")
    expect(page.locator("path.trip-track")).to_have_count(1)
    expect(page.locator("path.leaflet-interactive")).to_have_count(3)  # the track and its two ends
    assert page.locator(".leaflet-tile").count() == 0  # no tile URL: a plain background
    assert_fits_and_passes_axe(page)

    page.get_by_label("Purpose").select_option("business")
    page.get_by_role("button", name="Save purpose").click()
    expect(page.get_by_role("status").filter(has_text="Saved: Business.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Purpose")).to_have_value("business")
    assert_clean(browser_page)


def test_places_on_the_map(browser_page: BrowserPage, live_server: LiveServer) -> None:
    page = browser_page.page
    sign_in_as(page, live_server, "alice")
    page.goto("/logbook/places")
    assert_fits_and_passes_axe(page)

    page.locator("#places-map").click(position={"x": 120, "y": 100})
    lat = page.get_by_label("Latitude").input_value()
    assert re.fullmatch(r"-?\d+\.\d{6}", lat)
    page.get_by_label("Name of the place").fill("Depot")
    page.get_by_role("button", name="Add the place").click()
    expect(page.get_by_role("link", name="Depot")).to_be_visible()
    expect(page.locator("path.place-circle")).to_have_count(1)
    assert_fits_and_passes_axe(page)

    page.goto("/logbook/stations?lat=60.1699&lon=24.9384&radius_km=5")
    expect(page.get_by_role("heading", level=1)).to_have_text("Charging stations nearby")
    assert_fits_and_passes_axe(page)
    page.goto("/logbook/privacy")
    assert_fits_and_passes_axe(page)
    assert_clean(browser_page)
