"""The admin's pages over HTTP: who may open them, vouchers and their uses, orders and re-running a report,
Data API clients and plans, the reconciler's rounds; and the admin API endpoints the pages share services with."""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from carpulse import consumer
from carpulse.consumer import reconcile_once
from carpulse.models import Report, ReportStatus
from carpulse.plan.service import standing_cache
from carpulse.reconcile_run.service import KEPT_DAYS, reconcile_runs
from carpulse.worker import Schedule
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.data_api.flow import data_client
from tests.data_api.test_metering import STATIC
from tests.payment.flow import act_on_hosted_page, checkout, settle
from tests.report.flow import REPORTS_ON, paid_order
from tests.web.pages import HTML, get_page, post_form

ADMIN_PAGES = ["/admin", "/admin/vouchers", "/admin/vouchers/new", "/admin/orders", "/admin/clients", "/admin/plans"]
ADMIN_PAGES += ["/admin/reconciler"]


async def sign_in_admin(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/login", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_voucher_form(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    data = {"code": "AUTUMN-30X", "kind": "percent", "value": "30", "active": "1"} | fields
    return await post_form(client, "/admin/vouchers", data, from_page="/admin/vouchers/new")


def field_error(page: str, name: str) -> str:
    """The error text shown under a form field (the field is marked invalid too)."""
    assert re.search(rf'id="field-{name}"[^>]*aria-invalid="true"', page, re.S), f"{name} is not marked invalid"
    match = re.search(rf'<p class="field-error" id="error-{name}">([^<]+)</p>', page)
    assert match, f"no error under {name}"
    return match.group(1)


class TestWhoMayOpen:
    @pytest.mark.parametrize("path", ADMIN_PAGES)
    async def test_without_a_sign_in_the_page_sends_to_the_sign_in(self, client: httpx.AsyncClient, path: str) -> None:
        response = await get_page(client, path)

        assert response.status_code == 303
        assert response.headers["location"] == "/login?" + httpx.QueryParams({"next": path}).__str__()

    async def test_a_data_api_clients_sign_in_gets_a_page_saying_it_is_not_for_them(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        business = await data_client(app, client)
        client.cookies.set("cp_session", business.token)

        for path in ("/admin", "/admin/vouchers", "/admin/orders"):
            response = await get_page(client, path)
            assert response.status_code == 403
            assert response.headers["content-type"].startswith("text/html")
            assert "Vouchers" not in response.text

    async def test_the_admin_signs_in_on_the_shared_page_and_lands_on_the_overview(
        self, client: httpx.AsyncClient
    ) -> None:
        await sign_in_admin(client)

        response = await get_page(client, "/admin", headers={"accept-language": "fi"})
        assert response.status_code == 200
        assert '<html lang="fi">' in response.text
        assert "Alennuskoodit" in response.text
        assert "Ylläpito" in response.text

    @pytest.mark.parametrize(
        "path",
        [
            "/admin/vouchers",
            "/admin/vouchers/00000000-0000-0000-0000-000000000000",
            "/admin/vouchers/00000000-0000-0000-0000-000000000000/deactivate",
            "/admin/reports/aaaaaaaaaaaaaaaaaaaaaaaa/rerun",
            "/admin/clients/00000000-0000-0000-0000-000000000000/suspend",
            "/admin/clients/00000000-0000-0000-0000-000000000000/reinstate",
            "/admin/clients/00000000-0000-0000-0000-000000000000/plan",
            "/admin/plans",
            "/admin/plans/basic",
        ],
    )
    async def test_every_form_post_needs_the_csrf_token(self, client: httpx.AsyncClient, path: str) -> None:
        await sign_in_admin(client)
        await get_page(client, "/admin")  # the browser has its CSRF cookie

        response = await client.post(path, data={"code": "WINTER-2027", "reason": "x"}, headers=HTML)

        assert response.status_code == 403
        assert "text/html" in response.headers["content-type"]


class TestVouchers:
    async def test_create_then_list_and_the_api_sees_the_same_voucher(
        self, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await sign_in_admin(client)

        created = await create_voucher_form(
            client, max_redemptions="50", max_per_customer="1", packages="pro", valid_until="2030-01-31T12:00"
        )
        assert created.status_code == 303
        assert created.headers["location"].endswith("?saved=created")

        listed = (await client.get("/api/v1/pricing/vouchers", headers=bearer(admin_token))).json()
        assert [v["code"] for v in listed] == ["AUTUMN-30X"]
        voucher = listed[0]
        assert voucher["percent_off"] == "30"
        assert voucher["max_redemptions"] == 50
        assert voucher["max_per_customer"] == 1
        assert voucher["packages"] == ["pro"]
        assert voucher["valid_until"].startswith("2030-01-31T12:00:00")

        page = await get_page(client, "/admin/vouchers")
        assert "AUTUMN-30X" in page.text
        assert "30% off" in page.text
        assert "0 of 50" in page.text

        detail = await get_page(client, created.headers["location"])
        assert "The voucher is created." in detail.text
        assert "No order has used this voucher yet." in detail.text

    async def test_a_fixed_amount_voucher_is_stored_in_cents(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await sign_in_admin(client)

        created = await create_voucher_form(client, code="FIXED-10EUR", kind="fixed", value="10,50", min_amount="20")
        assert created.status_code == 303

        voucher = (await client.get("/api/v1/pricing/vouchers", headers=bearer(admin_token))).json()[0]
        assert (voucher["kind"], voucher["amount_off_cents"], voucher["percent_off"]) == ("fixed", 1050, None)
        assert voucher["min_amount_cents"] == 2000

    async def test_a_duplicate_code_re_renders_the_form_naming_the_code(
        self, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        await sign_in_admin(client)
        assert (await create_voucher_form(client)).status_code == 303

        again = await create_voucher_form(client, code="autumn-30x", value="15")

        assert again.status_code == 409
        assert "Another voucher already has this code" in field_error(again.text, "code")
        assert 'value="15"' in again.text  # what was typed stays
        assert len((await client.get("/api/v1/pricing/vouchers", headers=bearer(admin_token))).json()) == 1

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"value": "-5"}, "value", "Enter a discount above 0"),
            ({"value": "150"}, "value", "Enter a discount above 0"),
            ({"value": ""}, "value", "Enter a discount above 0"),
            ({"value": "ten"}, "value", "Enter a discount above 0"),
            ({"kind": "fixed", "value": "-1"}, "value", "Enter a discount above 0"),
            ({"kind": "fixed", "value": "1.005"}, "value", "Enter a discount above 0"),
            ({"code": "ABCDEFGH"}, "code", "not a run like ABCDEFGH"),
            ({"code": "short"}, "code", "Use 8 to 64"),
            ({"max_redemptions": "0"}, "max_redemptions", "Enter a whole number of 1 or more"),
            ({"max_per_customer": "many"}, "max_per_customer", "Enter a whole number of 1 or more"),
            ({"min_amount": "-3"}, "min_amount", "Enter an amount of 0 or more"),
            ({"valid_from": "tomorrow"}, "valid_from", "Enter a date and time"),
            (
                {"valid_from": "2030-02-01T00:00", "valid_until": "2030-01-01T00:00"},
                "valid_until",
                "The end must come after the start",
            ),
        ],
    )
    async def test_bad_input_re_renders_the_form_naming_the_field(
        self, client: httpx.AsyncClient, admin_token: str, fields: dict[str, str], field: str, message: str
    ) -> None:
        await sign_in_admin(client)

        response = await create_voucher_form(client, **fields)

        assert response.status_code == 422
        assert message in field_error(response.text, field)
        assert "Some fields need fixing" in response.text
        assert (await client.get("/api/v1/pricing/vouchers", headers=bearer(admin_token))).json() == []

    async def test_edit_then_switch_off(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await sign_in_admin(client)
        location = (await create_voucher_form(client)).headers["location"].split("?")[0]

        edited = await post_form(client, location, {"max_redemptions": "5", "active": "1", "packages": "basic"})
        assert edited.status_code == 303
        voucher = (await client.get("/api/v1/pricing/vouchers", headers=bearer(admin_token))).json()[0]
        assert (voucher["max_redemptions"], voucher["packages"], voucher["active"]) == (5, ["basic"], True)

        bad = await post_form(client, location, {"max_redemptions": "-2", "active": "1"})
        assert bad.status_code == 422
        assert "Enter a whole number" in field_error(bad.text, "max_redemptions")

        off = await post_form(client, location + "/deactivate", {}, from_page=location)
        assert off.status_code == 303
        voucher = (await client.get("/api/v1/pricing/vouchers", headers=bearer(admin_token))).json()[0]
        assert voucher["active"] is False
        assert "switched off" in (await get_page(client, location)).text

    @pytest.mark.parametrize("voucher_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
    async def test_an_unknown_voucher_is_a_404_page(self, client: httpx.AsyncClient, voucher_id: str) -> None:
        await sign_in_admin(client)

        response = await get_page(client, f"/admin/vouchers/{voucher_id}")

        assert response.status_code == 404
        assert "There is no voucher at this address." in response.text
        assert 'href="/admin/vouchers"' in response.text


class TestVoucherUses:
    async def test_an_order_that_used_the_voucher_is_listed_with_its_amounts(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await sign_in_admin(client)
        location = (await create_voucher_form(client, value="25")).headers["location"].split("?")[0]

        intent = await checkout(client, "stripe", voucher="AUTUMN-30X")
        assert intent["quote"]["discount_cents"] == 475  # 25 % of 19.00
        assert intent["amount_cents"] == 1425

        voucher_id = location.rsplit("/", 1)[1]
        uses = (
            await client.get(f"/api/v1/pricing/vouchers/{voucher_id}/uses", headers=bearer(admin_token_committed))
        ).json()
        assert [(u["order_id"], u["state"], u["gross_cents"]) for u in uses["uses"]] == [
            (intent["order_id"], "reserved", 1425)
        ]
        page = await get_page(client, location)
        assert intent["reference"] in page.text
        assert "reserved at checkout" in page.text
        assert "€14.25" in page.text

        await act_on_hosted_page(client, intent["redirect_url"], "pay")
        await settle(committed_app)
        page = await get_page(client, location)
        assert "confirmed (paid)" in page.text
        assert f'href="/admin/orders/{intent["order_id"]}"' in page.text

    async def test_uses_of_an_unknown_voucher_answer_404_and_need_an_admin(
        self, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        path = "/api/v1/pricing/vouchers/00000000-0000-0000-0000-000000000000/uses"
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=bearer(admin_token))).status_code == 404


class TestOrders:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return REPORTS_ON

    async def test_the_list_searches_filters_and_links_each_order(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        paid = await paid_order(client, committed_app, package="basic")
        pending = await checkout(client, "paypal", account="family", package="pro")
        await sign_in_admin(client)

        everything = await get_page(client, "/admin/orders")
        assert everything.status_code == 200
        assert paid["reference"] in everything.text
        assert pending["reference"] in everything.text
        assert "2 orders · page 1 of 1" in everything.text

        only_pending = await get_page(client, "/admin/orders?status=pending_payment")
        assert pending["reference"] in only_pending.text
        assert paid["reference"] not in only_pending.text

        by_id = await get_page(client, f"/admin/orders?q={paid['order_id'][:10]}")
        assert paid["reference"] in by_id.text
        assert pending["reference"] not in by_id.text

        api = await client.get(
            "/api/v1/admin/orders", params={"provider": "paypal"}, headers=bearer(admin_token_committed)
        )
        assert api.status_code == 200
        assert [o["id"] for o in api.json()["orders"]] == [pending["order_id"]]
        assert api.json()["total"] == 1

    async def test_the_order_page_shows_amounts_history_and_reports(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        paid = await paid_order(client, committed_app, package="basic")
        await sign_in_admin(client)

        page = await get_page(client, f"/admin/orders/{paid['order_id']}")

        assert page.status_code == 200
        assert "€19.00" in page.text
        assert "webhook:stripe" in page.text  # the transition's actor
        detail = await client.get(f"/api/v1/admin/orders/{paid['order_id']}", headers=bearer(admin_token_committed))
        body = detail.json()
        assert [t["to_status"] for t in body["transitions"]][:2] == ["pending_payment", "paid"]
        assert body["gross_cents"] == 1900
        assert body["net_cents"] + body["vat_cents"] == 1900
        reports = (
            await client.get(f"/api/v1/admin/orders/{paid['order_id']}/reports", headers=bearer(admin_token_committed))
        ).json()["reports"]
        assert reports
        for report in reports:
            assert report["vin"] in page.text

    async def test_a_failed_report_runs_again_from_the_order_page(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        paid = await paid_order(client, committed_app, package="basic")
        state = committed_app.state.carpulse
        reports = (
            await client.get(f"/api/v1/admin/orders/{paid['order_id']}/reports", headers=bearer(admin_token_committed))
        ).json()["reports"]
        report_id = reports[0]["id"]
        async with state.sessionmaker() as db:
            await db.execute(
                update(Report)
                .where(Report.id == report_id)
                .values(status=ReportStatus.failed, failure_reason="Tesla answered 503 five times", attempts=3)
            )
            await db.commit()
        await sign_in_admin(client)
        failing = await get_page(client, "/admin/orders?failed=1")
        assert paid["reference"] in failing.text
        overview = await get_page(client, "/admin")
        assert "1 reports have failed." in overview.text
        page = await get_page(client, f"/admin/orders/{paid['order_id']}")
        assert "Tesla answered 503 five times" in page.text
        assert f'action="/admin/reports/{report_id}/rerun"' in page.text

        rerun = await post_form(client, f"/admin/reports/{report_id}/rerun", {}, from_page=page.url.path)
        assert rerun.status_code == 303
        await settle(committed_app)

        after = (
            await client.get(f"/api/v1/admin/orders/{paid['order_id']}/reports", headers=bearer(admin_token_committed))
        ).json()["reports"]
        api_failing = await client.get(
            "/api/v1/admin/orders", params={"failed_reports": "true"}, headers=bearer(admin_token_committed)
        )
        assert api_failing.json()["orders"] == []
        again = next(r for r in after if r["id"] == report_id)
        assert again["status"] in ("queued", "processing", "uploading", "complete")
        assert again["failure_reason"] is None
        assert again["attempts"] <= 1

        # Not failed any more: a second re-run is refused, on the page and in the API.
        refused = await post_form(client, f"/admin/reports/{report_id}/rerun", {}, from_page=page.url.path)
        assert refused.status_code == 409
        assert "Only a failed report of a paid order can run again" in refused.text
        api = await client.post(f"/api/v1/admin/reports/{report_id}/rerun", headers=bearer(admin_token_committed))
        assert api.status_code == 409
        assert api.json()["type"] == "/problems/report-not-rerunnable"

    async def test_an_unknown_order_is_a_404_page_and_the_api_needs_an_admin(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/admin/orders")).status_code == 401
        await sign_in_admin(client)

        response = await get_page(client, "/admin/orders/" + "x" * 43)
        assert response.status_code == 404
        assert "There is no order at this address." in response.text

        bad_page = await get_page(client, "/admin/orders?page=0")
        assert bad_page.status_code == 422
        assert "text/html" in bad_page.headers["content-type"]


class TestDataApiClients:
    async def test_move_suspend_and_reinstate_a_client(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        business = await data_client(app, client)
        await sign_in_admin(client)
        listing = await get_page(client, "/admin/clients")
        assert business.email in listing.text
        base = f"/admin/clients/{business.account_id}"

        no_reason = await post_form(client, f"{base}/suspend", {"reason": "  "}, from_page="/admin/clients")
        assert no_reason.status_code == 422
        assert "Give a reason of 1 to 500 characters." in no_reason.text

        unknown_plan = await post_form(client, f"{base}/plan", {"plan": "gold-x"}, from_page="/admin/clients")
        assert unknown_plan.status_code == 422
        assert "Choose a plan from the list." in unknown_plan.text

        plans = (await client.get("/api/v1/admin/plans", headers=bearer(admin_token))).json()["plans"]
        other = next(plan["code"] for plan in plans if not plan["is_default"])
        moved = await post_form(client, f"{base}/plan", {"plan": other}, from_page="/admin/clients")
        assert moved.status_code == 303
        suspended = await post_form(client, f"{base}/suspend", {"reason": "unpaid invoice"}, from_page="/admin/clients")
        assert suspended.status_code == 303

        clients = (await client.get("/api/v1/admin/data-clients", headers=bearer(admin_token))).json()["clients"]
        mine = next(c for c in clients if c["account_id"] == business.account_id)
        assert (mine["plan"], mine["suspended_reason"]) == (other, "unpaid invoice")
        refused = await client.get(STATIC, headers=business.by_key)
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/client-suspended")

        reinstated = await post_form(client, f"{base}/reinstate", {}, from_page="/admin/clients")
        assert reinstated.status_code == 303
        clients = (await client.get("/api/v1/admin/data-clients", headers=bearer(admin_token))).json()["clients"]
        assert next(c for c in clients if c["account_id"] == business.account_id)["suspended_at"] is None

        standing_cache(app.state.carpulse).clear()  # as the replica's cache lifetime passing would
        assert (await client.get(STATIC, headers=business.by_key)).status_code == 200
        detail = await get_page(client, base)
        assert detail.status_code == 200
        assert "1 calls, 1 billable units" in detail.text
        assert re.findall(r"<tr><td>([^<]*)</td>", detail.text)[1:] == ["vehicle.static"]  # by day, by endpoint
        assert "No invoices yet." in detail.text

    @pytest.mark.parametrize("account_id", ["00000000-0000-0000-0000-000000000000", "nope"])
    async def test_an_unknown_client_is_a_404_page(self, client: httpx.AsyncClient, account_id: str) -> None:
        await sign_in_admin(client)
        response = await get_page(client, f"/admin/clients/{account_id}")
        assert response.status_code == 404
        assert "There is no Data API client at this address." in response.text

    async def test_an_admin_is_not_a_data_api_client(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await sign_in_admin(client)
        me = (await client.get("/api/v1/auth/me", headers={"cookie": ""})).status_code
        assert me == 401
        admins = await get_page(client, "/admin/clients")
        assert ADMIN_USERNAME + "<" not in admins.text


class TestPlans:
    async def test_create_edit_and_refuse_bad_plans(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await sign_in_admin(client)
        form = {"code": "fleet-2027", "name": "Fleet 2027", "daily_quota": "5000", "unit_price_minor": "2"}
        created = await post_form(client, "/admin/plans", form | {"burst_per_second": "20"})
        assert created.status_code == 303
        assert created.headers["location"] == "/admin/plans/fleet-2027?saved=created"

        plans = (await client.get("/api/v1/admin/plans", headers=bearer(admin_token))).json()["plans"]
        fleet = next(plan for plan in plans if plan["code"] == "fleet-2027")
        assert fleet["current"] | {"effective_from": None} == {
            "effective_from": None,
            "daily_quota": 5000,
            "unit_price_minor": 2,
            "burst_per_second": 20,
        }

        taken = await post_form(client, "/admin/plans", form | {"burst_per_second": "20"})
        assert taken.status_code == 409
        assert "Another plan already has this code." in field_error(taken.text, "code")

        bad = await post_form(client, "/admin/plans", form | {"code": "Fleet!", "burst_per_second": "0"})
        assert bad.status_code == 422
        assert "lower-case letters" in field_error(bad.text, "code")
        assert "whole number" in field_error(bad.text, "burst_per_second")

        negative = await post_form(client, "/admin/plans", form | {"code": "cheap", "unit_price_minor": "-1"})
        assert negative.status_code == 422
        assert "whole number of cents" in field_error(negative.text, "unit_price_minor")

        edited = await post_form(
            client,
            "/admin/plans/fleet-2027",
            {"name": "Fleet", "daily_quota": "", "unit_price_minor": "3", "burst_per_second": "20"},
        )
        assert edited.status_code == 303
        plans = (await client.get("/api/v1/admin/plans", headers=bearer(admin_token))).json()["plans"]
        fleet = next(plan for plan in plans if plan["code"] == "fleet-2027")
        assert fleet["name"] == "Fleet"
        assert fleet["current"]["unit_price_minor"] == 2  # today's terms stay
        assert (fleet["scheduled"]["unit_price_minor"], fleet["scheduled"]["daily_quota"]) == (3, None)

        assert (await get_page(client, "/admin/plans/no-such")).status_code == 404


class TestReconciler:
    async def test_each_round_is_recorded_and_shown(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        client = committed_client
        await sign_in_admin(client)
        empty = await get_page(client, "/admin/reconciler")
        assert "No round recorded yet" in empty.text

        await reconcile_once(committed_app.state.carpulse)

        runs = (await client.get("/api/v1/admin/reconcile-runs", headers=bearer(admin_token_committed))).json()
        assert len(runs["runs"]) == 1
        run = runs["runs"][0]
        assert "report.requeue_lost" in run["found"]
        assert run["failed"] == {}
        assert run["finished_at"] >= run["started_at"]
        page = await get_page(client, "/admin/reconciler")
        assert run["process"] in page.text
        overview = await get_page(client, "/admin")
        assert "Last round" in overview.text
        only_found = (
            await client.get(
                "/api/v1/admin/reconcile-runs", params={"only_found": "true"}, headers=bearer(admin_token_committed)
            )
        ).json()
        assert only_found["runs"] == ([] if run["total_found"] == 0 else [run])

    async def test_a_round_records_a_failing_sweep_and_old_rounds_are_forgotten(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        state = app.state.carpulse

        async def finds_two(_: object) -> int:
            return 2

        async def breaks(_: object) -> int:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(
            consumer,
            "registered_schedules",
            lambda: [Schedule("finds", finds_two, None), Schedule("breaks", breaks, None)],
        )
        async with state.sessionmaker() as db:
            old = state.clock.now() - timedelta(days=KEPT_DAYS, minutes=1)
            await reconcile_runs.record(db, old, old, {"finds": 1}, {})
            await db.commit()

        # The test's requests and the rounds share one database connection: let one round run and record itself,
        # then stop the loop while it sleeps towards the next (never mid-write), then read.
        recorded = asyncio.Event()
        record_round = consumer._record_round

        async def record_and_tell(*args: Any) -> None:
            await record_round(*args)
            recorded.set()

        monkeypatch.setattr(consumer, "_record_round", record_and_tell)
        rounds = asyncio.create_task(consumer.reconcile_forever(state, 3600, sweep_at_start=True))
        await asyncio.wait_for(recorded.wait(), timeout=30)
        rounds.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await rounds
        body = (await client.get("/api/v1/admin/reconcile-runs", headers=bearer(admin_token))).json()

        latest = body["runs"][0]
        assert latest["found"] == {"finds": 2}
        assert latest["failed"] == {"breaks": "RuntimeError: the database went away"}
        assert latest["total_found"] == 2
        assert all(run["started_at"] > old.isoformat() for run in body["runs"])  # the old round is gone
        await sign_in_admin(client)
        page = await get_page(client, "/admin/reconciler?found=1")
        assert "the database went away" in page.text
