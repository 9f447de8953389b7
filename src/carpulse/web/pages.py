"""Rendering the web app's pages, and the route class that answers their errors with pages too.

`render_page(request, "pages/x.html", ...)` renders in the request's language (`web.locale`) with
`_()` bound to that language's catalogue, the CSRF token, the signed-in account, `asset_url` and the
locale's formatters. Every page answers with a strict CSP (scripts and styles from our origin only; map
tiles from the configured tile host), `no-store` (pages carry personal data) and `Vary` on what chose
the language.

A router made by `page_router()` uses `PageRoute`: an error raised by a page (any `CarPulseError`,
invalid form or query values, an unknown id) is answered by an HTML page in the reader's language
that says what happened and what to do, and a page that needs a sign-in redirects to it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import jinja2
from asgi_correlation_id import correlation_id
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from carpulse.database import discard_request_work
from carpulse.errors import CarPulseError, ValidationFailed
from carpulse.kit import i18n
from carpulse.kit.i18n import translator
from carpulse.kit.logs import get_logger
from carpulse.state import get_state
from carpulse.web.assets import asset_url
from carpulse.web.csrf import CSRF_COOKIE, CSRF_FIELD, csrf_token
from carpulse.web.locale import LANG_COOKIE, LANG_PARAMETER, languages, page_locale, requested_locale
from carpulse.web.session import LoginRequired, secure_cookies

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANG_COOKIE_SECONDS = 365 * 24 * 3600

log = get_logger("carpulse.web")


@cache
def page_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # `_()` resolves `gettext` from each render's context: one environment serves every language.
    cast(Any, environment).install_null_translations(newstyle=True)
    environment.globals["asset_url"] = asset_url
    return environment


def render_template(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """`template` rendered in English without a request (the API docs pages)."""
    return HTMLResponse(
        page_environment().get_template(template).render(**_gettext_context("en"), **context), status_code=status_code
    )


def _gettext_context(locale: str) -> dict[str, object]:
    translations = translator(locale)

    def gettext(message: str, **values: object) -> str:
        text = translations.gettext(message)
        return text % values if values else text

    def ngettext(singular: str, plural: str, count: int, **values: object) -> str:
        text = translations.ngettext(singular, plural, count)
        return text % ({"num": count} | values)

    return {"gettext": gettext, "ngettext": ngettext}


class Formatters:
    """The reader's locale's way of writing money, numbers and dates, for templates."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def money(self, amount_minor: int, currency: str) -> str:
        return i18n.format_money(amount_minor, currency, self.locale)

    def number(self, value: Decimal | int | float, digits: int | None = None) -> str:
        if isinstance(value, float):
            value = Decimal(str(round(value, digits if digits is not None else 6)))
        if digits is not None:
            value = Decimal(value).quantize(Decimal(1).scaleb(-digits))
        return i18n.format_number(value, self.locale)

    def percent(self, value: Decimal | int) -> str:
        return i18n.format_percent(value, self.locale)

    def date(self, value: date | datetime, style: i18n.DateFormat = "medium") -> str:
        return i18n.format_date(value, self.locale, style=style)

    def datetime(self, value: datetime, style: i18n.DateFormat = "medium") -> str:
        return i18n.format_datetime(value, self.locale, style=style)


def page_csp(request: Request) -> str:
    tiles = map_tile_origin(request)
    images = "'self' data: blob:" + (f" {tiles}" if tiles else "")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


OPENSTREETMAP_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def map_tile_url(request: Request) -> str | None:
    """The tile URL template maps load: the configured one, OpenStreetMap's in production, else None (tracks
    on a plain background: development and tests make no outside request)."""
    settings = get_state(request).settings
    if settings.web.tile_url:
        return settings.web.tile_url
    return OPENSTREETMAP_TILES if settings.is_production else None


def map_tile_origin(request: Request) -> str | None:
    url = map_tile_url(request)
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "a"))
    host = parts.netloc
    if "{s}" in url:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def page_context(request: Request) -> dict[str, object]:
    locale = page_locale(request)
    return {
        "request": request,
        "locale": locale,
        "languages": languages(),
        "fmt": Formatters(locale),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "account": getattr(request.state, "page_account", None),
        "tile_url": map_tile_url(request),
        "tile_attribution": get_state(request).settings.web.tile_attribution,
        "sandbox": get_state(request).settings.serves_sandbox,
        "path_with_lang": lambda code: _with_lang(request, code),
        **_gettext_context(locale),
    }


def _with_lang(request: Request, code: str) -> str:
    query = [(key, value) for key, value in request.query_params.multi_items() if key != LANG_PARAMETER]
    return f"{request.url.path}?{urlencode([*query, (LANG_PARAMETER, code)])}"


