"""The journey "Data API sign-up to first call" in Chromium: register → the mail's link (from the sandbox mailbox)
→ sign in → create a key → the try-it page → a successful call → the usage shows it. axe on every page, and the
console at phone width."""

from __future__ import annotations

import re
import time
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.web.conftest import BrowserPage, LiveServer, axe_violations

PASSWORD = "a long enough passphrase"
MAIL_SECONDS = 20


def assert_clean(watched: BrowserPage) -> None:
    assert watched.console_errors == []
    assert watched.blocked_requests == []


def confirmation_link(live_server: LiveServer, address: str) -> str:
    """The link in the newest mail to `address`, as the sandbox mailbox keeps it (the send is a background job)."""
    deadline = time.monotonic() + MAIL_SECONDS
    while True:
        messages = httpx.get(f"{live_server.base_url}/_sandbox/mail", params={"to": address}, timeout=5).json()
        links = [link for message in messages["messages"] for link in message["links"] if "/console/confirm?" in link]
        if links:
            return str(links[0])
        assert time.monotonic() < deadline, "no confirmation mail arrived"
        time.sleep(0.2)


def fits_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    wide = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((element) => element.getBoundingClientRect().right > 361 && !element.closest(".table-wrap, pre"))
            .map((element) => element.tagName + "." + (element.getAttribute("class") || ""))
            .slice(0, 8)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})


def test_data_api_sign_up_to_first_call(browser_page: BrowserPage, live_server: LiveServer) -> None:
    page = browser_page.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    address = f"data-{uuid.uuid4().hex[:8]}@dealer.example"

    page.goto("/console/register")
    assert axe_violations(page) == []
    fits_a_phone(page)
    page.get_by_label("Company name").fill("Dealer Oy")
    page.get_by_role("textbox", name="E-mail address").fill(address)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Country").select_option("FI")
    page.get_by_label("EU VAT number (optional)").fill("FI20774740")
    page.get_by_role("button", name="Create the account").click()
    page.wait_for_url("**/console/check-mail")
    expect(page.get_by_text(address)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("sandbox mailbox"))).to_be_visible()
    assert axe_violations(page) == []

    page.goto(confirmation_link(live_server, address))
    expect(page.get_by_role("heading", name="Your address is confirmed")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Sign in").last.click()
    page.wait_for_url("**/login?next=/console")
    page.get_by_role("textbox", name="E-mail address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.base_url}/console")
    expect(page.get_by_test_id("quota-used")).to_have_text("0 of 100 used")
    assert axe_violations(page) == []

    page.get_by_label("Name of a new key").fill("first try")
    page.get_by_role("button", name="Create a key").click()
    expect(page.get_by_role("heading", name="The key “first try” is ready")).to_be_visible()
    secret = page.locator("#new-key").inner_text().strip()
    assert re.fullmatch(r"cp_test_[0-9A-Za-z]{38}", secret)
    page.get_by_role("button", name="Copy the key").click()
    expect(page.locator(".copy-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert axe_violations(page) == []
    fits_a_phone(page)

    page.get_by_role("link", name="Try it in the browser").click()
    page.wait_for_url("**/console/try")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#try-key-error")).to_have_text("Paste your API key first.")
    page.get_by_label("Your API key").fill(secret)
    page.get_by_role("button", name="5YJ3E1EB5LF000001").click()
    expect(page.locator("#try-url")).to_have_text("/api/v1/vehicle/static/5YJ3E1EB5LF000001")
    expect(page.locator("#try-curl")).to_have_text(
        f'curl -H "X-API-Key: $CARPULSE_KEY" "{live_server.base_url}/api/v1/vehicle/static/5YJ3E1EB5LF000001"'
    )
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_test_id("try-status")).to_have_text(re.compile(r"^200"))
    expect(page.locator("#try-headers")).to_contain_text("RateLimit-Remaining")
    expect(page.locator("#try-headers")).to_contain_text("99")
    expect(page.locator("#try-body")).to_contain_text('"vin": "5YJ3E1EB5LF000001"')
    assert axe_violations(page) == []
    fits_a_phone(page)

    page.get_by_role("navigation", name="Console sections").get_by_role("link", name="Overview").click()
    page.wait_for_url(f"{live_server.base_url}/console")
    expect(page.get_by_test_id("quota-used")).to_have_text("1 of 100 used")
    expect(page.get_by_role("row", name=re.compile("vehicle.static"))).to_be_visible()
    expect(page.get_by_role("rowheader", name="first try")).to_be_visible()
    assert page.locator("svg.day-chart rect.bar.today").count() == 1
    assert axe_violations(page) == []
    fits_a_phone(page)
    assert secret not in page.content()
    assert_clean(browser_page)


def test_revoking_a_key_asks_first_and_the_try_page_then_shows_the_refusal(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    address = f"revoke-{uuid.uuid4().hex[:8]}@dealer.example"
    page.goto("/console/register")
    page.get_by_label("Company name").fill("Leasing Oy")
    page.get_by_role("textbox", name="E-mail address").fill(address)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Country").select_option("SE")
    page.get_by_role("button", name="Create the account").click()
    page.wait_for_url("**/console/check-mail")
    page.goto(confirmation_link(live_server, address))
    page.goto("/login?next=/console")
    page.get_by_role("textbox", name="E-mail address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.base_url}/console")
    page.get_by_label("Name of a new key").fill("short lived")
    page.get_by_role("button", name="Create a key").click()
    secret = page.locator("#new-key").inner_text().strip()
    page.get_by_role("link", name="I have copied it: back to the console").click()

    page.get_by_role("link", name="Revoke… short lived").click()
    expect(page.get_by_role("heading", name="Revoke the key “short lived”?")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Revoke the key").click()
    page.wait_for_url("**/console?notice=revoked")
    expect(page.get_by_role("status").filter(has_text="calls with it are refused")).to_be_visible()

    page.goto("/console/try")
    page.get_by_label("Your API key").fill(secret)
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_test_id("try-status")).to_have_text(re.compile(r"^401"))
    expect(page.locator("#try-body")).to_contain_text("revoked")
    # Chromium reports every 4xx answer to a fetch on the console; that one is the point of the test.
    assert [error for error in browser_page.console_errors if "status of 401" not in error] == []
    assert browser_page.blocked_requests == []
