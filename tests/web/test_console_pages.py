"""The Data API console over HTTP: sign-up to confirmation, keys (the secret once), quota, usage, invoices, try-it.

Money and other accounts' ids first: another client's key or invoice answers a 404 page, a suspended client is
told why, bad form input names the field, and every form refuses a post without this browser's CSRF token.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from carpulse.models import Account, ApiKey, EmailConfirmation
from carpulse.plan.service import plans
from carpulse.web.console.trial import CATALOGUE_VINS
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.data_api.flow import MODEL_3_VIN, DataClient, data_client
from tests.kit.test_documents import pdf_text
from tests.kit.test_i18n import raw_message_ids
from tests.signup.flow import PASSWORD, confirmation_link, mailbox
from tests.web.pages import HTML, get_page, post_form

REGISTRATION = {
    "company_name": "Dealer Oy",
    "email": "data@dealer.example",
    "password": PASSWORD,
    "country": "FI",
    "vat_number": "FI20774740",
}
_KEY = re.compile(r"cp_test_[0-9A-Za-z]{38}")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Many sign-ins and calls from one address in a test: the limits have their own tests.
    return {"rate_limit": {"enabled": False}}


@pytest.fixture
def client(draining_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Mail sends run after each response, so the sandbox mailbox holds them."""
    return draining_client


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    response = await post_form(client, "/login", {"username": email, "password": password, "next": "/console"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console"


async def signed_in_client(app: FastAPI, client: httpx.AsyncClient, email: str = "fleet@leasing.example") -> DataClient:
    owner = await data_client(app, client, email)
    await sign_in(client, email)
    return owner


def field_error(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="error-{name}">([^<]*)</p>', page)
    assert match, f"no error shown for {name}"
    return match.group(1)


class TestSignUp:
    async def test_register_then_the_mailed_link_opens_our_page_and_confirms(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        form = await get_page(client, "/console/register")
        assert form.status_code == 200
        assert 'name="company_name"' in form.text
        assert '<option value="FI"' in form.text

        registered = await post_form(client, "/console/register", REGISTRATION)
        assert registered.status_code == 303, registered.text
        assert registered.headers["location"] == "/console/check-mail"

        check = await get_page(client, "/console/check-mail")
        assert "data@dealer.example" in check.text
        assert "/_sandbox/mail?to=data%40dealer.example" in check.text  # where development mail is kept

        [message] = await mailbox(app, client, "data@dealer.example")
        link = confirmation_link(message)
        assert urlsplit(link).path == "/console/confirm"
        confirmed = await get_page(client, link)
        assert confirmed.status_code == 200
        assert "Your address is confirmed" in confirmed.text
        assert 'href="/login?next=/console"' in confirmed.text
        again = await get_page(client, link)
        assert again.status_code == 200
        assert "already confirmed" in again.text

        await sign_in(client, "data@dealer.example")
        console = await get_page(client, "/console")
        assert console.status_code == 200
        assert "Dealer Oy" in console.text
        assert "0 of 100 used" in console.text  # the Basic plan's quota, nothing used yet
        assert "No keys yet" in console.text

    async def test_bad_input_is_named_per_field_and_nothing_is_registered(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        response = await post_form(
            client,
            "/console/register",
            {"company_name": "  ", "email": "not an address", "password": "short", "country": "XX", "vat_number": ""},
        )

        assert response.status_code == 422
        page = response.text
        assert field_error(page, "company_name") == "Enter your company’s name."
        assert "e-mail address such as" in field_error(page, "email")
        assert field_error(page, "password") == "The password needs at least 12 characters."
        assert "registered in" in field_error(page, "country")
        assert page.count('aria-invalid="true"') == 4
        assert 'value="not an address"' in page  # what was typed stays, but for the password
        assert "short" not in re.findall(r'id="field-password"[^>]*', page)[0]
        async with app.state.carpulse.sessionmaker() as db:
            assert (await db.execute(select(Account).where(Account.role == "api_client"))).first() is None

    @pytest.mark.parametrize(
        ("country", "vat_number", "expected"),
        [
            ("DE", "FI20774740", "starts with DE"),
            ("FI", "FI20774741", "wrong check digit"),
            ("US", "FI20774740", "Only EU VAT numbers"),
            ("GR", "GR123456783", "starts with EL"),
        ],
    )
    async def test_a_vat_number_is_checked_against_the_country(
        self, client: httpx.AsyncClient, country: str, vat_number: str, expected: str
    ) -> None:
        response = await post_form(
            client, "/console/register", REGISTRATION | {"country": country, "vat_number": vat_number}
        )

        assert response.status_code == 422
        assert expected in field_error(response.text, "vat_number")

    async def test_a_taken_address_looks_the_same_and_its_owner_is_told(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await data_client(app, client, "data@dealer.example")

        response = await post_form(client, "/console/register", REGISTRATION)

        assert response.status_code == 303
        assert response.headers["location"] == "/console/check-mail"
        [note] = await mailbox(app, client, "data@dealer.example")
        assert note["subject"] == "Sign-up attempt with your Car Pulse address"
        assert "http://testserver/login" in note["links"]

    async def test_a_broken_or_expired_link_says_so_and_offers_a_new_one(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        broken = await get_page(client, "/console/confirm", params={"token": "not-a-token"})
        assert broken.status_code == 400
        assert "not valid" in broken.text
        assert 'href="/console/resend"' in broken.text
        assert (await get_page(client, "/console/confirm")).status_code == 400

        await post_form(client, "/console/register", REGISTRATION)
        [message] = await mailbox(app, client, "data@dealer.example")
        async with app.state.carpulse.sessionmaker() as db:
            await db.execute(update(EmailConfirmation).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            await db.commit()
        expired = await get_page(client, confirmation_link(message))
        assert expired.status_code == 410
        assert "expired" in expired.text
        assert 'href="/console/resend"' in expired.text

    async def test_resend_mails_a_new_link_and_refuses_a_bad_address(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await post_form(client, "/console/register", REGISTRATION)
        bad = await post_form(client, "/console/resend", {"email": "nobody"})
        assert bad.status_code == 422
        assert "e-mail address such as" in field_error(bad.text, "email")

        resent = await post_form(client, "/console/resend", {"email": "data@dealer.example"})

        assert resent.status_code == 303
        newest, first = await mailbox(app, client, "data@dealer.example")
        assert confirmation_link(newest) != confirmation_link(first)
        assert (await get_page(client, confirmation_link(first))).status_code == 400  # replaced
        assert (await get_page(client, confirmation_link(newest))).status_code == 200


class TestCsrf:
    async def test_forms_without_the_browsers_token_change_nothing(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await signed_in_client(app, client)
        posts = {
            "/console/register": REGISTRATION | {"email": "forged@dealer.example"},
            "/console/resend": {"email": "forged@dealer.example"},
            "/console/keys": {"name": "forged"},
            f"/console/keys/{owner.key_id}/revoke": {},
        }
        for path, data in posts.items():
            response = await client.post(path, data=data, headers=HTML)
            assert response.status_code == 403, path
            assert "Not allowed" in response.text
        forged_origin = await post_form(
            client, "/console/keys", {"name": "x"}, from_page="/console", headers={"origin": "https://evil.example"}
        )
        assert forged_origin.status_code == 403

        async with app.state.carpulse.sessionmaker() as db:
            keys = (await db.execute(select(ApiKey))).scalars().all()
        assert [(key.name, key.revoked_at) for key in keys] == [("fleet sync", None)]
        assert await mailbox(app, client, "forged@dealer.example") == []


class TestKeys:
    async def test_the_secret_is_shown_once_and_works(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await signed_in_client(app, client)

        created = await post_form(client, "/console/keys", {"name": "dealer portal"}, from_page="/console")

        assert created.status_code == 201
        assert created.headers["cache-control"] == "no-store"
        [secret] = set(_KEY.findall(created.text))
        call = await client.get(f"/api/v1/vehicle/static/{MODEL_3_VIN}", headers={"X-API-Key": secret})
        assert call.status_code == 200, call.text
        console = await get_page(client, "/console")
        assert "dealer portal" in console.text
        assert secret[:14] in console.text  # its display prefix
        assert secret not in console.text
        assert _KEY.findall(console.text) == []
        try_page = await get_page(client, "/console/try")
        assert secret not in try_page.text

    @pytest.mark.parametrize(("name", "message"), [("   ", "Give the key a name"), ("x" * 101, "at most 100")])
    async def test_a_key_needs_a_name(self, app: FastAPI, client: httpx.AsyncClient, name: str, message: str) -> None:
        await signed_in_client(app, client)

        response = await post_form(client, "/console/keys", {"name": name}, from_page="/console")

        assert response.status_code == 422
        assert message in field_error(response.text, "name")
        assert _KEY.findall(response.text) == []

    async def test_revoke_asks_first_then_the_key_stops_working(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await signed_in_client(app, client)
        assert (await client.get(f"/api/v1/vehicle/static/{MODEL_3_VIN}", headers=owner.by_header)).status_code == 200

        confirm = await get_page(client, f"/console/keys/{owner.key_id}/revoke")
        assert confirm.status_code == 200
        assert "Revoke the key “fleet sync”?" in confirm.text
        revoked = await post_form(client, f"/console/keys/{owner.key_id}/revoke", {}, from_page="/console")

        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/console?notice=revoked"
        console = await get_page(client, revoked.headers["location"])
        assert "calls with it are refused" in console.text
        assert "revoked" in console.text
        refused = await client.get(f"/api/v1/vehicle/static/{MODEL_3_VIN}", headers=owner.by_header)
        assert refused.status_code == 401
        again = await get_page(client, f"/console/keys/{owner.key_id}/revoke")
        assert again.headers["location"] == "/console?notice=already_revoked"

    async def test_another_clients_key_is_not_found(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        other = await data_client(app, client, "other@rival.example")
        await signed_in_client(app, client)

        for path in (f"/console/keys/{other.key_id}/revoke", f"/console/keys/{uuid.uuid4()}/revoke"):
            page = await get_page(client, path)
            assert page.status_code == 404
            assert "You have no API key with this id" in page.text
            posted = await post_form(client, path, {}, from_page="/console")
            assert posted.status_code == 404
        assert (await get_page(client, "/console/keys/not-a-uuid/revoke")).status_code == 404
        still = await client.get(f"/api/v1/vehicle/static/{MODEL_3_VIN}", headers=other.by_header)
        assert still.status_code == 200


class TestQuotaUsageInvoices:
    async def test_todays_quota_and_usage_by_day_and_endpoint(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await signed_in_client(app, client)
        for _ in range(3):
            assert (await client.get(f"/api/v1/vehicle/static/{MODEL_3_VIN}", headers=owner.by_key)).status_code == 200
        assert (await client.get("/api/v1/models", headers=owner.by_key)).status_code == 200  # free

        console = await get_page(client, "/console")

        assert "3 of 100 used" in console.text
        assert "97 calls left today" in console.text
        assert "midnight UTC" in console.text
        assert "<code>vehicle.static</code>" in console.text
        assert "€0.30" in console.text  # 3 units at the Basic plan's €0.10
        bars = re.findall(
            r'<rect class="bar( today)?" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', console.text
        )
        assert len(bars) == 30
        assert [float(height) for _, _, height in bars if float(height) > 0] == [160 * 3 / 5]  # scale tops at 5
        assert bars[-1][0] == " today"
        assert 'style="' not in console.text  # the page CSP allows no inline style

    async def test_invoices_with_their_pdf_and_another_clients_invoice_is_not_found(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        other = await data_client(app, client, "other@rival.example")
        await client.get(f"/api/v1/vehicle/static/{MODEL_3_VIN}", headers=other.by_key)
        theirs = (await client.post("/api/v1/billing/pay", json={}, headers=other.by_key)).json()
        owner = await signed_in_client(app, client)
        await client.get(f"/api/v1/vehicle/static/{MODEL_3_VIN}", headers=owner.by_key)
        paid = await client.post("/api/v1/billing/pay", json={}, headers=owner.by_key)
        assert paid.status_code == 201, paid.text
        invoice = paid.json()

        console = await get_page(client, "/console")
        assert invoice["number"] in console.text
        assert theirs["number"] not in console.text
        assert "€0.13" in console.text  # €0.10 net + 25.5 % Finnish VAT, rounded half up
        pdf = await client.get(f"/console/invoices/{invoice['id']}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert invoice["number"] in pdf_text(pdf.content)

        stolen = await get_page(client, f"/console/invoices/{theirs['id']}/pdf")
        assert stolen.status_code == 404
        assert "You have no invoice with this id." in stolen.text
        assert (await get_page(client, "/console/invoices/" + "x" * 80 + "/pdf")).status_code == 404

    async def test_a_suspended_client_sees_why(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await signed_in_client(app, client)
        state = app.state.carpulse
        async with state.sessionmaker() as db:
            await plans.suspend(
                db, uuid.UUID(owner.account_id), "Invoice DAT-2026-000001 is 30 days overdue", state.clock
            )
            await db.commit()

        console = await get_page(client, "/console")

        assert console.status_code == 200
        assert "Your Data API account is suspended" in console.text
        assert "Invoice DAT-2026-000001 is 30 days overdue" in console.text
        assert "HTTP 403" in console.text


class TestAccess:
    async def test_the_console_needs_a_client_sign_in(self, client: httpx.AsyncClient) -> None:
        for path in ("/console", "/console/try", f"/console/keys/{uuid.uuid4()}/revoke"):
            response = await get_page(client, path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=%2Fconsole")

        await sign_in_admin(client)
        assert (await get_page(client, "/console")).status_code == 403
        assert (await get_page(client, "/console/try")).status_code == 200  # admins may try the API out

    async def test_a_signed_in_client_goes_from_register_to_the_console(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await signed_in_client(app, client)

        response = await get_page(client, "/console/register")

        assert response.status_code == 303
        assert response.headers["location"] == "/console"


async def sign_in_admin(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/login", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    assert response.status_code == 303


class TestTryPage:
    async def test_offers_the_data_endpoints_and_example_vins_that_answer(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await signed_in_client(app, client)

        page = await get_page(client, "/console/try")

        assert page.status_code == 200
        for path in ("/api/v1/vehicle/static/{vin}", "/api/v1/vehicle/dynamic/{vin}", "/api/v1/models?query={query}"):
            assert f'data-path="{path}"' in page.text
        assert re.search(r'<script src="/static/console/try\.[0-9a-f]+\.js" defer>', page.text), "no try-it script"
        for vin in CATALOGUE_VINS:
            assert f'data-example="{vin}"' in page.text
            static = await client.get(f"/api/v1/vehicle/static/{vin}", headers=owner.by_header)
            assert static.status_code == 200, (vin, static.text)
        model_ids = re.findall(r'data-example-kind="model" data-example="([^"]+)"', page.text)
        assert model_ids
        warranty = await client.get(f"/api/v1/models/{model_ids[0]}/warranty", headers=owner.by_header)
        assert warranty.status_code == 200, warranty.text


class TestLanguages:
    @pytest.mark.parametrize("path", ["/console", "/console/try", "/console/register", "/console/check-mail"])
    async def test_every_console_page_is_translated(self, app: FastAPI, client: httpx.AsyncClient, path: str) -> None:
        await signed_in_client(app, client)
        finnish = await get_page(client, "/console?lang=fi")
        assert "API-avaimet" in finnish.text
        if path == "/console/register":
            await client.post("/logout", headers=HTML)
            client.cookies.delete("cp_session")
        for locale in ("fi", "de", "it"):
            page = await get_page(client, f"{path}?lang={locale}")
            assert page.status_code == 200, (path, locale)
            assert f'<html lang="{locale}">' in page.text
            assert raw_message_ids(page.text) == []