def render_page(request: Request, template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """`template` (under `web/templates`) rendered for this request as an HTML page."""
    body = page_environment().get_template(template).render(**page_context(request), **context)
    response = HTMLResponse(body, status_code=status_code)
    finish_page(request, response)
    return response


def finish_page(request: Request, response: Response) -> None:
    """The headers and cookies every page answer carries (pages, their redirects and their fragments)."""
    response.headers["content-security-policy"] = page_csp(request)
    response.headers.setdefault("cache-control", "no-store")
    response.headers["vary"] = "Accept-Language, Cookie"
    secure = secure_cookies(request)
    if getattr(request.state, "csrf_new", False):
        response.set_cookie(CSRF_COOKIE, request.state.csrf_token, httponly=True, secure=secure, samesite="strict")
    chosen = requested_locale(request)
    if chosen is not None and chosen != request.cookies.get(LANG_COOKIE):
        response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_SECONDS, secure=secure, samesite="lax")


def redirect(request: Request, location: str, status_code: int = 303) -> RedirectResponse:
    """A redirect from a page (after a form post: 303, so the browser follows with GET)."""
    response = RedirectResponse(location, status_code=status_code)
    finish_page(request, response)
    return response


class PageError(CarPulseError):
    """An error a page explains in the reader's language: `message` is a catalogue id, `values` its fields.

    `action` is (label id, URL) of the way on, e.g. ("web.error.action.start_over", "/reports").
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        action: tuple[str, str] | None = None,
        detail: str | None = None,
        **values: object,
    ) -> None:
        super().__init__(detail)
        self.page_status = status
        self.message = message
        self.values = values
        self.action = action


_GENERIC_MESSAGES = {400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 502, 503}


def error_page(
    request: Request,
    status: int,
    *,
    message: str | None = None,
    values: dict[str, object] | None = None,
    detail: str | None = None,
    action: tuple[str, str] | None = None,
    problem_type: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    known = status if status in _GENERIC_MESSAGES else (500 if status >= 500 else 400)
    response = render_page(
        request,
        "pages/error.html",
        status_code=status,
        status=status,
        heading=f"web.error.{known}.title",
        message=message or f"web.error.{known}.text",
        values=values or {},
        detail=detail,
        action=action,
        problem_type=problem_type,
        errors=errors or [],
    )
    if status == 429 or status == 503:
        response.headers["retry-after"] = "5"
    return response


class PageRoute(APIRoute):
    """A route whose errors are pages: the reader gets HTML in their language, never a JSON problem."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except BaseException:
                # The request's database session ends after this handler returns (FastAPI closes
                # function-scoped dependencies around it): what the page wrote before failing is discarded.
                discard_request_work(request)
                raise

        async def error_handler(request: Request) -> Response:
            try:
                return await page_handler(request)
            except LoginRequired as exc:
                return redirect(request, exc.location)
            except PageError as exc:
                return error_page(
                    request,
                    exc.page_status,
                    message=exc.message,
                    values=exc.values,
                    action=exc.action,
                    detail=exc.detail,
                )
            except CarPulseError as exc:
                return error_page(
                    request,
                    exc.status,
                    detail=exc.detail,
                    problem_type=exc.type_uri(),
                    errors=cast(list[dict[str, Any]], exc.extensions.get("errors") or []),
                )
            except RequestValidationError as exc:
                fields = [
                    {"field": ".".join(str(part) for part in error.get("loc", ())[1:]), "message": error.get("msg")}
                    for error in exc.errors()
                ]
                return error_page(request, 422, problem_type=ValidationFailed.type_uri(), errors=fields)
            except StarletteHTTPException as exc:
                detail = exc.detail if isinstance(exc.detail, str) else None
                return error_page(request, exc.status_code, detail=detail)
            except Exception as exc:
                if is_outage(exc):
                    log.warning("web.dependency_unavailable", error=type(exc).__name__, path=request.url.path)
                    return error_page(request, 503)
                # Logged with the request id the page shows, so a report of it can be found.
                log.exception("web.page_failed", path=request.url.path)
                return error_page(request, 500, detail=_request_reference())

        return error_handler


def is_outage(exc: Exception) -> bool:
    """The database or Redis unreachable: a 503 to retry, not a bug."""
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | PoolTimeoutError | OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _request_reference() -> str | None:
    request_id = correlation_id.get()
    return f"Request id: {request_id}" if request_id else None


def wants_page(request: Request) -> bool:
    """A browser's navigation (it ranks text/html first), outside the API, the sandbox and the static files."""
    path = request.url.path
    if path.startswith(("/api/", "/_sandbox/", "/static/", "/webhook/", "/files/", "/health")):
        return False
    accept = request.headers.get("accept", "")
    return accept.split(",")[0].split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")


def install_page_errors(app: FastAPI) -> None:
    """A browser that navigates to a path we do not serve (or with a method we do not take) gets a page in
    its language; every other client keeps the problem document."""
    api_handler = app.exception_handlers[StarletteHTTPException]

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code in (404, 405) and request.method in ("GET", "HEAD") and wants_page(request):
            return error_page(request, exc.status_code)
        response = api_handler(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, on_http_exception)


def page_router(**kwargs: Any) -> APIRouter:
    """A router for pages: `PageRoute`s, left out of the OpenAPI document."""
    return APIRouter(route_class=PageRoute, include_in_schema=False, **kwargs)
