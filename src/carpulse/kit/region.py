"""The reader's region (language, units, currency, time zone) and values formatted for it.

`format_value` converts a raw value from its source unit into the reader's unit and formats it with
Babel; it never raises, whatever a provider sends: odd values read "not available" or as the raw text.
What a value is comes in as a `FieldSpec` (a provider's `FieldSpec` is one), so this module knows no
provider and no domain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers
from babel import units as babel_units
from babel.core import get_global

from carpulse.kit.i18n import (
    babel_locale,
    format_date,
    format_money,
    format_number,
    format_percent,
    supported_locale,
    translate,
)


class FieldType(StrEnum):
    """How a value is converted and formatted for a reader."""

    distance = "distance"
    energy = "energy"
    percent = "percent"
    power = "power"
    temperature = "temperature"
    pressure = "pressure"
    # Speeds follow the reader's distance unit (mph or km/h), so they need their own conversion.
    speed = "speed"
    date = "date"
    # A clock time without a date, e.g. an off-peak window ending at 06:00 (minutes after midnight).
    time_of_day = "time_of_day"
    duration = "duration"
    money = "money"
    # A plain number, with its unit when it has one (V, A, kWh...). Not "count": that would shadow str.count.
    number = "number"
    text = "text"
    enum = "enum"
    boolean = "boolean"


class FieldSpec(Protocol):
    """What formatting needs to know of a value: its kind, its source unit, and whether it may be printed."""

    @property
    def key(self) -> str: ...

    @property
    def type(self) -> FieldType: ...

    @property
    def unit(self) -> str | None: ...

    @property
    def sensitive(self) -> bool: ...

    @property
    def decimals(self) -> int | None: ...


class FoundValue(Protocol):
    """A value found in a payload, with the unit found next to it."""

    @property
    def field(self) -> FieldSpec: ...

    @property
    def value(self) -> Any: ...

    @property
    def unit(self) -> str | None: ...


DistanceUnit = Literal["km", "mi"]
TemperatureUnit = Literal["C", "F"]
PressureUnit = Literal["bar", "psi"]

MILES_TO_KM = Decimal("1.609344")
BAR_TO_PSI = Decimal("14.503773773")
KPA_PER_BAR = Decimal(100)

# Road distances in miles: the US, Liberia and Myanmar, and the UK (which otherwise uses °C).
_MILES_COUNTRIES = frozenset({"US", "LR", "MM", "GB"})
_FAHRENHEIT_COUNTRIES = frozenset({"US", "LR", "MM"})
# Tyre pressures in psi: the imperial countries, the UK and Canada (where placards and gauges show psi).
_PSI_COUNTRIES = frozenset({"US", "LR", "MM", "GB", "CA"})
# Countries with several zones where one holds nearly everyone; the others need an explicit time zone.
_MAIN_ZONES = {
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "CN": "Asia/Shanghai",
    "NZ": "Pacific/Auckland",
    "EC": "America/Guayaquil",
    "CL": "America/Santiago",
}
_DEFAULT_CURRENCY = "EUR"
_Unit = TypeVar("_Unit", bound=str)

# Car display preferences as `CarSettings` spells them, and their plain names.
_DISTANCE_PREFERENCES: dict[str, DistanceUnit] = {"mi/hr": "mi", "mi": "mi", "miles": "mi", "km/hr": "km", "km": "km"}
_TEMPERATURE_PREFERENCES: dict[str, TemperatureUnit] = {"c": "C", "celsius": "C", "f": "F", "fahrenheit": "F"}
# kPa is metric: shown in bar, the metric unit we format.
_PRESSURE_PREFERENCES: dict[str, PressureUnit] = {"bar": "bar", "kpa": "bar", "psi": "psi"}

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Placeholders providers send for "no value", compared after stripping.
_PLACEHOLDERS = frozenset({"", "<invalid>"})
_MAX_TEXT = 300
# A unit we have no CLDR name for is appended as sent, if it looks like a unit at all.
_SHOWN_UNIT = re.compile(r"^[^\s<>&]{1,12}$")

# Units a source may be given in (compared case-insensitively) → our spelling.
_UNIT_ALIASES = {
    alias.lower(): unit
    for unit, aliases in {
        "km": ("km", "kilometers", "kilometres"),
        "mi": ("mi", "miles", "mile"),
        "kWh": ("kwh",),
        "Wh": ("wh",),
        "kW": ("kw",),
        "W": ("w",),
        "C": ("c", "celsius", "°c"),
        "F": ("f", "fahrenheit", "°f"),
        "bar": ("bar",),
        "psi": ("psi",),
        "kPa": ("kpa",),
        "mph": ("mph", "mi/hr", "mi/h"),
        "km/h": ("km/h", "km/hr", "kph"),
        "V": ("v",),
        "A": ("a",),
        "ms": ("ms",),
        "s": ("s", "sec", "seconds"),
        "min": ("min", "minutes", "mins"),
        "h": ("h", "hr", "hours"),
        "d": ("d", "days"),
        "year": ("year", "years"),
        "deg": ("deg", "°"),
        "%": ("%",),
    }.items()
    for alias in aliases
}
# Our unit → CLDR unit id for Babel's localized unit patterns.
_CLDR_UNITS = {
    "km": "length-kilometer",
    "mi": "length-mile",
    "kWh": "energy-kilowatt-hour",
    "kW": "power-kilowatt",
    "C": "temperature-celsius",
    "F": "temperature-fahrenheit",
    "bar": "pressure-bar",
    "psi": "pressure-pound-force-per-square-inch",
    "km/h": "speed-kilometer-per-hour",
    "mph": "speed-mile-per-hour",
    "V": "electric-volt",
    "A": "electric-ampere",
    "s": "duration-second",
    "min": "duration-minute",
    "h": "duration-hour",
    "d": "duration-day",
    "year": "duration-year",
    "deg": "angle-degree",
}
# Short forms that read badly on their own ("8 J", "8 v"): spelled out.
_LONG_UNITS = frozenset({"year"})
_SECONDS = {"ms": Decimal("0.001"), "s": Decimal(1), "min": Decimal(60), "h": Decimal(3600), "d": Decimal(86_400)}
_DURATION_PARTS = (("d", 86_400), ("h", 3600), ("min", 60), ("s", 1))
_DEFAULT_DECIMALS = {
    FieldType.distance: 0,
    FieldType.energy: 1,
    FieldType.power: 1,
    FieldType.temperature: 1,
    FieldType.speed: 0,
}


@dataclass(frozen=True)
class RegionContext:
    """Who reads a report: language, units, currency and time zone."""

    locale: str
    country: str | None
    distance_unit: DistanceUnit
    temperature_unit: TemperatureUnit
    pressure_unit: PressureUnit
    currency: str
    time_zone: tzinfo

    @classmethod
    def build(
        cls,
        locale: str,
        *,
        country: str | None = None,
        distance_units: str | None = None,
        temperature_units: str | None = None,
        pressure_units: str | None = None,
        currency: str | None = None,
        time_zone: str | tzinfo | None = None,
    ) -> RegionContext:
        """Defaults by country (metric, EUR and UTC without one); the car's own display units win when given.

        `distance_units`, `temperature_units` and `pressure_units` take the car's settings as sent
        (`mi/hr`/`km/hr`, `F`/`C`, `Psi`/`Bar`/`kPa`); a value we do not know is ignored.
        """
        code = _country(country)
        return cls(
            locale=supported_locale(locale),
            country=code,
            distance_unit=_preference(distance_units, _DISTANCE_PREFERENCES)
            or ("mi" if code in _MILES_COUNTRIES else "km"),
            temperature_unit=_preference(temperature_units, _TEMPERATURE_PREFERENCES)
            or ("F" if code in _FAHRENHEIT_COUNTRIES else "C"),
            pressure_unit=_preference(pressure_units, _PRESSURE_PREFERENCES)
            or ("psi" if code in _PSI_COUNTRIES else "bar"),
            currency=_currency(currency, code),
            time_zone=_time_zone(time_zone, code),
        )


def _country(country: str | None) -> str | None:
    if country is None:
        return None
    if not _COUNTRY.match(country):
        raise ValueError(f"country must be an ISO 3166 alpha-2 code, not {country!r}")
    return country.upper()


def _preference(given: str | None, table: Mapping[str, _Unit]) -> _Unit | None:
    return table.get(given.strip().lower()) if isinstance(given, str) else None


def _currency(currency: str | None, country: str | None) -> str:
    if currency is not None:
        if not _CURRENCY.match(currency.upper()):
            raise ValueError(f"currency must be an ISO 4217 code, not {currency!r}")
        return currency.upper()
    if country is not None:
        currencies = babel_numbers.get_territory_currencies(country)
        if currencies:
            return currencies[0]
    return _DEFAULT_CURRENCY


def _time_zone(time_zone: str | tzinfo | None, country: str | None) -> tzinfo:
    if isinstance(time_zone, tzinfo):
        return time_zone
    name = time_zone
    if name is None and country is not None:
        zones = get_global("territory_zones").get(country, ())
        name = zones[0] if len(zones) == 1 else _MAIN_ZONES.get(country)
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def zone_label(zone: tzinfo, at: datetime) -> str:
    """`Europe/Helsinki (EET)`: the zone's name and its abbreviation at `at`."""
    local = at.astimezone(zone)
    key = getattr(zone, "key", None)
    abbreviation = local.tzname() or ""
    offset = local.strftime("%z")
    short = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    if key is None:
        return short
    if not abbreviation or abbreviation.startswith(("+", "-")):
        abbreviation = short
    return f"{key} ({abbreviation})"


