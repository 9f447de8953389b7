"""The language of a page: `?lang=` (remembered in a cookie), else the cookie, else `Accept-Language`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fastapi import Request

from carpulse.kit.i18n import DEFAULT_LOCALE, LOCALES, UnsupportedLocale, babel_locale, supported_locale

LANG_COOKIE = "cp_lang"
LANG_PARAMETER = "lang"
# An Accept-Language header longer than this is cut: nobody prefers forty languages.
_MAX_RANGES = 20


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself: "suomi", "Deutsch"


@cache
def languages() -> tuple[Language, ...]:
    """The nine languages, each named in itself, for the language switcher."""
    named = []
    for code in LOCALES:
        name = babel_locale(code).get_display_name(babel_locale(code)) or code
        named.append(Language(code, name[:1].upper() + name[1:]))
    return tuple(named)


def _supported(tag: str | None) -> str | None:
    if not tag:
        return None
    try:
        return supported_locale(tag)
    except UnsupportedLocale:
        return None


def requested_locale(request: Request) -> str | None:
    """The language the URL asks for (`?lang=fi`), if it is one of ours."""
    return _supported(request.query_params.get(LANG_PARAMETER))


def page_locale(request: Request) -> str:
    return (
        requested_locale(request)
        or _supported(request.cookies.get(LANG_COOKIE))
        or negotiate(request.headers.get("accept-language", ""))
    )


def negotiate(header: str) -> str:
    """The supported language the client ranks highest (RFC 9110 §12.5.4 quality values); English if none."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = _supported(tag) if tag.strip() != "*" else DEFAULT_LOCALE
        if code is not None and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE
