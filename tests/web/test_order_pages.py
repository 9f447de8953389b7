"""The order page over HTTP: what an order id opens (and nothing else), the live progress fragment, the
files it serves, and bad input explained as pages (never a 500)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.kit.i18n import format_money
from carpulse.report.pipeline import RENDER_JOB
from carpulse.report.service import reports
from carpulse.web.orders.endpoints import REPORT_CSP
from tests.connect.flow import sandbox_fake
from tests.kit.test_i18n import raw_message_ids
from tests.payment.flow import act_on_hosted_page, checkout, order, settle
from tests.report.flow import REPORTS_ON, paid_order, reports_of, settle_reports
from tests.report.test_photos_http import png
from tests.report.test_vehicle_waiting import OFFLINE, _paid_sleepy_order, _past_the_window
from tests.web.pages import HTML, csrf_of, get_page, post_form

pytestmark = pytest.mark.usefixtures("committed_app")

STATUS = re.compile(r'id="report-([A-Za-z0-9_-]+)" class="order-task" data-status="([a-z_]+)"')
FINNISH = {"accept-language": "fi"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return REPORTS_ON


def statuses(html: str) -> dict[str, str]:
    return dict(STATUS.findall(html))


def api_statuses(listing: dict[str, Any]) -> dict[str, str]:
    return {task["task_id"]: task["status"] for vehicle in listing["vehicles"] for task in vehicle["reports"]}


async def page(client: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    response = await get_page(client, path, **kwargs)
    assert response.status_code < 500, response.text
    assert raw_message_ids(response.text) == [], raw_message_ids(response.text)
    return response


class TestWhatAnOrderIdOpens:
    async def test_a_paid_order_shows_its_amounts_vehicles_and_finished_reports(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="pro")
        order_id = intent["order_id"]
        listing = await reports_of(committed_client, order_id)

        response = await page(committed_client, f"/orders/{order_id}", headers=FINNISH)

        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        quote = intent["quote"]
        assert format_money(quote["gross_cents"], quote["currency"], "fi") in response.text
        assert format_money(quote["vat_cents"], quote["currency"], "fi") in response.text
        assert "Toimitettu" in response.text  # fulfilled, in Finnish
        (vehicle,) = listing["vehicles"]
        (task,) = vehicle["reports"]
        assert vehicle["vin"] in response.text
        assert statuses(response.text) == {task["task_id"]: "complete"}
        assert f"/orders/{order_id}/reports/{task['task_id']}/pdf" in response.text
        assert f"/orders/{order_id}/receipt/pdf" in response.text
        assert 'hx-trigger="every' not in response.text  # every report final: nothing polls

    async def test_an_unknown_order_is_a_404_page(self, committed_client: httpx.AsyncClient) -> None:
        for path in ("/orders/" + "x" * 43, "/orders/" + "x" * 43 + "/progress", "/orders/" + "x" * 43 + "/receipt"):
            response = await page(committed_client, path)

            assert response.status_code == 404
            assert response.headers["content-type"].startswith("text/html")
            assert "There is no order at this address" in response.text

    async def test_a_malformed_order_id_is_a_page_not_json(self, committed_client: httpx.AsyncClient) -> None:
        response = await page(committed_client, "/orders/short")

        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")

    async def test_another_orders_report_is_404_under_this_order(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        mine = await paid_order(committed_client, committed_app, package="basic")
        theirs = await paid_order(committed_client, committed_app, package="basic", account="family")
        (their_task,) = (await reports_of(committed_client, theirs["order_id"]))["vehicles"][0]["reports"]

        for suffix in ("", "/pdf"):
            response = await page(
                committed_client, f"/orders/{mine['order_id']}/reports/{their_task['task_id']}{suffix}"
            )
            assert response.status_code == 404
            assert "This order has no report with this address" in response.text

    async def test_the_order_opens_after_the_connect_session_expired(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        state = committed_app.state.carpulse
        await state.ephemeral.delete(f"connect:session:{intent['session_id']}")
        gone = await committed_client.get(f"/api/v1/tesla/session/{intent['session_id']}/vehicles")
        assert gone.status_code == 404

        response = await page(committed_client, f"/orders/{intent['order_id']}")

        assert response.status_code == 200
        assert list(statuses(response.text).values()) == ["complete"]
        assert "/photos" in response.text


class TestLiveProgress:
    async def test_the_fragment_follows_the_apis_status_and_polls_until_final(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        state = committed_app.state.carpulse
        state.settings.report.start_on_payment = False
        try:
            intent = await paid_order(committed_client, committed_app, package="basic", account="family")
        finally:
            state.settings.report.start_on_payment = True
        order_id = intent["order_id"]
        # The reports exist and wait in the queue: the page and the API see the same still picture.
        async with state.sessionmaker() as db:
            queued = await reports.create_for_order(db, state, order_id)
            await db.commit()

        before = await page(committed_client, f"/orders/{order_id}/progress")
        listing = await reports_of(committed_client, order_id)
        assert before.status_code == 200
        assert "<html" not in before.text  # a fragment, not a page
        assert statuses(before.text) == api_statuses(listing)
        assert sorted(statuses(before.text)) == sorted(queued)
        assert set(statuses(before.text).values()) == {"queued"}
        assert f'hx-get="/orders/{order_id}/progress" hx-trigger="every 2s"' in before.text
        assert "Refresh to see the progress" in before.text  # the way without JavaScript
        assert "0 of 3 reports ready" in before.text

        for report_id in queued:
            await state.jobs.enqueue(RENDER_JOB, report_id=report_id)
        await settle_reports(committed_app)
        after = await page(committed_client, f"/orders/{order_id}/progress")

        listing = await reports_of(committed_client, order_id)
        assert statuses(after.text) == api_statuses(listing)
        assert set(statuses(after.text).values()) == {"complete"}
        assert "hx-trigger" not in after.text
        assert "3 of 3 reports ready" in after.text
        # The summary also goes, out of band, to the page's live region (which stays, so it is announced once).
        assert '<span id="progress-announce" hx-swap-oob="innerHTML">3 of 3 reports ready' in after.text
        assert after.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")


class TestReportFiles:
    async def test_report_html_pdf_and_receipt_with_their_content_types(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="pro")
        order_id = intent["order_id"]
        (vehicle,) = (await reports_of(committed_client, order_id))["vehicles"]
        (task,) = vehicle["reports"]
        base = f"/orders/{order_id}"

        html = await committed_client.get(f"{base}/reports/{task['task_id']}")
        pdf = await committed_client.get(f"{base}/reports/{task['task_id']}/pdf")
        receipt = await page(committed_client, f"{base}/receipt")
        receipt_pdf = await committed_client.get(f"{base}/receipt/pdf")
        credit_note = await page(committed_client, f"{base}/credit-note/pdf")

        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        assert html.headers["content-security-policy"] == REPORT_CSP
        assert vehicle["vin"] in html.text
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("attachment")
        assert pdf.content.startswith(b"%PDF")
        number = (await committed_client.get(f"/api/v1/payment/receipt/{order_id}")).json()["number"]
        assert receipt.status_code == 200
        assert number in receipt.text
        assert format_money(intent["quote"]["gross_cents"], intent["quote"]["currency"], "en") in receipt.text
        assert receipt_pdf.headers["content-type"] == "application/pdf"
        assert receipt_pdf.content.startswith(b"%PDF")
        assert credit_note.status_code == 404
        assert "no credit note" in credit_note.text

    async def test_a_report_in_another_language_is_queued_and_followed(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        order_id = intent["order_id"]
        (vehicle,) = (await reports_of(committed_client, order_id))["vehicles"]

        asked = await post_form(
            committed_client,
            f"/orders/{order_id}/reports",
            {"vin": vehicle["vin"], "locale": "de"},
            from_page=f"/orders/{order_id}",
            headers={"accept-language": "de"},
        )

        assert asked.status_code == 303
        tasks = (await reports_of(committed_client, order_id))["vehicles"][0]["reports"]
        (german,) = [task for task in tasks if task["locale"] == "de"]
        assert asked.headers["location"] == f"/orders/{order_id}#report-{german['task_id']}"
        waiting = await page(committed_client, f"/orders/{order_id}/progress")
        assert statuses(waiting.text)[german["task_id"]] in {"queued", "processing", "uploading"}
        assert "hx-trigger" in waiting.text
        await settle_reports(committed_app)
        html = await committed_client.get(f"/orders/{order_id}/reports/{german['task_id']}")
        assert html.status_code == 200
        assert '<html lang="de"' in html.text

    async def test_an_unsupported_language_is_explained(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]

        response = await post_form(
            committed_client,
            f"/orders/{intent['order_id']}/reports",
            {"vin": vin, "locale": "xx"},
            from_page=f"/orders/{intent['order_id']}",
        )

        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")
        assert "locale" in response.text

    async def test_a_form_without_its_csrf_token_is_refused(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")

        response = await committed_client.post(
            f"/orders/{intent['order_id']}/data-sharing", data={"sharing": "vehicle_data"}, headers=HTML
        )

        assert response.status_code == 403
        sharing = await committed_client.get(f"/api/v1/orders/{intent['order_id']}/data-sharing")
        assert sharing.json()["sharing"] == "private"


class TestPhotos:
    async def test_upload_shows_a_preview_and_delete_removes_it(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        base = f"/orders/{intent['order_id']}"
        token = csrf_of(await get_page(committed_client, base))
        origin = {"origin": "http://testserver"} | HTML

        uploaded = await committed_client.post(
            f"{base}/photos",
            data={"csrf_token": token},
            files=[("files", ("car.png", png(), "image/png"))],
            headers=origin,
        )
        assert uploaded.status_code == 303, uploaded.text
        shown = await page(committed_client, base)
        photos = (await committed_client.get(f"/api/v1/tesla/orders/{intent['order_id']}/photos")).json()["photos"]
        (photo,) = photos
        thumbnail = re.search(r'<img src="([^"]+)" alt="Photo 1 of your car"', shown.text)
        assert thumbnail is not None
        image = await committed_client.get(thumbnail.group(1).replace("&amp;", "&"))
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"

        deleted = await committed_client.post(
            f"{base}/photos/{photo['id']}/delete", data={"csrf_token": token}, headers=origin
        )
        assert deleted.status_code == 303
        assert (await committed_client.get(f"/api/v1/tesla/orders/{intent['order_id']}/photos")).json()["photos"] == []
        again = await committed_client.post(
            f"{base}/photos/{photo['id']}/delete", data={"csrf_token": token}, headers=origin
        )
        assert again.status_code == 404
        assert "This photo is no longer here" in again.text

    @pytest.mark.parametrize(
        ("name", "content", "status", "message"),
        [
            ("notes.txt", b"just some text, not a picture", 415, "Only JPEG and PNG photos can be added"),
            ("huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (15 * 1024 * 1024 + 8), 413, "larger than 15 MB"),
            ("wide.png", png(10_000, 5_000, mode="1"), 422, "too many pixels"),
            ("empty.png", b"", 422, "No photo was chosen"),
        ],
    )
    async def test_a_bad_upload_is_explained_on_the_page(
        self,
        committed_client: httpx.AsyncClient,
        committed_app: FastAPI,
        name: str,
        content: bytes,
        status: int,
        message: str,
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        base = f"/orders/{intent['order_id']}"
        token = csrf_of(await get_page(committed_client, base))

        response = await committed_client.post(
            f"{base}/photos",
            data={"csrf_token": token},
            files=[("files", (name, content, "image/png"))],
            headers={"origin": "http://testserver"} | HTML,
        )

        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert message in response.text
        assert 'role="alert" id="photo-error"' in response.text
        assert (await committed_client.get(f"/api/v1/tesla/orders/{intent['order_id']}/photos")).json()["photos"] == []


class TestDataSharing:
    async def test_the_choice_is_saved_and_shown(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        base = f"/orders/{intent['order_id']}"

        saved = await post_form(
            committed_client, f"{base}/data-sharing", {"sharing": "model_statistics"}, from_page=base
        )
        bad = await post_form(committed_client, f"{base}/data-sharing", {"sharing": "everything"}, from_page=base)

        assert saved.status_code == 303
        assert (await committed_client.get(f"/api/v1/orders/{intent['order_id']}/data-sharing")).json()[
            "sharing"
        ] == "model_statistics"
        shown = await page(committed_client, saved.headers["location"])
        assert 'value="model_statistics" checked' in shown.text
        assert "Your choice is saved" in shown.text
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("text/html")


class TestChargingInvoices:
    async def test_the_table_single_pdfs_zips_and_csv(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        order_id = intent["order_id"]
        vin = (await reports_of(committed_client, order_id))["vehicles"][0]["vin"]
        api = (await committed_client.get(f"/api/v1/tesla/orders/{order_id}/vehicles/{vin}/charging-invoices")).json()

        table = await page(committed_client, f"/orders/{order_id}/charging")

        assert table.status_code == 200
        first = api["sessions"][0]
        assert first["site"] in table.text
        assert format_money(first["total_minor"], first["currency"], "en") in table.text
        link = f"/orders/{order_id}/charging/{vin}/invoices/{first['invoices'][0]['invoice_id']}.pdf"
        assert link in table.text
        invoice = await committed_client.get(link)
        assert invoice.status_code == 200
        assert invoice.headers["content-type"] == "application/pdf"
        assert invoice.content.startswith(b"%PDF-")
        csv_file = await committed_client.get(f"/orders/{order_id}/charging/{vin}.csv")
        assert csv_file.headers["content-type"].startswith("text/csv")
        assert csv_file.headers["content-disposition"].startswith("attachment")
        for path in (f"/orders/{order_id}/charging/{vin}.zip", f"/orders/{order_id}/charging.zip"):
            archive = await committed_client.get(path)
            assert archive.status_code == 200
            assert archive.headers["content-type"] == "application/zip"
            assert "ledger.csv" in zipfile.ZipFile(io.BytesIO(archive.content)).namelist()

    async def test_an_unknown_invoice_and_another_vin_are_404_pages(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        order_id = intent["order_id"]
        vin = (await reports_of(committed_client, order_id))["vehicles"][0]["vin"]

        unknown = await page(committed_client, f"/orders/{order_id}/charging/{vin}/invoices/nope.pdf")
        other = await page(committed_client, f"/orders/{order_id}/charging/5YJ3E7EB2KF000000.csv")

        assert unknown.status_code == 404
        assert other.status_code == 404
        assert unknown.headers["content-type"].startswith("text/html")


class TestUnpaidOrders:
    async def test_a_pending_and_a_declined_payment_say_what_to_do(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        pending = await checkout(committed_client, "stripe", account="solo", package="basic")
        declined = await checkout(committed_client, "stripe", account="family", package="basic")
        await act_on_hosted_page(committed_client, declined["redirect_url"], "decline")
        await settle(committed_app)
        assert (await order(committed_client, declined["order_id"]))["status"] == "failed"

        waiting = await page(committed_client, f"/orders/{pending['order_id']}")
        refused = await page(committed_client, f"/orders/{declined['order_id']}")

        assert waiting.status_code == refused.status_code == 200
        assert "We have not received the payment" in waiting.text
        assert "The payment was declined" in refused.text, refused.text[refused.text.index("<main") :]
        assert "/photos" not in refused.text
        assert "/receipt" not in refused.text


class TestFailures:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return REPORTS_ON | {
            "report": {
                "start_on_payment": True,
                "retry_window_seconds": 3600,
                "retry_seconds": [30.0, 600.0],
                "wake_budget_seconds": 0,
            },
            "tesla": {"max_retries": 0},
        }

    async def test_a_car_that_stays_offline_waits_then_fails_and_the_order_is_refunded(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await _paid_sleepy_order(committed_client, committed_app, OFFLINE)
        base = f"/orders/{intent['order_id']}"

        waiting = await page(committed_client, base)
        assert list(statuses(waiting.text).values()) == ["waiting_for_vehicle"]
        assert "Your car is asleep or offline" in waiting.text
        assert "Open the Tesla app" in waiting.text
        assert "the payment is refunded in full" in waiting.text
        assert "Take the report now with what was readable" in waiting.text
        assert 'hx-trigger="every 15s"' in waiting.text

        await _past_the_window(committed_app, intent["order_id"])
        refunded = await page(committed_client, base)

        assert refunded.status_code == 200
        assert "This order was refunded" in refunded.text
        assert f"{base}/credit-note/pdf" in refunded.text
        assert "/photos" not in refunded.text  # a refunded order opens nothing any more
        note = await committed_client.get(f"{base}/credit-note/pdf")
        assert note.headers["content-type"] == "application/pdf"
        receipt = await page(committed_client, f"{base}/receipt")
        assert "cancels this receipt" in receipt.text
        closed = await page(committed_client, f"{base}/charging")
        assert closed.status_code == 404

    async def test_a_waiting_report_can_be_taken_with_what_was_readable(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await _paid_sleepy_order(committed_client, committed_app, OFFLINE)
        base = f"/orders/{intent['order_id']}"
        (task_id,) = statuses((await page(committed_client, base)).text)

        taken = await post_form(committed_client, f"{base}/reports/{task_id}/partial", {}, from_page=base)
        await settle_reports(committed_app)

        assert taken.status_code == 303
        done = await page(committed_client, base)
        assert statuses(done.text) == {task_id: "complete"}
        assert "Delivered with what the car gave" in done.text


class TestVendorOutage:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        # One try, no reuse of the car's data: a language asked for reads the car again, and Tesla fails.
        return REPORTS_ON | {
            "report": {"start_on_payment": True, "max_attempts": 1, "snapshot_max_age_seconds": 0},
            "tesla": {"max_retries": 0},
        }

    async def test_a_report_the_vendor_failed_says_so_and_what_to_do(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        base = f"/orders/{intent['order_id']}"
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]
        sandbox_fake(committed_app).set_fault("solo", error_rate=1.0)

        asked = await post_form(committed_client, f"{base}/reports", {"vin": vin, "locale": "sv"}, from_page=base)
        await settle_reports(committed_app)

        assert asked.status_code == 303
        shown = await page(committed_client, base)
        listing = await reports_of(committed_client, intent["order_id"])
        assert statuses(shown.text) == api_statuses(listing)
        assert sorted(statuses(shown.text).values()) == ["complete", "failed"]
        assert "The car maker’s service did not answer in time" in shown.text
        assert "ask for this language again below" in shown.text
        assert "Delivered" in shown.text  # the paid-for report was delivered: the order stays fulfilled
        assert 'hx-trigger="every' not in shown.text
