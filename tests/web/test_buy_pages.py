"""Buying reports through the pages over HTTP: packages, connect, vehicles with pictures, the quote (the same
as the API's), paying, and every failure as a page in the reader's language."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from carpulse.kit.i18n import format_money
from carpulse.models.order import order_reference
from carpulse.provider.tesla.adapter import to_summary
from carpulse.provider.tesla.schemas import TeslaVehicle
from carpulse.web.reports.pictures import picture_url
from tests.payment.flow import act_on_hosted_page, order, settle
from tests.pricing.test_pricing_http import create_voucher
from tests.web.pages import HTML, csrf_of, get_page, post_form

_TOTAL = re.compile(r'data-total="(\w+)">([^<]+)<')
_VIN = re.compile(r'name="vins" value="([A-Z0-9]{17})"')


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def connect_through_pages(client: httpx.AsyncClient, account: str = "family", *, deny: bool = False) -> str:
    """Press the start page's connect button, answer the sandbox's consent, follow the redirects back;
    the path the browser ends on."""
    start = await get_page(client, "/reports")
    link = html.unescape(re.search(r'href="(/api/v1/tesla/oauth/start\?[^"]+)"', start.text).group(1))  # type: ignore[union-attr]
    response = await client.get(link, headers=HTML)
    assert response.status_code == 303, response.text
    consent = urlsplit(response.headers["location"])
    query = {key: values[0] for key, values in parse_qs(consent.query).items()}
    query |= {"sandbox_deny": "1"} if deny else {"sandbox_account": account}
    response = await client.get(consent.path, params=query)
    for _ in range(5):
        if response.status_code not in (302, 303):
            break
        location = path_of(response.headers["location"])
        if location.startswith("/reports/session/"):
            return location
        response = await client.get(location, headers=HTML)
    return str(response.url.path) + (f"?{response.url.query.decode()}" if response.url.query else "")


async def connected_session(client: httpx.AsyncClient, account: str = "family") -> str:
    path = await connect_through_pages(client, account)
    assert path.startswith("/reports/session/"), path
    return path.removeprefix("/reports/session/")


def totals(text: str) -> dict[str, str]:
    return {name: html.unescape(value).strip() for name, value in _TOTAL.findall(text)}


async def quote_page(
    client: httpx.AsyncClient, session_id: str, vins: list[str], package: str, voucher: str = "", **kwargs: Any
) -> httpx.Response:
    page = f"/reports/session/{session_id}"
    return await post_form(
        client, f"{page}/quote", {"vins": vins, "package": package, "voucher": voucher}, from_page=page, **kwargs
    )


class TestStartPage:
    async def test_packages_with_prices_in_the_readers_format_and_the_connect_button(
        self, client: httpx.AsyncClient
    ) -> None:
        english = await get_page(client, "/reports")
        finnish = await get_page(client, "/reports?lang=fi")

        assert english.status_code == 200
        assert "€19.00" in english.text
        assert "€29.00" in english.text
        assert "€149.00" in english.text
        assert "19,00\xa0€" in finnish.text
        assert "149,00\xa0€" in finnish.text
        assert "Perusraportti" in finnish.text
        assert "Yhdistä Tesla-tilisi" in finnish.text
        assert "25.5%" in english.text
        link = html.unescape(re.search(r'href="(/api/v1/tesla/oauth/start\?[^"]+)"', english.text).group(1))  # type: ignore[union-attr]
        query = parse_qs(urlsplit(link).query)
        assert query["locale"] == ["en"]
        assert query["return_url"][0].endswith("/reports/connected")


class TestConnect:
    async def test_connecting_ends_on_the_accounts_vehicles_with_pictures(self, client: httpx.AsyncClient) -> None:
        session_id = await connected_session(client)
        page = await get_page(client, f"/reports/session/{session_id}")

        assert page.status_code == 200
        vins = _VIN.findall(page.text)
        assert len(vins) == 3
        for model in ("Model Y", "Model 3", "Model X"):
            assert model in page.text
        pictures = re.findall(r'src="(/reports/pictures/v1/[^"]+\.svg)"', page.text)
        assert len(pictures) == 3
        assert {p.split("/")[4] for p in pictures} == {"model-y", "model-3", "model-x"}
        assert all(not p.endswith("/unknown.svg") for p in pictures)  # the sandbox's paint is known
        assert 'alt="Picture of a Model' in page.text

    async def test_a_refused_consent_ends_on_our_page_saying_what_to_do(self, client: httpx.AsyncClient) -> None:
        path = await connect_through_pages(client, deny=True)
        assert path == "/reports/connect-failed?problem=declined"
        page = await get_page(client, path, headers={"accept-language": "de"})

        assert page.status_code == 400
        assert "Zugriff wurde abgelehnt" in page.text
        assert 'href="/reports"' in page.text

    async def test_an_unknown_problem_word_is_the_generic_page(self, client: httpx.AsyncClient) -> None:
        page = await get_page(client, "/reports/connect-failed?problem=<script>")
        assert page.status_code == 400
        assert "The connection did not work" in page.text
        assert "<script>" not in page.text

    @pytest.mark.parametrize("session_id", ["A" * 43, "no-such-session-0000"])
    async def test_an_unknown_or_expired_session_offers_to_start_over(
        self, client: httpx.AsyncClient, session_id: str
    ) -> None:
        page = await get_page(client, f"/reports/session/{session_id}")
        assert page.status_code == 404
        assert "has expired or does not exist" in page.text
        assert 'href="/reports"' in page.text


class TestPictures:
    async def test_a_model_in_its_paint_cached_for_a_year(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/reports/pictures/v1/model-3/deep-blue.svg")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert "immutable" in response.headers["cache-control"]
        assert 'fill="#1f4080"' in response.text
        assert "style" not in response.text
        red = await client.get("/reports/pictures/v1/cybertruck/red.svg")
        assert 'fill="#b1141f"' in red.text
        assert red.text != response.text

    @pytest.mark.parametrize("path", ["model-q/red", "model-3/purple", "..%2F..%2Fetc/red"])
    async def test_unknown_drawings_are_not_found(self, client: httpx.AsyncClient, path: str) -> None:
        assert (await client.get(f"/reports/pictures/v1/{path}.svg")).status_code == 404


class TestQuote:
    async def test_the_quote_shown_is_the_apis_quote(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await create_voucher(client, admin_token)
        session_id = await connected_session(client)
        page = await get_page(client, f"/reports/session/{session_id}")
        vins = _VIN.findall(page.text)

        shown = await quote_page(client, session_id, vins[:2], "pro", "SPRING25")
        api = await client.post("/api/v1/pricing/quote", json={"session_id": session_id, "voucher_code": "SPRING25"})

        assert shown.status_code == 200
        body = api.json()
        assert body["vins"] == vins[:2]
        assert body["package"] == "pro"
        assert body["discount_cents"] > 0
        money = {key: format_money(body[f"{key}_cents"], "EUR", "en") for key in ("net", "vat", "gross")}
        assert totals(shown.text) == {"discount": "−" + format_money(body["discount_cents"], "EUR", "en"), **money}
        assert "Voucher SPRING25" in shown.text
        assert "Volume discount" in shown.text

    async def test_htmx_gets_only_the_quote_panel(self, client: httpx.AsyncClient) -> None:
        session_id = await connected_session(client)
        vins = _VIN.findall((await get_page(client, f"/reports/session/{session_id}")).text)
        fragment = await quote_page(client, session_id, vins[:1], "basic", headers={"hx-request": "true"})

        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith('<section id="quote"')
        assert "<html" not in fragment.text
        assert totals(fragment.text)["gross"] == "€19.00"

    async def test_a_voucher_that_cannot_be_used_is_named_and_the_price_shown_without_it(
        self, client: httpx.AsyncClient
    ) -> None:
        session_id = await connected_session(client)
        vins = _VIN.findall((await get_page(client, f"/reports/session/{session_id}")).text)
        page = await quote_page(client, session_id, vins[:1], "basic", "NOSUCHCODE")

        assert page.status_code == 200
        assert "cannot be used for this purchase" in page.text
        assert totals(page.text)["gross"] == "€19.00"

    async def test_a_package_the_count_does_not_fit_says_so(self, client: httpx.AsyncClient) -> None:
        session_id = await connected_session(client)
        vins = _VIN.findall((await get_page(client, f"/reports/session/{session_id}")).text)
        page = await quote_page(client, session_id, vins[:1], "bulk")

        assert page.status_code == 200
        assert "covers 2 to 25 vehicles" in page.text
        assert totals(page.text) == {}

    async def test_a_tampered_package_is_a_page_naming_it(self, client: httpx.AsyncClient) -> None:
        session_id = await connected_session(client)
        vins = _VIN.findall((await get_page(client, f"/reports/session/{session_id}")).text)
        page = await quote_page(client, session_id, vins[:1], "platinum")

        assert page.status_code == 422
        assert "There is no package called platinum" in page.text

    async def test_a_vehicle_of_another_account_is_a_page_naming_it(self, client: httpx.AsyncClient) -> None:
        session_id = await connected_session(client)
        page = await quote_page(client, session_id, ["5YJ3E7EB0KF000001"], "basic")

        assert page.status_code == 422
        assert "5YJ3E7EB0KF000001 is not in the connected account" in page.text
        assert f'href="/reports/session/{session_id}"' in page.text

    async def test_another_sessions_id_is_not_found(self, client: httpx.AsyncClient) -> None:
        mine = await connected_session(client)
        vins = _VIN.findall((await get_page(client, f"/reports/session/{mine}")).text)
        page = await post_form(
            client,
            f"/reports/session/{'B' * 43}/quote",
            {"vins": vins[:1], "package": "basic"},
            from_page=f"/reports/session/{mine}",
        )
        assert page.status_code == 404
        assert "has expired or does not exist" in page.text


class TestCsrf:
    @pytest.mark.parametrize("action", ["quote", "pay"])
    async def test_every_post_needs_the_token(self, client: httpx.AsyncClient, action: str) -> None:
        session_id = await connected_session(client)
        page = await get_page(client, f"/reports/session/{session_id}")
        vins = _VIN.findall(page.text)
        origin = {"origin": str(client.base_url).rstrip("/")}
        response = await client.post(
            f"/reports/session/{session_id}/{action}",
            data={"vins": vins[:1], "package": "basic", "provider": "stripe", "quote_id": "x" * 22},
            headers=HTML | origin,
        )
        assert response.status_code == 403
        assert "<html" in response.text
        assert csrf_of(page)


def pay_form(text: str) -> dict[str, str]:
    quote_id = re.search(r'name="quote_id" value="([^"]+)"', text)
    assert quote_id, "the page offers no payment"
    return {"quote_id": quote_id.group(1)}


class TestPay:
    async def test_every_way_create_intent_offers_is_a_button(self, client: httpx.AsyncClient) -> None:
        session_id = await connected_session(client)
        page = await get_page(client, f"/reports/session/{session_id}")
        buttons = set(re.findall(r'name="provider" value="(\w+)"', page.text))
        assert {"stripe", "paypal"} <= buttons
        assert "Pay by card" in page.text
        assert "Pay with PayPal" in page.text

    async def test_paying_creates_the_order_and_goes_to_the_provider(self, client: httpx.AsyncClient) -> None:
        session_id = await connected_session(client)
        page = await get_page(client, f"/reports/session/{session_id}")
        response = await post_form(
            client,
            f"/reports/session/{session_id}/pay",
            pay_form(page.text) | {"provider": "stripe"},
            from_page=f"/reports/session/{session_id}",
        )

        assert response.status_code == 303
        assert "/_sandbox/stripe/checkout/" in response.headers["location"]
        cookie = response.cookies.get("cp_checkout") or client.cookies.get("cp_checkout")
        assert cookie
        assert cookie.startswith(session_id + ".")
        order_id = cookie.split(".", 1)[1]
        body = await order(client, order_id)
        assert body["status"] == "pending_payment"
        assert body["provider"] == "stripe"
        again = await get_page(client, f"/reports/session/{session_id}")
        assert "A payment for this selection has been started" in again.text

    @pytest.mark.parametrize(
        ("field", "value", "text"),
        [
            ("provider", "bitcoin", "Payment with bitcoin is not offered here"),
            ("quote_id", "Q" * 30, "not one we gave"),
        ],
    )
    async def test_tampered_payment_values_are_a_page_naming_the_problem(
        self, client: httpx.AsyncClient, field: str, value: str, text: str
    ) -> None:
        session_id = await connected_session(client)
        page = await get_page(client, f"/reports/session/{session_id}")
        data = pay_form(page.text) | {"provider": "stripe", field: value}
        response = await post_form(
            client, f"/reports/session/{session_id}/pay", data, from_page=f"/reports/session/{session_id}"
        )
        assert response.status_code == 422
        assert text in response.text

    async def test_a_vendor_outage_is_a_page_offering_to_try_again_and_keeps_nothing_half_made(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        session_id = await connected_session(client)
        page = await get_page(client, f"/reports/session/{session_id}")
        app.state.carpulse.sandbox.stripe.inject_error(500, times=10, should_retry=False)
        data = pay_form(page.text) | {"provider": "stripe"}
        path = f"/reports/session/{session_id}/pay"

        failed = await post_form(client, path, data, from_page=f"/reports/session/{session_id}")
        assert failed.status_code == 503
        assert "is not answering right now" in failed.text
        assert f'href="/reports/session/{session_id}"' in failed.text
        app.state.carpulse.sandbox.stripe.faults.queue.clear()
        app.state.carpulse.payments.get("stripe").breaker = None  # Stripe is back (its breaker had opened)

        retried = await post_form(client, path, data, from_page=f"/reports/session/{session_id}")
        assert retried.status_code == 303
        assert "/_sandbox/stripe/checkout/" in retried.headers["location"]


class TestReturn:
    async def _pay(self, client: httpx.AsyncClient, provider: str, outcome: str) -> tuple[str, str, httpx.Response]:
        session_id = await connected_session(client, "solo")
        page = await get_page(client, f"/reports/session/{session_id}")
        started = await post_form(
            client,
            f"/reports/session/{session_id}/pay",
            pay_form(page.text) | {"provider": provider},
            from_page=f"/reports/session/{session_id}",
        )
        assert started.status_code == 303, started.text
        order_id = client.cookies["cp_checkout"].split(".", 1)[1]
        back = await act_on_hosted_page(client, started.headers["location"], outcome)
        assert back.status_code in (302, 303), back.text
        response = await client.get(path_of(back.headers["location"]), headers=HTML)  # /api/v1/payment/return
        for _ in range(3):
            if response.status_code not in (302, 303):
                break
            location = path_of(response.headers["location"])
            if location.startswith("/orders/"):
                break
            response = await client.get(location, headers=HTML)
        return session_id, order_id, response

    async def test_a_paid_stripe_checkout_ends_on_the_order(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        _, order_id, response = await self._pay(committed_client, "stripe", "pay")
        await settle(committed_app)
        assert response.status_code == 303
        assert response.headers["location"] == f"/orders/{order_id}"
        assert (await order(committed_client, order_id))["status"] == "paid"

    async def test_a_declined_card_says_so_and_offers_to_try_again_with_the_selection_kept(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        session_id, order_id, response = await self._pay(committed_client, "stripe", "decline")
        await settle(committed_app)
        assert response.status_code == 200
        assert "The payment was declined" in response.text
        assert order_reference(order_id) in response.text
        assert f'href="/reports/session/{session_id}"' in response.text
        retry = await get_page(committed_client, f"/reports/session/{session_id}")
        assert retry.status_code == 200
        declined = await order(committed_client, order_id)
        assert totals(retry.text)["gross"] == format_money(declined["gross_cents"], "EUR", "en")
        assert pay_form(retry.text)["quote_id"]

    async def test_a_cancelled_paypal_approval_says_nothing_was_charged(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        _session_id, order_id, response = await self._pay(committed_client, "paypal", "cancel")
        assert response.status_code == 200
        assert "The payment was cancelled" in response.text
        assert "Nothing was charged" in response.text
        assert (await order(committed_client, order_id))["status"] == "pending_payment"

    async def test_a_paypal_approval_is_captured_and_ends_on_the_order(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        _, order_id, response = await self._pay(committed_client, "paypal", "approve")
        assert response.headers.get("location") == f"/orders/{order_id}"
        assert (await order(committed_client, order_id))["status"] == "paid"

    async def test_a_return_this_browser_did_not_start_is_explained(self, client: httpx.AsyncClient) -> None:
        page = await get_page(client, "/reports/checkout/return?checkout=CP-0123456789AB&payment=paid")
        assert page.status_code == 404
        assert "CP-0123456789AB" in page.text
        assert 'href="/reports"' in page.text


class TestProcessing:
    async def test_an_unconfirmed_payment_is_a_page_that_looks_again_by_itself(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        client = committed_client
        fake = committed_app.state.carpulse.sandbox.stripe
        fake.auto_deliver = False  # no webhook yet
        session_id = await connected_session(client, "solo")
        page = await get_page(client, f"/reports/session/{session_id}")
        started = await post_form(
            client,
            f"/reports/session/{session_id}/pay",
            pay_form(page.text) | {"provider": "stripe"},
            from_page=f"/reports/session/{session_id}",
        )
        order_id = client.cookies["cp_checkout"].split(".", 1)[1]
        back = await act_on_hosted_page(client, started.headers["location"], "pay")
        fake.inject_error(500, times=10, should_retry=False)  # Stripe cannot be asked on the way back
        returned = await client.get(path_of(back.headers["location"]), headers=HTML)
        landing = await client.get(path_of(returned.headers["location"]), headers=HTML)
        result = await client.get(path_of(landing.headers["location"]), headers=HTML)

        assert result.status_code == 200
        assert "We are confirming your payment" in result.text
        assert result.headers["refresh"] == "3"
        assert f'href="/orders/{order_id}"' in result.text
        fake.faults.queue.clear()


class TestInOtherLanguages:
    async def test_the_vehicles_page_and_its_quote_in_german(self, client: httpx.AsyncClient) -> None:
        session_id = await connected_session(client, "solo")
        page = await get_page(client, f"/reports/session/{session_id}?lang=de")

        assert '<html lang="de">' in page.text
        assert "Ihre Fahrzeuge" in page.text
        assert "Mit Karte zahlen" in page.text
        assert totals(page.text)["gross"] == "29,00\xa0€"
        assert 'alt="Bild eines Model 3 in ' in page.text


class TestPaint:
    @pytest.mark.parametrize(
        ("option_codes", "colour", "hint"),
        [
            ("MDL3,PPSB,W38B", None, "model-3/deep-blue"),
            ("$MTY13,$PPSW", None, "model-3/pearl-white"),
            (None, "MidnightSilver", "model-3/midnight-silver"),
            (None, None, "model-3"),
            ("XXXX", "Chartreuse", "model-3"),
        ],
    )
    def test_the_inventory_gives_the_picture_its_paint_when_tesla_says_it(
        self, option_codes: str | None, colour: str | None, hint: str
    ) -> None:
        vehicle = TeslaVehicle(vin="LRW3E1EA9NC320636", option_codes=option_codes, color=colour)
        summary = to_summary(vehicle)
        assert summary.image_hint == hint
        assert picture_url(summary.image_hint).startswith("/reports/pictures/v1/model-3/")

    def test_an_unknown_model_or_paint_is_still_a_drawing(self) -> None:
        assert picture_url(None) == "/reports/pictures/v1/generic/unknown.svg"
        assert picture_url("roadster/teal") == "/reports/pictures/v1/generic/unknown.svg"


class TestConnectedRedirect:
    @pytest.mark.parametrize("value", ["", "short", "../../admin?x=" + "a" * 20, "A" * 200])
    async def test_only_a_session_id_is_followed(self, client: httpx.AsyncClient, value: str) -> None:
        response = await get_page(client, "/reports/connected", params={"session_id": value})
        assert response.status_code in (404, 422)
        assert "location" not in response.headers
