"""The order page in Chromium: nine reports followed live to the end without a reload, a finished report,
its PDF and receipt, a report in another language, a photo and its preview, the order after its connect
session has expired; axe on every page, and a phone's width."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.payment.flow import act_on_hosted_page, checkout
from tests.report.test_photos_http import png
from tests.web.conftest import BrowserPage, LiveServer, axe_violations, serve

T = TypeVar("T")
SESSION_TTL = 60  # the shortest a connect session may live: this journey outlives it
FINISH_SECONDS = 240


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, admin_password_hash: str) -> Iterator[LiveServer]:
    """The embedded server as `make run` has it, its connect sessions living one minute."""
    root = tmp_path_factory.mktemp("order-serve")
    with serve(root, admin_password_hash, CARPULSE_CONNECT__SESSION_TTL_SECONDS=str(SESSION_TTL)) as server:
        yield server


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the API helpers' coroutine on a thread of its own: Playwright holds this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _paid(base_url: str, account: str, count: int | None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        intent = await checkout(client, "stripe", account=account, package="pro", count=count)
        paid = await act_on_hosted_page(client, intent["redirect_url"], "pay")
        assert paid.status_code < 400, paid.text
        verified = await client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})
        assert verified.json()["status"] == "paid", verified.text
        return intent


def paid_order(server: LiveServer, account: str = "solo", count: int | None = None) -> dict[str, Any]:
    """A Pro order bought and paid through the API and the Stripe sandbox, as a customer's browser would."""
    return run(_paid(server.base_url, account, count))


def assert_clean(watched: BrowserPage) -> None:
    assert watched.console_errors == []
    assert watched.blocked_requests == []


def wait_until_final(page: Page) -> None:
    expect(page.locator("#progress-block")).to_have_attribute("data-final", "true", timeout=FINISH_SECONDS * 1000)


class TestNineReportsLive:
    def test_nine_reports_reach_done_without_a_reload_and_the_order_outlives_its_session(
        self, browser_page: BrowserPage, live_server: LiveServer
    ) -> None:
        started = time.monotonic()
        intent = paid_order(live_server, "fleet", 9)
        page = browser_page.page
        page.goto(f"/orders/{intent['order_id']}")
        tasks = page.locator(".order-task")
        expect(tasks).to_have_count(9)
        page.evaluate("window.notReloaded = true")
        assert axe_violations(page) == []

        seen: set[str] = set()
        deadline = time.monotonic() + FINISH_SECONDS
        while page.locator("#progress-block").get_attribute("data-final") != "true":
            assert time.monotonic() < deadline, "the reports did not finish"
            seen.update(tasks.evaluate_all("tasks => tasks.map(task => task.dataset.status)"))
            page.wait_for_timeout(300)

        assert page.evaluate("window.notReloaded") is True  # htmx swapped the block in place
        # The page showed the stages on their way, not only the end.
        assert seen - {"complete"}, seen
        assert set(tasks.evaluate_all("tasks => tasks.map(task => task.dataset.status)")) == {"complete"}
        expect(page.locator(".progress-summary")).to_contain_text("9 of 9 reports ready")
        expect(page.locator("#progress-announce")).to_contain_text("9 of 9 reports ready")  # the live region
        expect(page.get_by_role("link", name="View the report")).to_have_count(9)
        assert page.locator("[hx-trigger]").count() == 0  # polling stopped
        assert axe_violations(page) == []

        # The connect session expires; the order id still opens everything it paid for.
        page.wait_for_timeout(max(0, (started + SESSION_TTL + 2 - time.monotonic()) * 1000))
        expired = httpx.get(f"{live_server.base_url}/api/v1/tesla/session/{intent['session_id']}/vehicles")
        assert expired.status_code == 404
        page.reload()
        expect(page.get_by_role("link", name="View the report")).to_have_count(9)
        page.get_by_role("link", name="View the report").first.click()
        page.wait_for_load_state()
        assert "/reports/" in page.url
        text = page.locator("body").inner_text()
        assert any(vin in text for vin in intent["quote"]["vins"])
        assert_clean(browser_page)


@pytest.fixture(scope="module")
def order_id(live_server: LiveServer) -> str:
    """One Pro order for the solo account's car, shared by the tests that look at a finished order."""
    return str(paid_order(live_server)["order_id"])


