"""Translations and locale-aware formatting for documents (reports, receipts) and API texts.

Messages live in gettext catalogues, `carpulse/locale/<locale>/LC_MESSAGES/*.po` (one file per
subject: `messages.po`, `report.po`, `fields.po`, ...; together one catalogue per locale), keyed by
stable dotted ids (`receipt.total_gross`); the English catalogue holds the English text. The
`.po` files are read at runtime with Babel and compiled in memory, so there is no build step.
Every message is a %-format string: a named field is `%(name)s` and a literal percent is `%%`.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES: tuple[str, ...] = ("en", "fi", "sv", "no", "da", "de", "fr", "es", "it")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"

# Our locale codes are languages; where CLDR wants another code for the same language, say so here.
_BABEL_CODES = {"no": "nb"}
# Tags a client may send for a supported language (`nb-NO`, `nn`, `fi_FI`, ...), beyond the obvious.
_ALIASES = {"nb": "no", "nn": "no"}

DateFormat = Literal["short", "medium", "long", "full"]


class UnsupportedLocale(ValueError):
    """A locale that has no catalogue."""


def supported_locale(tag: str) -> str:
    """`fi`, `fi-FI`, `fi_FI` → `fi`; `nb-NO` → `no`; anything else raises `UnsupportedLocale`."""
    language = tag.strip().replace("_", "-").split("-")[0].lower()
    language = _ALIASES.get(language, language)
    if language not in LOCALES:
        raise UnsupportedLocale(tag)
    return language


def resolve_locale(tag: str | None) -> str:
    """Like `supported_locale`, but unknown or missing tags fall back to English."""
    if not tag:
        return DEFAULT_LOCALE
    try:
        return supported_locale(tag)
    except UnsupportedLocale:
        return DEFAULT_LOCALE


# The caches below are keyed by our locale codes only, so client-supplied tags cannot grow them.


def babel_locale(locale: str) -> Locale:
    """The Babel (CLDR) locale that formats numbers and dates for one of our locales."""
    return _babel_locale(supported_locale(locale))


@cache
def _babel_locale(code: str) -> Locale:
    return Locale.parse(_BABEL_CODES.get(code, code))


def catalogue_path(locale: str) -> Path:
    """The main catalogue file of a locale (its header names the language)."""
    return LOCALE_DIR / supported_locale(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalogue_paths(locale: str) -> list[Path]:
    """Every `.po` file of a locale, in a stable order."""
    return sorted(catalogue_path(locale).parent.glob("*.po"))


def catalogue(locale: str) -> Catalog:
    """The locale's `.po` files merged into one catalogue (cached for the life of the process)."""
    return _catalogue(supported_locale(locale))


class DuplicateMessage(ValueError):
    """The same message id in two `.po` files of one locale."""


@cache
def _catalogue(code: str) -> Catalog:
    merged: Catalog | None = None
    for path in catalogue_paths(code):
        with path.open("rb") as po:
            part = read_po(po, locale=_babel_locale(code), domain=DOMAIN)
        if merged is None:
            merged = part
            continue
        for message in part:
            if not message.id:
                continue
            if message.id in merged:
                raise DuplicateMessage(f"{path.name}: {message.id!r} is already defined for {code}")
            merged[message.id] = message
    if merged is None:
        raise FileNotFoundError(catalogue_path(code))
    return merged


def translator(locale: str) -> gettext.NullTranslations:
    """A gettext translations object for `locale` (unknown: English); a message missing there falls back to English.

    Missing messages are a bug the catalogue tests catch; at runtime English beats a raw key.
    """
    return _translator(resolve_locale(locale))


@cache
def _translator(code: str) -> gettext.NullTranslations:
    translations = _compile(_catalogue(code))
    if code != DEFAULT_LOCALE:
        translations.add_fallback(_translator(DEFAULT_LOCALE))
    return translations


def _compile(source: Catalog) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    # Fuzzy entries are skipped: a guess is not a translation.
    write_mo(buffer, source, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translate(locale: str, message_id: str, **values: object) -> str:
    """The message in `locale`, with its `%(name)s` fields filled from `values`."""
    return translator(locale).gettext(message_id) % values


def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """Integer minor units as a localized amount: 1900 EUR → `19,00 €` (fi), `€19.00` (en)."""
    digits = babel_numbers.get_currency_precision(currency)
    amount = Decimal(amount_minor).scaleb(-digits)
    return babel_numbers.format_currency(amount, currency, locale=babel_locale(locale))


def format_percent(percent: Decimal | int, locale: str) -> str:
    """A rate given in percent, with its decimals kept: 25.5 → `25,5 %` (fi), `25.5%` (en)."""
    fraction = Decimal(percent) / 100
    return babel_numbers.format_percent(fraction, locale=babel_locale(locale), decimal_quantization=False)


def format_number(value: Decimal | int, locale: str) -> str:
    """A plain number with the locale's separators: 1234.5 → `1 234,5` (fi)."""
    return babel_numbers.format_decimal(value, locale=babel_locale(locale))


def format_date(value: date | datetime, locale: str, *, style: DateFormat = "long", tz: tzinfo | None = None) -> str:
    """A calendar date, e.g. `5. maaliskuuta 2026` (fi, long); an aware datetime is first moved to `tz`."""
    if isinstance(value, datetime):
        value = _localize(value, tz).date()
    return babel_dates.format_date(value, format=style, locale=babel_locale(locale))


def format_datetime(value: datetime, locale: str, *, style: DateFormat = "medium", tz: tzinfo | None = None) -> str:
    """A moment in the reader's time zone (`tz`, default UTC), e.g. `5.3.2026 klo 14.30.00` (fi)."""
    return babel_dates.format_datetime(_localize(value, tz), format=style, locale=babel_locale(locale))


def _localize(value: datetime, tz: tzinfo | None) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: store and pass times as timezone-aware UTC")
    return value.astimezone(tz) if tz is not None else value


@dataclass(frozen=True)
class Phrase:
    """A message to be said in the reader's language later: its id and values, each a plain text or a phrase."""

    key: str
    values: tuple[tuple[str, Text], ...] = ()

    def say(self, locale: str) -> str:
        return translate(locale, self.key, **{name: say(value, locale) for name, value in self.values})


@dataclass(frozen=True)
class Joined:
    """Texts said one after the other (`Model 3` + a translated trim name), joined by `separator`."""

    parts: tuple[Text, ...]
    separator: str = " "

    def say(self, locale: str) -> str:
        return self.separator.join(say(part, locale) for part in self.parts)


Text = str | Phrase | Joined


def phrase(key: str, **values: Text) -> Phrase:
    """`Phrase` with keyword values: `phrase("battery.baseline.wheels", baseline=name, inches="19")`."""
    return Phrase(key, tuple(values.items()))


def say(text: Text, locale: str) -> str:
    """A phrase in `locale`; a plain text (a proper name, a figure) as it is."""
    return text if isinstance(text, str) else text.say(locale)


def message_ids(text: Text) -> frozenset[str]:
    """Every message id a text refers to, its values' included."""
    if isinstance(text, str):
        return frozenset()
    if isinstance(text, Joined):
        return frozenset().union(*(message_ids(part) for part in text.parts))
    return frozenset({text.key}).union(*(message_ids(value) for _, value in text.values))
