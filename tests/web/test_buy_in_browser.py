"""Buying reports in Chromium against `carpulse serve` with the sandbox: connect, choose, pay with Stripe or
PayPal, a declined card, a refused consent; axe on every page of the flow, and the vehicles page on a phone."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.web.conftest import BrowserPage, LiveServer, axe_violations

ORDER_URL = re.compile(r"/orders/([A-Za-z0-9_-]{16,})$")


def assert_clean(watched: BrowserPage) -> None:
    assert watched.console_errors == []
    assert watched.blocked_requests == []


def connect(page: Page, account: str = "solo") -> None:
    """From the start page through the sandbox's Tesla consent back to the account's vehicles."""
    page.goto("/reports")
    page.get_by_role("link", name="Connect your Tesla account").first.click()
    page.get_by_role("button", name=f"Sign in as {account}").click()
    page.wait_for_url(re.compile(r"/reports/session/[A-Za-z0-9_-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your vehicles")


def order_status(live_server: LiveServer, order_id: str) -> str:
    response = httpx.get(f"{live_server.base_url}/api/v1/orders/{order_id}", timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def paid_on_the_order_page(page: Page, live_server: LiveServer) -> str:
    page.wait_for_url(ORDER_URL)
    match = ORDER_URL.search(page.url)
    assert match
    order_id = match.group(1)
    # The webhook and the return both apply the payment; the order is paid once either has.
    for _ in range(50):
        if order_status(live_server, order_id) == "paid":
            break
        page.wait_for_timeout(100)
    assert order_status(live_server, order_id) == "paid"
    return order_id


def test_the_start_page_has_the_packages_and_no_serious_accessibility_violations(browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto("/reports?lang=fi")

    expect(page.get_by_role("heading", name="Perusraportti")).to_be_visible()
    expect(page.get_by_text("19,00 €")).to_be_visible()
    assert axe_violations(page) == []
    assert_clean(browser_page)


def test_a_full_purchase_with_stripe_and_a_voucherless_live_quote(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    connect(page, "family")
    assert page.locator(".vehicle img").count() == 3
    assert axe_violations(page) == []
    gross = page.locator('[data-total="gross"]')
    before = gross.inner_text()

    # htmx: a changed choice brings the server's new quote without leaving the page.
    url = page.url
    page.get_by_role("radio", name=re.compile("Basic report")).check()
    expect(gross).not_to_have_text(before)
    assert page.url == url
    page.get_by_role("checkbox").nth(2).uncheck()
    expect(page.locator(".line-package")).to_contain_text("× 2")
    shown = gross.inner_text()

    page.get_by_role("button", name="Pay by card").click()
    page.wait_for_url(re.compile(r"/_sandbox/stripe/checkout/"))
    assert shown.replace("€", "").strip() in page.locator(".amount").inner_text()
    errors_before_order_page = list(browser_page.console_errors)
    page.get_by_role("button", name="Pay", exact=True).click()

    paid_on_the_order_page(page, live_server)
    assert errors_before_order_page == []
    assert browser_page.blocked_requests == []


def test_a_full_purchase_with_paypal(browser_page: BrowserPage, live_server: LiveServer) -> None:
    page = browser_page.page
    connect(page)
    page.get_by_role("button", name="Pay with PayPal").click()
    page.wait_for_url(re.compile(r"/_sandbox/paypal/"))
    errors_before_order_page = list(browser_page.console_errors)
    page.get_by_role("button", name="Pay now").click()

    paid_on_the_order_page(page, live_server)
    assert errors_before_order_page == []
    assert browser_page.blocked_requests == []


def test_a_declined_card_says_so_and_trying_again_keeps_the_selection(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    connect(page)
    shown = page.locator('[data-total="gross"]').inner_text()
    page.get_by_role("button", name="Pay by card").click()
    page.wait_for_url(re.compile(r"/_sandbox/stripe/checkout/"))
    page.get_by_role("button", name="Decline").click()

    page.wait_for_url(re.compile(r"/reports/checkout/return\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("The payment was declined")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Try again").click()
    page.wait_for_url(re.compile(r"/reports/session/"))
    expect(page.locator('[data-total="gross"]')).to_have_text(shown)
    expect(page.get_by_role("button", name="Pay by card")).to_be_visible()
    assert_clean(browser_page)


def test_a_cancelled_paypal_approval_offers_to_try_again(browser_page: BrowserPage) -> None:
    page = browser_page.page
    connect(page)
    page.get_by_role("button", name="Pay with PayPal").click()
    page.wait_for_url(re.compile(r"/_sandbox/paypal/"))
    page.get_by_role("button", name="Cancel and return to the merchant").click()

    page.wait_for_url(re.compile(r"/reports/checkout/return\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("The payment was cancelled")
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    assert axe_violations(page) == []
    assert_clean(browser_page)


def test_a_refused_consent_ends_on_our_page(browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto("/reports?lang=sv")
    page.get_by_role("link", name="Anslut ditt Tesla-konto").first.click()
    page.get_by_role("button", name="Deny").click()

    page.wait_for_url(re.compile(r"/reports/connect-failed\?problem=declined"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Åtkomsten nekades")
    assert axe_violations(page) == []
    # A 400 page: the browser logs its status, nothing else.
    assert all("400" in error for error in browser_page.console_errors)
    assert browser_page.blocked_requests == []


def test_the_vehicles_page_on_a_phone(browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.set_viewport_size({"width": 360, "height": 740})
    connect(page, "family")

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator(".vehicle img").first).to_be_visible()
    expect(page.get_by_role("button", name="Pay by card")).to_be_visible()
    assert axe_violations(page) == []
    assert_clean(browser_page)
