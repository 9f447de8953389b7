"""Catalogues complete and correct in every locale, and Babel formatting per locale."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Message
from hypothesis import given
from hypothesis import strategies as st
from jinja2.ext import babel_extract

from carpulse.kit import i18n
from carpulse.kit.documents import TEMPLATE_DIR
from carpulse.kit.i18n import (
    LOCALES,
    UnsupportedLocale,
    babel_locale,
    catalogue,
    catalogue_path,
    catalogue_paths,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
    resolve_locale,
    supported_locale,
    translate,
    translator,
)
from carpulse.web.pages import TEMPLATE_DIR as WEB_TEMPLATE_DIR

# Messages that may read the same as in English in a given locale (brand names, international
# abbreviations). Each entry is a (locale, message id) pair with a reason; keep it short.
# "No" is the Spanish and Italian word too.
SAME_AS_ENGLISH: frozenset[tuple[str, str]] = frozenset(
    {
        ("es", "report.no"),
        ("it", "report.no"),
        ("es", "format.no"),
        ("it", "format.no"),
        # "Error" is the Spanish word too.
        ("es", "web.error.status"),
    }
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def english() -> dict[str, Message]:
    return {str(message.id): message for message in catalogue("en") if message.id}


def message_ids() -> frozenset[str]:
    return frozenset(english())


def raw_message_ids(text: str) -> list[str]:
    """Message ids that appear verbatim in rendered text: something was never translated."""
    prefixes = sorted({key.split(".")[0] for key in message_ids()})
    pattern = re.compile(rf"(?<![\w.])(?:{'|'.join(map(re.escape, prefixes))})\.[a-z][\w.]*")
    return sorted(
        {match.group(0).rstrip(".") for match in pattern.finditer(text)} | {k for k in message_ids() if k in text}
    )


def strings(message: Message) -> tuple[str, ...]:
    value = message.string
    if isinstance(value, list | tuple):
        return tuple(str(text) for text in value)
    return (value or "",)


def spaces(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def template_message_ids() -> set[str]:
    found: set[str] = set()
    for path in [*TEMPLATE_DIR.rglob("*.html"), *WEB_TEMPLATE_DIR.rglob("*.html")]:
        with path.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_", "gettext", "ngettext"), [], {}):
                values = message if isinstance(message, tuple) else (message,)
                found.update(value for value in values if value)
    return found


class TestLocales:
    def test_the_nine_locales(self) -> None:
        assert LOCALES == ("en", "fi", "sv", "no", "da", "de", "fr", "es", "it")

    @pytest.mark.parametrize(
        ("tag", "locale"),
        [("fi", "fi"), ("fi-FI", "fi"), ("fi_FI", "fi"), ("SV-fi", "sv"), ("nb", "no"), ("nb-NO", "no"), ("nn", "no")],
    )
    def test_supported_locale_reduces_tags_to_our_locales(self, tag: str, locale: str) -> None:
        assert supported_locale(tag) == locale

    @pytest.mark.parametrize("tag", ["", "xx", "pt-BR", "../en", "english"])
    def test_unknown_tags_are_refused(self, tag: str) -> None:
        with pytest.raises(UnsupportedLocale):
            supported_locale(tag)

    @pytest.mark.parametrize(("tag", "locale"), [(None, "en"), ("", "en"), ("pt-BR", "en"), ("de-AT", "de")])
    def test_resolve_locale_falls_back_to_english(self, tag: str | None, locale: str) -> None:
        assert resolve_locale(tag) == locale

    def test_norwegian_formats_as_bokmal(self) -> None:
        assert babel_locale("no").language == "nb"
        assert babel_locale("fi").language == "fi"


class TestCatalogues:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_catalogue_ships_inside_the_package(self, locale: str) -> None:
        path = catalogue_path(locale)

        assert path.is_file()
        assert path.is_relative_to(i18n.LOCALE_DIR)
        assert i18n.LOCALE_DIR.parent.name == "carpulse"

    @pytest.mark.parametrize("locale", LOCALES)
    def test_same_catalogue_files_as_english(self, locale: str) -> None:
        assert [path.name for path in catalogue_paths(locale)] == [path.name for path in catalogue_paths("en")]

    def test_a_message_defined_twice_across_files_is_refused(self, tmp_path, monkeypatch) -> None:
        folder = tmp_path / "en" / "LC_MESSAGES"
        folder.mkdir(parents=True)
        entry = 'msgid ""\nmsgstr "Language: en\\n"\n\nmsgid "a.b"\nmsgstr "A"\n'
        (folder / "messages.po").write_text(entry, encoding="utf-8")
        (folder / "other.po").write_text(entry, encoding="utf-8")
        monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
        i18n._catalogue.cache_clear()
        try:
            with pytest.raises(i18n.DuplicateMessage, match=r"a\.b"):
                catalogue("en")
        finally:
            i18n._catalogue.cache_clear()

    @pytest.mark.parametrize("locale", LOCALES)
    def test_same_message_ids_as_english(self, locale: str) -> None:
        ids = {str(message.id) for message in catalogue(locale) if message.id}

        assert sorted(message_ids() - ids) == [], "missing"
        assert sorted(ids - message_ids()) == [], "not in the English catalogue"

    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_message_translated(self, locale: str) -> None:
        source = english()
        problems = []
        for message in catalogue(locale):
            if not message.id:
                continue
            key = str(message.id)
            if message.fuzzy:
                problems.append(f"{key}: fuzzy")
            for text in strings(message):
                if not text.strip():
                    problems.append(f"{key}: empty")
                elif text == key:
                    problems.append(f"{key}: the id itself")
                elif (
                    locale != "en" and strings(source[key]) == strings(message) and (locale, key) not in SAME_AS_ENGLISH
                ):
                    problems.append(f"{key}: same as English {text!r}")

        assert problems == []

    @pytest.mark.parametrize("locale", LOCALES)
    def test_placeholders_match_english_and_format(self, locale: str) -> None:
        source = english()
        problems = []
        for message in catalogue(locale):
            if not message.id:
                continue
            key = str(message.id)
            expected = {name for text in strings(source[key]) for name in _PLACEHOLDER.findall(text)}
            for text in strings(message):
                if set(_PLACEHOLDER.findall(text)) != expected:
                    problems.append(f"{key}: placeholders {_PLACEHOLDER.findall(text)} != {sorted(expected)}")
                try:
                    # Jinja's new-style gettext always %-formats: a stray % must be written %%.
                    text % dict.fromkeys(expected, "x")
                except (ValueError, TypeError, KeyError) as exc:
                    problems.append(f"{key}: does not format ({exc})")

        assert problems == []

    @pytest.mark.parametrize("locale", LOCALES)
    def test_no_markup_in_messages(self, locale: str) -> None:
        # Translated messages are inserted into HTML unescaped; they must stay plain text.
        offenders = [str(m.id) for m in catalogue(locale) if m.id and any(c in "".join(strings(m)) for c in "<>&")]

        assert offenders == []

    @pytest.mark.parametrize("locale", LOCALES)
    def test_header_names_the_locale(self, locale: str) -> None:
        assert catalogue(locale).mime_headers  # parsed
        assert f'"Language: {locale}\\n"' in catalogue_path(locale).read_text(encoding="utf-8")

    def test_every_message_a_template_uses_exists(self) -> None:
        used = template_message_ids()

        assert used, "no messages found in templates: extraction is broken"
        assert sorted(used - message_ids()) == []


class TestTranslator:
    @pytest.mark.parametrize(
        ("locale", "text"),
        [
            ("en", "Receipt"),
            ("fi", "Kuitti"),
            ("sv", "Kvitto"),
            ("no", "Kvittering"),
            ("da", "Kvittering"),
            ("de", "Quittung"),
            ("fr", "Reçu"),
            ("es", "Recibo"),
            ("it", "Ricevuta"),
        ],
    )
    def test_translates(self, locale: str, text: str) -> None:
        assert translator(locale).gettext("receipt.title") == text

    def test_cached(self) -> None:
        assert translator("fi") is translator("fi")
        assert catalogue("fi") is catalogue("fi")
        # Keyed by our codes, so arbitrary client tags cannot grow the caches.
        assert translator("fi-FI") is translator("fi_fi") is translator("fi")
        assert translator("xx-1") is translator("xx-2") is translator("en")

    def test_unknown_locale_is_english(self) -> None:
        assert translator("xx").gettext("receipt.title") == "Receipt"

    def test_unknown_message_comes_back_as_its_id(self) -> None:
        # The catalogue tests and the raw-key checks on rendered documents catch this.
        assert translator("fi").gettext("receipt.no_such_message") == "receipt.no_such_message"

    def test_translate_fills_placeholders(self) -> None:
        assert translate("de", "receipt.total_vat", rate="19 %") == "MwSt. 19 %"

    def test_raw_message_ids_finds_keys_in_text(self) -> None:
        assert raw_message_ids("Kuitti receipt.title 19,00 €") == ["receipt.title"]
        assert raw_message_ids("ALV receipt.not_a_real_key.") == ["receipt.not_a_real_key"]
        assert raw_message_ids("billing@carpulsetracker.com https://carpulsetracker.com Kuitti") == []


MONEY_1900_EUR = {
    "en": "€19.00",
    "fi": "19,00 €",
    "sv": "19,00 €",
    "no": "19,00 €",
    "da": "19,00 €",
    "de": "19,00 €",
    "fr": "19,00 €",
    "es": "19,00 €",
    "it": "19,00 €",
}


class TestFormatting:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_money_in_every_locale(self, locale: str) -> None:
        assert spaces(format_money(1900, "EUR", locale)) == MONEY_1900_EUR[locale]

    @pytest.mark.parametrize(
        ("cents", "currency", "locale", "text"),
        [
            (123456, "EUR", "fi", "1 234,56 €"),
            (123456, "EUR", "de", "1.234,56 €"),
            (123456, "EUR", "en", "€1,234.56"),
            (5, "EUR", "fi", "0,05 €"),
            (0, "EUR", "fi", "0,00 €"),
            (-300, "EUR", "fi", "-3,00 €"),  # credit notes
            (1500, "JPY", "en", "¥1,500"),  # no minor unit
            (12345, "SEK", "sv", "123,45 kr"),
        ],
    )
    def test_money_uses_minor_units_of_the_currency(self, cents: int, currency: str, locale: str, text: str) -> None:
        assert spaces(format_money(cents, currency, locale)) == text

    @given(cents=st.integers(min_value=0, max_value=10**12), locale=st.sampled_from(LOCALES))
    def test_money_keeps_every_digit(self, cents: int, locale: str) -> None:
        digits = re.sub(r"\D", "", format_money(cents, "EUR", locale))

        assert int(digits) == cents

    @pytest.mark.parametrize(
        ("rate", "locale", "text"),
        [
            (Decimal("25.5"), "fi", "25,5 %"),
            (Decimal("25.5"), "en", "25.5%"),
            (Decimal("25.5"), "de", "25,5 %"),
            (Decimal("25.5"), "it", "25,5%"),
            (Decimal("24"), "fi", "24 %"),
            (Decimal("13.5"), "sv", "13,5 %"),
            (0, "fr", "0 %"),
        ],
    )
    def test_percent_keeps_decimals(self, rate: Decimal, locale: str, text: str) -> None:
        assert spaces(format_percent(rate, locale)) == text

    def test_number(self) -> None:
        assert spaces(format_number(1234, "fi")) == "1 234"
        assert format_number(Decimal("1234.5"), "en") == "1,234.5"

    @pytest.mark.parametrize(
        ("locale", "text"),
        [("en", "March 5, 2026"), ("fi", "5. maaliskuuta 2026"), ("de", "5. März 2026"), ("no", "5. mars 2026")],
    )
    def test_long_date(self, locale: str, text: str) -> None:
        assert format_date(date(2026, 3, 5), locale) == text

    def test_date_of_a_moment_is_the_date_in_the_given_zone(self) -> None:
        moment = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)

        assert format_date(moment, "fi", tz=ZoneInfo("Europe/Helsinki")) == "1. tammikuuta 2027"
        assert format_date(moment, "fi") == "31. joulukuuta 2026"
        assert format_date(moment, "fi", style="short") == "31.12.2026"

    def test_datetime_in_a_zone(self) -> None:
        moment = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)

        assert "14.00" in format_datetime(moment, "fi", tz=ZoneInfo("Europe/Helsinki"))

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            format_date(datetime(2026, 3, 5, 12, 0), "fi")