def format_field(value: FoundValue, ctx: RegionContext, enums: Mapping[str, str] | None = None) -> str:
    """An extracted value formatted for the reader, with the unit found next to it in the payload."""
    return format_value(value.field, value.value, ctx, enums, unit=value.unit)


def format_value(
    field: FieldSpec,
    value: Any,
    ctx: RegionContext,
    enums: Mapping[str, str] | None = None,
    *,
    unit: str | None = None,
) -> str:
    """A raw value as the reader reads it; `unit` overrides the field's source unit (e.g. a fee's currency)."""
    if field.sensitive:
        return translate(ctx.locale, "format.hidden")
    try:
        text = _FORMATTERS[field.type](field, value, ctx, enums or {}, unit or field.unit)
    except (ArithmeticError, LookupError, OSError, TypeError, ValueError):
        text = None
    return text if text is not None else not_available(ctx)


def not_available(ctx: RegionContext) -> str:
    """The reader's words for a value the provider did not give."""
    return translate(ctx.locale, "format.not_available")


def format_freshness(captured_at: datetime | None, now: datetime, ctx: RegionContext) -> str:
    """How long ago a value was read, e.g. `2 hours ago` / `2 tuntia sitten`; under a minute: `just now`."""
    if captured_at is None:
        return not_available(ctx)
    if captured_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("naive datetime: pass timezone-aware times")
    age = now - captured_at
    if age < timedelta(minutes=1):
        return translate(ctx.locale, "format.just_now")
    text: str = babel_dates.format_timedelta(
        -age, granularity="minute", add_direction=True, locale=babel_locale(ctx.locale)
    )
    return text


