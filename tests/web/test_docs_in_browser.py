"""/docs and /redoc in a real browser, with every host but ours unreachable: they render from our files."""

from __future__ import annotations

import pytest
from playwright.sync_api import Response, expect

from tests.web.conftest import BrowserPage

pytestmark = pytest.mark.browser

OPERATION = "Liveness: the process serves"  # the summary of GET /health/live, far down the page


def directives(response: Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {name: value for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))}


def opened(browser_page: BrowserPage, path: str) -> Response:
    response = browser_page.page.goto(path)
    assert response is not None
    assert response.status == 200
    return response


def assert_clean(browser_page: BrowserPage) -> None:
    assert browser_page.blocked_requests == []
    assert browser_page.console_errors == []


class TestSwaggerUi:
    @pytest.mark.parametrize("path", ["/docs", "/api/v1/docs"])
    def test_lists_our_operations_offline_without_console_errors(self, browser_page: BrowserPage, path: str) -> None:
        page = browser_page.page
        response = opened(browser_page, path)

        expect(page.get_by_role("heading", name="tesla connect")).to_be_visible()
        expect(page.get_by_text("Start connecting a Tesla account").first).to_be_visible()
        # Swagger UI renders only the operations near the viewport: the filter brings a far one up.
        page.get_by_placeholder("Filter by tag").fill("health")
        expect(page.get_by_text(OPERATION, exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="tesla connect")).not_to_be_attached()
        assert directives(response)["script-src"] == "'self'"
        assert directives(response)["style-src"] == "'self'"
        assert_clean(browser_page)

    def test_tries_an_operation_against_our_host(self, browser_page: BrowserPage) -> None:
        page = browser_page.page
        opened(browser_page, "/docs")
        page.get_by_placeholder("Filter by tag").fill("health")

        operation = page.locator(".opblock", has_text=OPERATION)
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.get_by_role("button", name="Execute").click()

        expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
        assert_clean(browser_page)


class TestRedoc:
    @pytest.mark.parametrize("path", ["/redoc", "/api/v1/redoc"])
    def test_renders_the_groups_and_operations_offline(self, browser_page: BrowserPage, path: str) -> None:
        page = browser_page.page
        response = opened(browser_page, path)

        # ReDoc renders the whole document in the page's script: seconds when the machine is busy.
        expect(page.get_by_role("heading", name="Car Pulse API", level=1)).to_be_visible(timeout=30_000)
        expect(page.locator("li", has_text="Data API").first).to_be_visible()
        expect(page.get_by_role("heading", name=OPERATION)).to_be_attached()
        assert directives(response)["script-src"] == "'self'"
        assert_clean(browser_page)

    def test_searches_the_operations(self, browser_page: BrowserPage) -> None:
        page = browser_page.page
        opened(browser_page, "/redoc")

        page.get_by_placeholder("Search...").fill("Liveness")

        # ReDoc builds its search index in a worker after the page renders: seconds on a busy machine.
        expect(page.locator("[data-role='search:results'] li", has_text=OPERATION)).to_be_visible(timeout=30_000)
        assert_clean(browser_page)
