"""The landing page and the sign-in page in Chromium: every language, phone and desktop, no serious axe findings."""

from __future__ import annotations

import pytest

from carpulse.kit.i18n import LOCALES
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.web.conftest import BrowserPage, LiveServer, axe_violations


def assert_clean(watched: BrowserPage) -> None:
    assert watched.console_errors == []
    assert watched.blocked_requests == []


@pytest.mark.parametrize("path", ["/", "/login"])
def test_no_serious_accessibility_violations(browser_page: BrowserPage, path: str) -> None:
    browser_page.page.goto(path)

    assert axe_violations(browser_page.page) == []
    assert_clean(browser_page)


def test_the_language_switcher_changes_the_page_and_is_remembered(browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto("/")
    page.get_by_label("Language").select_option("fi")
    page.wait_for_url("**/?lang=fi")

    assert page.locator("html").get_attribute("lang") == "fi"
    assert page.get_by_role("link", name="Avaa ajopäiväkirja").is_visible()
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "fi"
    assert_clean(browser_page)


def test_every_language_renders_the_landing_page(browser_page: BrowserPage) -> None:
    page = browser_page.page
    headings = set()
    for locale in LOCALES:
        page.goto(f"/?lang={locale}")
        assert page.locator("html").get_attribute("lang") == locale
        headings.add(page.get_by_role("heading", level=1).inner_text())
        if locale in ("en", "fi"):
            browser_page.shot(f"landing-{locale}")

    assert len(headings) == len(LOCALES)
    assert_clean(browser_page)


def test_on_a_phone_nothing_overflows_sideways(browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/?lang=de")

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    browser_page.shot("landing-phone-de")
    assert axe_violations(page) == []


def test_an_admin_signs_in_and_out(browser_page: BrowserPage, live_server: LiveServer) -> None:
    page = browser_page.page
    page.goto("/login?next=/")
    browser_page.shot("sign-in")
    page.get_by_role("textbox", name="E-mail address").fill(ADMIN_USERNAME)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.base_url}/")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.base_url}/")
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert_clean(browser_page)