# Formatters return None for "not available"; format_value catches what they raise.


def _text_or_none(value: Any) -> str | None:
    """A provider's own text for a value we cannot read as what the field says it is."""
    if isinstance(value, str):
        stripped = value.strip()
        return None if stripped in _PLACEHOLDERS else stripped[:_MAX_TEXT]
    return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _unit(unit: str | None) -> str | None:
    return _UNIT_ALIASES.get(unit.strip().lower(), unit.strip()) if unit else None


def _round(number: Decimal, decimals: int) -> Decimal:
    return number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _measure(number: Decimal, unit: str | None, decimals: int | None, ctx: RegionContext) -> str:
    """A number with its unit in the reader's language (`1 234,5 km`); an unknown unit is appended as is."""
    shown = _round(number, decimals) if decimals is not None else number
    if shown == 0:
        shown = abs(shown)  # no "-0"
    locale = babel_locale(ctx.locale)
    cldr = _CLDR_UNITS.get(unit or "")
    if cldr is not None:
        pattern = _pattern(decimals) if decimals is not None else None
        length: Literal["short", "long"] = "long" if unit in _LONG_UNITS else "short"
        return babel_units.format_unit(shown, cldr, length=length, format=pattern, locale=locale)
    if decimals is not None:
        text = babel_numbers.format_decimal(shown, format=_pattern(decimals), locale=locale)
    else:
        text = format_number(shown, ctx.locale)
    return f"{text} {unit}" if unit is not None and _SHOWN_UNIT.match(unit) else text


def _number_or_text(value: Any) -> Decimal | str | None:
    number = _decimal(value)
    return number if number is not None else _text_or_none(value)


