"""What every Logbook page shares: distances, durations and local times in the reader's language, and form errors."""

from __future__ import annotations

from datetime import date, datetime

from babel import dates as babel_dates
from babel import units as babel_units
from pydantic import ValidationError

from carpulse.kit import i18n


class LogbookFormat:
    """Distances (km), durations and a trip's local clock times, written the reader's way (Babel's units)."""

    def __init__(self, locale: str) -> None:
        self.locale = i18n.babel_locale(locale)

    def distance(self, km: float | None) -> str:
        if km is None:
            return "–"
        return str(babel_units.format_unit(round(km, 1), "length-kilometer", "short", locale=self.locale))

    def duration(self, seconds: int | None) -> str:
        if seconds is None:
            return "–"
        minutes = round(seconds / 60)
        hours, minutes = divmod(minutes, 60)
        parts = []
        if hours:
            parts.append(babel_units.format_unit(hours, "duration-hour", "short", locale=self.locale))
        parts.append(babel_units.format_unit(minutes, "duration-minute", "short", locale=self.locale))
        return " ".join(str(part) for part in parts)

    def month(self, day: date) -> str:
        """A month and its year, e.g. `marraskuu 2026` (fi)."""
        return str(babel_dates.format_skeleton("yMMMM", day, locale=self.locale))

    def clock(self, at: datetime | None) -> str:
        """The time of day where it happened (`at` carries that zone)."""
        if at is None:
            return "–"
        return str(babel_dates.format_time(at, "short", locale=self.locale))


def field_errors(error: ValidationError) -> dict[str, str]:
    """A form's invalid fields, each with the catalogue id of what is wrong (the first problem per field)."""
    errors: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        name = str(problem["loc"][0]) if problem.get("loc") else "form"
        kind = str(problem.get("type", ""))
        if kind in ("missing", "string_too_short"):
            message = "web.logbook.form.required"
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            message = "web.logbook.form.out_of_range"
        elif kind in ("float_parsing", "float_type", "int_parsing"):
            message = "web.logbook.form.number"
        elif kind == "string_too_long":
            message = "web.logbook.form.too_long"
        elif kind == "value_error" and name == "email":
            message = "web.logbook.form.email"
        else:
            message = "web.logbook.form.invalid"
        errors.setdefault(name, message)
    return errors


def blank_is_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None