class TestAFinishedOrder:
    def test_the_report_its_pdf_and_the_receipt(self, browser_page: BrowserPage, order_id: str) -> None:
        page = browser_page.page
        page.goto(f"/orders/{order_id}")
        wait_until_final(page)
        assert axe_violations(page) == []

        with page.expect_download() as pdf:
            page.get_by_role("link", name="Download PDF").click()
        assert pdf.value.suggested_filename.endswith("-pro.pdf")
        with page.expect_download() as receipt_pdf:
            page.get_by_role("link", name="Receipt as PDF").click()
        assert receipt_pdf.value.suggested_filename.startswith("receipt-")

        page.get_by_role("link", name="View the receipt").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Receipt")
        expect(page.locator("table")).to_contain_text("Pro")
        assert axe_violations(page) == []

        page.go_back()
        page.get_by_role("link", name="View the report").click()
        page.wait_for_load_state()
        assert f"/orders/{order_id}/reports/" in page.url
        assert page.locator("html").get_attribute("lang") == "fi"  # the order's language, as it was bought
        assert_clean(browser_page)

    def test_a_report_in_another_language(self, browser_page: BrowserPage, order_id: str) -> None:
        page = browser_page.page
        page.goto(f"/orders/{order_id}")
        wait_until_final(page)

        page.get_by_label("Language of the report").select_option("de")
        page.get_by_role("button", name="Make the report").click()
        german = page.locator(".order-task").filter(has_text="Deutsch")
        expect(german).to_have_count(1)
        expect(german.get_by_role("link", name="View the report")).to_be_visible(timeout=FINISH_SECONDS * 1000)
        german.get_by_role("link", name="View the report").click()
        page.wait_for_load_state()

        assert page.locator("html").get_attribute("lang") == "de"
        assert_clean(browser_page)

    def test_a_photo_and_its_preview(self, browser_page: BrowserPage, order_id: str) -> None:
        page = browser_page.page
        page.goto(f"/orders/{order_id}")
        wait_until_final(page)  # photos are decoded in the document pool, which the renders share

        page.get_by_label("Choose photos").set_input_files(
            [{"name": "car.png", "mimeType": "image/png", "buffer": png(320, 200)}]
        )
        page.get_by_role("button", name="Upload").click()
        preview = page.get_by_role("img", name="Photo 1 of your car")
        expect(preview).to_be_visible()
        page.wait_for_function("() => document.querySelector('.photo img').complete")
        assert preview.evaluate("image => image.naturalWidth") == 320  # the stored copy, served to the page
        assert axe_violations(page) == []

        page.get_by_label("Choose photos").set_input_files(
            [{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture at all"}]
        )
        page.get_by_role("button", name="Upload").click()
        expect(page.get_by_role("alert")).to_contain_text("Only JPEG and PNG photos can be added")
        assert axe_violations(page) == []

        # The refused upload's page answers 415, which Chromium notes; nothing else may be in the console.
        assert browser_page.console_errors == [
            "Failed to load resource: the server responded with a status of 415 (Unsupported Media Type)"
        ]
        browser_page.console_errors.clear()

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete photo").click()
        expect(page.get_by_role("img", name="Photo 1 of your car")).to_have_count(0)
        assert_clean(browser_page)

    def test_the_charging_invoices(self, browser_page: BrowserPage, order_id: str) -> None:
        page = browser_page.page
        page.goto(f"/orders/{order_id}/charging")

        expect(page.locator("table").first).to_contain_text("kWh")
        assert page.get_by_role("link", name="PDF invoice").count() > 0
        assert axe_violations(page) == []
        with page.expect_download() as csv_file:
            page.get_by_role("link", name="Charging history as CSV").first.click()
        assert csv_file.value.suggested_filename.endswith(".csv")
        assert_clean(browser_page)

    @pytest.mark.parametrize("locale", ["fi", "de"])
    def test_on_a_phone_nothing_overflows_sideways(self, browser_page: BrowserPage, order_id: str, locale: str) -> None:
        page = browser_page.page
        page.set_viewport_size({"width": 360, "height": 740})
        for path in (f"/orders/{order_id}", f"/orders/{order_id}/receipt", f"/orders/{order_id}/charging"):
            page.goto(f"{path}?lang={locale}")
            assert page.locator("html").get_attribute("lang") == locale
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
            assert axe_violations(page) == []
        assert_clean(browser_page)

    def test_an_unknown_order_is_a_page_that_says_so(self, browser_page: BrowserPage) -> None:
        page = browser_page.page
        response = page.goto("/orders/" + "x" * 43)

        assert response is not None
        assert response.status == 404
        expect(page.get_by_text("There is no order at this address")).to_be_visible()
        assert axe_violations(page) == []
