"""The pages every product shares: language, CSRF, sign-in cookies, errors as pages, the page CSP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from carpulse.database import SessionDep
from carpulse.errors import ValidationFailed
from carpulse.kit.i18n import LOCALES
from carpulse.models import Account, AccountRole
from carpulse.web.locale import negotiate
from carpulse.web.pages import PageError, page_router
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.web.pages import HTML, csrf_of, get_page, post_form


class TestLanguage:
    @pytest.mark.parametrize(
        ("header", "locale"),
        [
            ("fi-FI,fi;q=0.9,en;q=0.8", "fi"),
            ("en;q=0.5, de;q=0.9", "de"),
            ("nb-NO", "no"),
            ("pt-BR, es;q=0.3", "es"),
            ("zh-CN", "en"),
            ("", "en"),
            ("*", "en"),
            ("fr;q=0, sv;q=0.1", "sv"),
            ("de;q=abc, it", "it"),
        ],
    )
    def test_accept_language_quality_values(self, header: str, locale: str) -> None:
        assert negotiate(header) == locale

    async def test_the_landing_page_speaks_the_browsers_language(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/", headers={"accept-language": "de-DE,de;q=0.9"})

        assert response.status_code == 200
        assert '<html lang="de">' in response.text
        assert "Fahrtenbuch" in response.text
        assert "Accept-Language" in response.headers["vary"]

    async def test_lang_parameter_switches_and_is_remembered(self, client: httpx.AsyncClient) -> None:
        switched = await get_page(client, "/?lang=fi", headers={"accept-language": "en"})
        assert '<html lang="fi">' in switched.text
        assert switched.cookies["cp_lang"] == "fi"

        later = await get_page(client, "/login", headers={"accept-language": "en"})
        assert '<html lang="fi">' in later.text

    async def test_an_unknown_lang_parameter_is_ignored(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/?lang=xx", headers={"accept-language": "sv"})

        assert response.status_code == 200
        assert '<html lang="sv">' in response.text
        assert "cp_lang" not in response.cookies

    @pytest.mark.parametrize("locale", LOCALES)
    async def test_the_switcher_offers_every_language_named_in_itself(
        self, client: httpx.AsyncClient, locale: str
    ) -> None:
        response = await get_page(client, f"/?lang={locale}")

        for code in LOCALES:
            assert f'<option value="{code}" lang="{code}"' in response.text
        assert ">Suomi<" in response.text
        assert ">Deutsch<" in response.text


class TestLanding:
    async def test_api_clients_still_get_the_service_json(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/", headers={"accept": "application/json"})

        assert response.status_code == 200
        assert response.json()["api"].endswith("/api")

    async def test_a_browser_gets_the_three_products(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/")

        assert response.headers["content-type"].startswith("text/html")
        for path in ("/reports", "/logbook", "/console"):
            assert f'href="{path}"' in response.text

    async def test_back_from_connecting_goes_to_the_sessions_vehicles(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/?session_id=abc123")

        assert response.status_code == 303
        assert response.headers["location"] == "/reports/session/abc123"


class TestPageSecurityHeaders:
    async def test_strict_csp_no_store_and_no_inline_script(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/")
        policy = dict(
            part.strip().partition(" ")[::2] for part in response.headers["content-security-policy"].split(";")
        )

        assert policy["default-src"] == "'none'"
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["form-action"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text
        assert " style=" not in response.text

    @pytest.mark.parametrize(
        "settings_overrides", [{"web": {"tile_url": "https://{s}.tile.example.org/{z}/{x}/{y}.png"}}]
    )
    async def test_map_tiles_only_from_the_configured_host(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/")

        assert "img-src 'self' data: blob: https://*.tile.example.org;" in response.headers["content-security-policy"]


class TestCsrf:
    async def test_a_form_post_without_the_token_is_refused_with_a_page(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/login", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}, headers=HTML
        )

        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "reload the page" in response.text
        assert "cp_session" not in response.cookies

    async def test_a_token_from_another_browser_is_refused(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        foreign = csrf_of(await get_page(client, "/login"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            await get_page(other, "/login")
            response = await other.post(
                "/login",
                data={"csrf_token": foreign, "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
                headers=HTML,
            )

        assert response.status_code == 403

    async def test_another_sites_origin_is_refused_even_with_the_token(self, client: httpx.AsyncClient) -> None:
        response = await post_form(
            client,
            "/login",
            {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
            headers={"origin": "https://evil.example"},
        )

        assert response.status_code == 403
        assert "another site" in response.text

    async def test_the_csrf_cookie_is_httponly_and_strict(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/login")
        cookie = response.headers["set-cookie"]

        assert cookie.startswith("cp_csrf=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie


class TestSignIn:
    async def test_signs_in_with_an_httponly_cookie_and_lands_on_the_roles_home(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await post_form(client, "/login", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})

        assert response.status_code == 303
        assert response.headers["location"] == "/admin"
        cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("cp_session="))
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        landing = await get_page(client, "/")
        assert "Sign out" in landing.text

    async def test_the_page_session_outlives_the_apis_short_access_token(self, client: httpx.AsyncClient) -> None:
        import jwt

        response = await post_form(client, "/login", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
        cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("cp_session="))
        claims = jwt.decode(client.cookies["cp_session"], options={"verify_signature": False})

        assert "Max-Age=43200" in cookie
        assert claims["exp"] - claims["iat"] == 12 * 3600
        assert claims["role"] == "admin"

    async def test_next_is_followed_on_this_site_only(self, client: httpx.AsyncClient) -> None:
        inside = await post_form(
            client, "/login", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "next": "/admin/vouchers"}
        )
        assert inside.headers["location"] == "/admin/vouchers"

        for outside in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            response = await post_form(
                client,
                "/login",
                {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "next": outside},
                from_page="/",
            )
            assert response.headers["location"] == "/admin", outside

    async def test_a_wrong_password_says_so_on_the_form_and_keeps_the_name(self, client: httpx.AsyncClient) -> None:
        response = await post_form(client, "/login", {"username": ADMIN_USERNAME, "password": "nope"})

        assert response.status_code == 401
        assert "The e-mail address or the password is wrong." in response.text
        assert f'value="{ADMIN_USERNAME}"' in response.text
        assert "cp_session" not in response.cookies

    async def test_missing_fields_get_a_page_naming_them(self, client: httpx.AsyncClient) -> None:
        response = await post_form(client, "/login", {"username": ADMIN_USERNAME})

        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")
        assert "<code>password</code>" in response.text

    async def test_sign_out_forgets_the_cookie(self, client: httpx.AsyncClient) -> None:
        await post_form(client, "/login", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
        response = await post_form(client, "/logout", {}, from_page="/")

        assert response.status_code == 303
        assert "cp_session" not in client.cookies
        assert "Sign out" not in (await get_page(client, "/")).text


class TestErrorsAsPages:
    async def test_a_browser_lost_on_our_site_gets_a_page_in_its_language(self, client: httpx.AsyncClient) -> None:
        response = await get_page(client, "/no/such/page", headers={"accept-language": "fi"})

        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Ei löytynyt" in response.text
        assert 'href="/"' in response.text

    @pytest.mark.parametrize("path", ["/api/v1/nothing", "/static/nothing.js", "/no/such/page"])
    async def test_api_clients_keep_the_problem_document(self, client: httpx.AsyncClient, path: str) -> None:
        accept = HTML if path.startswith(("/api", "/static")) else {"accept": "application/json"}
        response = await client.get(path, headers=accept)

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    async def test_an_outage_behind_a_page_is_a_503_page_to_retry(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        from carpulse.web import home

        def unreachable(*args: object, **kwargs: object) -> None:
            raise RedisConnectionError("Connection refused")

        monkeypatch.setattr(home, "render_page", unreachable)
        response = await get_page(client, "/")

        assert response.status_code == 503
        assert "Temporarily unavailable" in response.text
        assert response.headers["retry-after"] == "5"

    async def test_an_unexpected_failure_is_a_500_page_with_the_request_id(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from carpulse.web import home

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(home, "render_page", broken)
        response = await get_page(client, "/")

        assert response.status_code == 500
        assert "Nothing you entered is lost" in response.text
        assert "Request id: " in response.text
        assert "a bug" not in response.text


class TestAFailedPageWritesNothing:
    """A page that answers its own error (a page explaining it) must not commit what it wrote before failing."""

    @pytest.fixture
    def failing_page(self, app: FastAPI) -> None:
        router = page_router()

        @router.post("/test-only/fails-after-writing")
        async def fails_after_writing(session: SessionDep, kind: str) -> None:
            session.add(Account(username="half-done", email="half-done@example.com", role=AccountRole.customer))
            await session.flush()
            if kind == "page-error":
                raise PageError(409, "web.error.409.text")
            if kind == "bug":
                raise RuntimeError("a bug after a write")
            if kind == "problem":
                raise ValidationFailed("bad")

        app.router.routes[:0] = router.routes

    @pytest.mark.parametrize("kind", ["page-error", "bug", "problem"])
    @pytest.mark.usefixtures("failing_page")
    async def test_the_write_is_rolled_back(self, client: httpx.AsyncClient, db, kind: str) -> None:
        from sqlalchemy import text

        response = await client.post(f"/test-only/fails-after-writing?kind={kind}", headers=HTML)

        assert response.status_code in (409, 500, 422)
        assert response.headers["content-type"].startswith("text/html")
        found = await db.execute(text("SELECT count(*) FROM account WHERE email = 'half-done@example.com'"))
        assert found.scalar_one() == 0

    @pytest.mark.usefixtures("failing_page")
    async def test_the_check_sees_a_commit(self, client: httpx.AsyncClient, db) -> None:
        from sqlalchemy import text

        response = await client.post("/test-only/fails-after-writing?kind=none", headers=HTML)

        assert response.status_code == 200, response.text[-3000:]
        found = await db.execute(text("SELECT count(*) FROM account WHERE email = 'half-done@example.com'"))
        assert found.scalar_one() == 1
