"""The sign-up form's pieces: countries named in the reader's language, and each refusal said per field."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

import pycountry
from babel import Locale
from pydantic import EmailStr as PydanticEmail
from pydantic import TypeAdapter, ValidationError

from carpulse.kit.i18n import LOCALES
from carpulse.signup.schemas import VAT_COUNTRIES, vat_prefix

# The country a form starts on in each language (a Swedish reader is most likely in Sweden); English: none.
_HOME_COUNTRY = {"fi": "FI", "sv": "SE", "no": "NO", "da": "DK", "de": "DE", "fr": "FR", "es": "ES", "it": "IT"}
_BABEL_LOCALE = {"no": "nb"}
_EMAIL: TypeAdapter[str] = TypeAdapter(PydanticEmail)


def default_country(locale: str) -> str:
    return _HOME_COUNTRY.get(locale, "")


@cache
def countries(locale: str) -> list[tuple[str, str]]:
    """(code, name) of every ISO 3166-1 country, named and sorted as the reader's language does."""
    if locale not in LOCALES:
        locale = "en"
    names = Locale.parse(_BABEL_LOCALE.get(locale, locale)).territories
    pairs = [(country.alpha_2, names.get(country.alpha_2, country.name)) for country in pycountry.countries]
    return sorted(pairs, key=lambda pair: pair[1].casefold())


def email_or_none(value: str) -> str | None:
    try:
        return _EMAIL.validate_python(value.strip())
    except ValidationError:
        return None


def field_errors(exc: ValidationError, country: str) -> dict[str, str]:
    """One catalogue id per refused field (the first reason each), for the form to show beside it."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        location = error.get("loc") or ("",)
        name = str(location[0])
        if name in errors:
            continue
        kind = error.get("type", "")
        message = str(error.get("msg", ""))
        errors[name] = _message(name, kind, message, country.strip().upper())
    return errors


def _message(name: str, kind: str, message: str, country: str) -> str:
    if name == "email":
        return "web.console.field.email.invalid"
    if name == "password":
        if kind == "string_too_short":
            return "web.console.field.password.short"
        if "e-mail" in message:
            return "web.console.field.password.email"
        return "web.console.field.password.weak"
    if name == "company_name":
        return "web.console.field.company_name.required" if kind == "string_too_short" else "web.console.field.too_long"
    if name == "country":
        return "web.console.field.country.invalid"
    if name == "vat_number":
        if country and country not in VAT_COUNTRIES:
            return "web.console.field.vat_number.outside_eu"
        if "starts with" in message:
            return "web.console.field.vat_number.prefix"
        if "check digit" in message:
            return "web.console.field.vat_number.checksum"
        return "web.console.field.vat_number.invalid"
    return "web.console.field.invalid"


def vat_prefix_of(country: str) -> str:
    return vat_prefix(country.strip().upper()) if country else ""


def sandbox_mailbox_url(address: str) -> str:
    """Where the sandbox keeps the mail sent to `address` (development: nothing leaves the machine)."""
    return "/_sandbox/mail" + (f"?{urlencode({'to': address})}" if address else "")
