"""Reading the admin's form fields: numbers, amounts and UTC times typed into inputs, each error named by field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from starlette.datastructures import FormData


class FormErrors(dict[str, str]):
    """Field name → catalogue id of what is wrong with it; a field without an error reads as None."""

    def __missing__(self, key: str) -> None:
        return None


class FormValues(dict[str, object]):
    """What a form shows in its fields; a field not given reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional_count(form: FormData, name: str, errors: FormErrors, message: str) -> int | None:
    """A whole number, or None when left empty (no limit)."""
    raw = text(form, name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors[name] = message
        return None


def decimal(form: FormData, name: str, errors: FormErrors, message: str) -> Decimal | None:
    """A decimal typed with a point or a comma (`12.50`, `12,50`); None when empty."""
    raw = text(form, name).replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors[name] = message
        return None
    if not value.is_finite():
        errors[name] = message
        return None
    return value


def minor_units(value: Decimal | None) -> int | None:
    """An amount in currency units (12.50) as minor units (1250); fractions of a cent are refused by callers."""
    if value is None:
        return None
    return int((value * 100).to_integral_value())


def utc_moment(form: FormData, name: str, errors: FormErrors, message: str) -> datetime | None:
    """A `datetime-local` input (`2027-01-31T12:00`) read as UTC; None when empty."""
    raw = text(form, name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        errors[name] = message
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def local_input(moment: datetime | None) -> str:
    """A stored UTC time as a `datetime-local` input's value."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""


def field_errors(exc: ValidationError, fields: dict[str, tuple[str, str]], whole: tuple[str, str]) -> FormErrors:
    """Pydantic's errors as form errors: `fields` maps a schema field to (form field, message id); an error
    of the whole model goes to `whole` (form field, message id)."""
    errors = FormErrors()
    for error in exc.errors():
        location = error.get("loc", ())
        name = str(location[0]) if location else ""
        target = fields.get(name, whole)
        errors.setdefault(target[0], target[1])
    return errors
