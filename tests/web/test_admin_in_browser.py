"""The admin in Chromium: sign in, create a voucher, see it used by an order, every admin page clean on a phone.

The checkout pages are another helper's; the order that uses the voucher is made through the API as a
customer's browser would drive it (connect on the sandbox Tesla, select, quote with the code, create-intent).
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.payment.flow import checkout
from tests.web.conftest import BrowserPage, LiveServer, axe_violations

PHONE = {"width": 360, "height": 740}


def assert_clean(watched: BrowserPage) -> None:
    assert watched.console_errors == []
    assert watched.blocked_requests == []


def assert_fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_violations(page) == []


def sign_in(page: Page, live_server: LiveServer) -> None:
    page.goto("/login?next=/admin")
    page.get_by_role("textbox", name="E-mail address").fill(ADMIN_USERNAME)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.base_url}/admin")


def order_with_voucher(live_server: LiveServer, code: str) -> dict[str, Any]:
    """A customer's checkout with `code`, through the API of the served app."""

    async def run() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as client:
            return await checkout(client, "stripe", voucher=code)

    # Playwright's sync API keeps an event loop on this thread: the customer's calls get a thread of their own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_the_admin_creates_a_voucher_that_a_checkout_then_uses(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    sign_in(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Admin overview")
    assert axe_violations(page) == []

    page.get_by_role("link", name="New voucher").first.click()
    page.wait_for_url("**/admin/vouchers/new")
    assert axe_violations(page) == []
    # A bad value first: the form comes back naming the field, with what was typed.
    page.get_by_label("Voucher code").fill("BROWSER-25X")
    page.get_by_label("Discount", exact=True).fill("-25")
    page.get_by_role("button", name="Create the voucher").click()
    expect(page.locator("#error-value")).to_contain_text("Enter a discount above 0")
    expect(page.get_by_label("Voucher code")).to_have_value("BROWSER-25X")
    assert axe_violations(page) == []
    # Chromium logs the intended 422 answer as a failed load; nothing else may appear.
    assert [error for error in browser_page.console_errors if "status of 422" not in error] == []
    browser_page.console_errors.clear()

    page.get_by_label("Discount", exact=True).fill("25")
    page.get_by_label("Uses in all").fill("10")
    page.get_by_role("button", name="Create the voucher").click()
    page.wait_for_url(re.compile(r".*/admin/vouchers/[0-9a-f-]{36}\?saved=created$"))
    expect(page.get_by_role("status").first).to_contain_text("The voucher is created.")
    expect(page.get_by_text("No order has used this voucher yet.")).to_be_visible()
    voucher_page = page.url.split("?")[0]

    order = order_with_voucher(live_server, "browser-25x")
    assert order["quote"]["voucher_code"] == "BROWSER-25X"
    assert order["quote"]["discount_cents"] == 475  # 25 % of the 19.00 Basic report
    assert order["amount_cents"] == 1425

    page.goto(voucher_page)
    uses = page.locator("section[aria-labelledby=voucher-uses]")
    expect(uses).to_contain_text(order["reference"])
    expect(uses).to_contain_text("reserved at checkout")
    expect(uses).to_contain_text("€14.25")
    expect(page.get_by_text("1 of 10").first).to_be_visible()
    assert_fits_a_phone(page)

    uses.get_by_role("link", name=order["reference"]).click()
    page.wait_for_url(f"**/admin/orders/{order['order_id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(order["reference"])
    expect(page.get_by_text("BROWSER-25X").first).to_be_visible()
    assert_fits_a_phone(page)
    assert_clean(browser_page)


ADMIN_PAGES = (
    "/admin",
    "/admin/vouchers",
    "/admin/vouchers/new",
    "/admin/orders",
    "/admin/orders?status=paid&q=zz",
    "/admin/clients",
    "/admin/plans",
    "/admin/plans/basic",
    "/admin/reconciler",
)


def test_every_admin_page_is_accessible_on_a_desktop_and_fits_a_phone(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    # One sign-in for every page: the sign-in is rate limited per address.
    page = browser_page.page
    sign_in(page, live_server)
    found: dict[str, list[str]] = {}
    for path in ADMIN_PAGES:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path)
        assert page.locator("main h1").count() == 1, path
        desktop = axe_violations(page)
        page.set_viewport_size(PHONE)
        overflow = page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]
        found[path] = desktop + axe_violations(page) + (["wider than a phone"] if overflow else [])

    assert {path: problems for path, problems in found.items() if problems} == {}
    assert_clean(browser_page)


def test_the_admin_pages_speak_finnish(browser_page: BrowserPage, live_server: LiveServer) -> None:
    page = browser_page.page
    sign_in(page, live_server)
    page.goto("/admin/vouchers/new?lang=fi")

    assert page.locator("html").get_attribute("lang") == "fi"
    expect(page.get_by_role("heading", level=1)).to_have_text("Uusi alennuskoodi")
    assert axe_violations(page) == []
    assert_clean(browser_page)
