"""CSRF protection for the pages' forms: a secret per browser in a cookie, echoed by every form.

The cookie is HttpOnly and SameSite=Strict; a page rendered for this browser carries the same value in a
hidden field (`csrf_token`) and in a `<meta>` that `app.js` sends as `X-CSRF-Token` on htmx requests. A
forged request from another site can neither read the value nor make the browser send the cookie. A
browser that names its `Origin` must name ours as well.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request

from carpulse.errors import Forbidden

CSRF_COOKIE = "cp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_TOKEN_BYTES = 32


class CsrfFailed(Forbidden):
    """A form post without this browser's CSRF token, or from another site."""

    slug = "csrf-failed"
    title = "The form could not be verified"


def csrf_token(request: Request) -> str:
    """This browser's token; a new one (set as a cookie by `render_page`) when it has none yet."""
    existing = getattr(request.state, "csrf_token", None) or request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) <= 128:
        request.state.csrf_token = existing
        return existing
    request.state.csrf_token = token = secrets.token_urlsafe(_TOKEN_BYTES)
    request.state.csrf_new = True
    return token


async def verify_csrf(request: Request) -> None:
    """A dependency of every page route that changes something (POST)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfFailed("This form was sent from another site.")
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfFailed("The form is out of date or was not sent from this site: reload the page and try again.")