def _convert(field: FieldSpec, number: Decimal, unit: str | None, ctx: RegionContext) -> tuple[Decimal, str | None]:
    """The number in the reader's unit (or the unit the type always shows)."""
    kind = field.type
    if kind is FieldType.distance:
        if unit == "mi" and ctx.distance_unit == "km":
            return number * MILES_TO_KM, "km"
        if unit == "km" and ctx.distance_unit == "mi":
            return number / MILES_TO_KM, "mi"
    elif kind is FieldType.speed:
        if unit == "mph" and ctx.distance_unit == "km":
            return number * MILES_TO_KM, "km/h"
        if unit == "km/h" and ctx.distance_unit == "mi":
            return number / MILES_TO_KM, "mph"
    elif kind is FieldType.temperature:
        if unit == "C" and ctx.temperature_unit == "F":
            return number * 9 / 5 + 32, "F"
        if unit == "F" and ctx.temperature_unit == "C":
            return (number - 32) * 5 / 9, "C"
    elif kind is FieldType.pressure:
        bar = number / KPA_PER_BAR if unit == "kPa" else number / BAR_TO_PSI if unit == "psi" else number
        if unit in ("bar", "kPa", "psi"):
            return (bar * BAR_TO_PSI, "psi") if ctx.pressure_unit == "psi" else (bar, "bar")
    elif kind is FieldType.energy and unit == "Wh":
        return number / 1000, "kWh"
    elif kind is FieldType.power and unit == "W":
        return number / 1000, "kW"
    return number, unit


def _quantity(
    field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None
) -> str | None:
    given = _number_or_text(value)
    if not isinstance(given, Decimal):
        return given
    number, shown_unit = _convert(field, given, _unit(unit), ctx)
    decimals = field.decimals
    if decimals is None and field.type is FieldType.pressure:
        decimals = 0 if shown_unit == "psi" else 2
    elif decimals is None:
        decimals = _DEFAULT_DECIMALS.get(field.type)
    return _measure(number, shown_unit, decimals, ctx)


def _percent(
    field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None
) -> str | None:
    given = _number_or_text(value)
    if not isinstance(given, Decimal):
        return given
    return format_percent(_round(given, field.decimals or 0), ctx.locale)


def _number(field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None) -> str | None:
    given = _number_or_text(value)
    if not isinstance(given, Decimal):
        return given
    return _measure(given, _unit(unit), field.decimals, ctx)


def _money(field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None) -> str | None:
    given = _number_or_text(value)
    if not isinstance(given, Decimal):
        return given
    currency = (unit or ctx.currency).strip().upper()
    if not _CURRENCY.match(currency):
        return format_number(_round(given, 2), ctx.locale)
    digits = babel_numbers.get_currency_precision(currency)
    minor = _round(given.scaleb(digits), 0)
    return format_money(int(minor), currency, ctx.locale)


def _duration_text(seconds: Decimal, ctx: RegionContext) -> str:
    """`2 h 5 min`, `3 d 4 h`, `45 s`: the largest part and the one below it, localized."""
    locale = babel_locale(ctx.locale)
    total = int(_round(abs(seconds), 0))
    if total >= 60:
        total = (total + 30) // 60 * 60  # whole minutes once past a minute
    parts: list[str] = []
    for index, (part_unit, size) in enumerate(_DURATION_PARTS):
        amount, total = divmod(total, size)
        if amount:
            parts.append(babel_units.format_unit(amount, _CLDR_UNITS[part_unit], length="short", locale=locale))
            if index + 1 < len(_DURATION_PARTS):
                below, _ = divmod(total, _DURATION_PARTS[index + 1][1])
                if below:
                    below_unit = _CLDR_UNITS[_DURATION_PARTS[index + 1][0]]
                    parts.append(babel_units.format_unit(below, below_unit, length="short", locale=locale))
            break
    if not parts:
        parts.append(babel_units.format_unit(0, _CLDR_UNITS["min"], length="short", locale=locale))
    text = babel_lists.format_list(parts, style="unit-narrow", locale=locale)
    return f"{babel_numbers.get_minus_sign_symbol(locale)}{text}" if seconds < 0 else text


def _duration(
    field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None
) -> str | None:
    given = _number_or_text(value)
    if not isinstance(given, Decimal):
        return given
    scale = _SECONDS.get(_unit(unit) or "s")
    if scale is None:
        return _measure(given, _unit(unit), field.decimals, ctx)
    return _duration_text(given * scale, ctx)


def _moment(value: Any, unit: str | None) -> datetime | date | None:
    """A timezone-aware moment, or a calendar date for `iso_date`; None when the value is no time at all."""
    if unit in ("epoch_ms", "epoch_s"):
        number = _decimal(value)
        if number is None or number <= 0:
            return None
        seconds = number / 1000 if unit == "epoch_ms" else number
        return datetime.fromtimestamp(float(seconds), UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if unit == "iso_date":
        return date.fromisoformat(text[:10])
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _date(field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None) -> str | None:
    try:
        moment = _moment(value, unit)
    except ValueError:
        return _text_or_none(value)
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return format_date(moment, ctx.locale, style="medium")
    return format_moment(moment, ctx)


def format_moment(moment: datetime, ctx: RegionContext) -> str:
    """An absolute time in the report's zone, to the minute: `2 Dec 2026, 14:02` (the zone is named once, apart)."""
    local = moment.astimezone(ctx.time_zone)
    locale = babel_locale(ctx.locale)
    day = babel_dates.format_date(local, format="medium", locale=locale)
    clock = babel_dates.format_time(local, format="short", locale=locale)
    # Babel's own date-and-time pattern of the locale, with a short time (no seconds).
    pattern = str(babel_dates.get_datetime_format("medium", locale=locale)).replace("'", "")
    return pattern.replace("{1}", day).replace("{0}", clock)


def _time_of_day(
    field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None
) -> str | None:
    given = _number_or_text(value)
    if not isinstance(given, Decimal):
        return given
    minutes = int(given)
    if not 0 <= minutes < 24 * 60 or given != minutes:
        return None
    return babel_dates.format_time(time(minutes // 60, minutes % 60), format="short", locale=babel_locale(ctx.locale))


def _raw_text(value: Any) -> str | None:
    if isinstance(value, str):
        return _text_or_none(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return None


def _text(field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None) -> str | None:
    if isinstance(value, list):
        items = [text for item in value if (text := _raw_text(item)) is not None]
        return ", ".join(items)[:_MAX_TEXT] if items else None
    text = _raw_text(value)
    if text is not None and unit == "iso3166":
        name: str = babel_locale(ctx.locale).territories.get(text.upper(), text)
        return name
    return text


def _enum(field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        key = value
    elif isinstance(value, int):
        key = str(value)
    elif isinstance(value, float) and value.is_integer():
        key = str(int(value))
    else:
        return None
    message = enum_message(enums, field, key)
    if message is not None:
        text = translate(ctx.locale, message)
        # A message missing from the catalogues comes back as its id: the raw value reads better.
        if text != message:
            return text
    return _raw_text(value)


def enum_key(field_key: str, raw: str) -> str:
    """The key of a raw enum value that means something else in another field (`climate.seat_heater_left:2`)."""
    return f"{field_key}:{raw}"


def enum_message(enums: Mapping[str, str], field: FieldSpec, raw: str) -> str | None:
    """The message key of a raw enum value of `field`, or None when the table does not know it."""
    return enums.get(enum_key(field.key, raw)) or enums.get(raw)


_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})


def _boolean(
    field: FieldSpec, value: Any, ctx: RegionContext, enums: Mapping[str, str], unit: str | None
) -> str | None:
    answer: bool | None = None
    if isinstance(value, bool):
        answer = value
    elif isinstance(value, int) and value in (0, 1):
        answer = bool(value)
    elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        answer = value.strip().lower() in _TRUE
    if answer is None:
        return _raw_text(value)
    return translate(ctx.locale, "format.yes" if answer else "format.no")


_FORMATTERS: dict[FieldType, Callable[[FieldSpec, Any, RegionContext, Mapping[str, str], str | None], str | None]] = {
    FieldType.distance: _quantity,
    FieldType.energy: _quantity,
    FieldType.power: _quantity,
    FieldType.temperature: _quantity,
    FieldType.pressure: _quantity,
    FieldType.speed: _quantity,
    FieldType.percent: _percent,
    FieldType.number: _number,
    FieldType.money: _money,
    FieldType.duration: _duration,
    FieldType.date: _date,
    FieldType.time_of_day: _time_of_day,
    FieldType.text: _text,
    FieldType.enum: _enum,
    FieldType.boolean: _boolean,
}
