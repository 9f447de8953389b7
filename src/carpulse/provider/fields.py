"""Brand-agnostic report fields: what a provider's raw value means, its source unit, label and glossary entry.

A brand's field map (`provider/<brand>/fields.py`) keys `FieldDef`s by a path into that brand's raw
payloads (`VehicleSnapshot.raw`); `extract` walks those paths. Paths are dotted keys, and `name[]`
steps into every item of a list: `warranty.activeWarranty[].expirationDate`, `recent_alerts[].audience[]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from carpulse.kit.region import FieldType, enum_key


class Section(StrEnum):
    """Where a field belongs in a report; the order of the members is the order of the report."""

    identity = "identity"
    battery = "battery"
    charging = "charging"
    charging_history = "charging_history"
    drive = "drive"
    location = "location"
    climate = "climate"
    tyres = "tyres"
    security = "security"
    software = "software"
    service = "service"
    warranty = "warranty"
    alerts = "alerts"
    configuration = "configuration"
    settings = "settings"


PACKAGES: tuple[str, ...] = ("basic", "pro")
BASIC_AND_PRO: frozenset[str] = frozenset(PACKAGES)
PRO_ONLY: frozenset[str] = frozenset({"pro"})

# Terms a report's glossary explains, in reading order; a field's glossary_key is one of these.
GLOSSARY_TERMS: tuple[str, ...] = (
    "glossary.state_of_charge",
    "glossary.usable_battery_level",
    "glossary.rated_range",
    "glossary.estimated_range",
    "glossary.ideal_range",
    "glossary.state_of_health",
    "glossary.energy_remaining",
    "glossary.lifetime_energy",
    "glossary.high_voltage_battery",
    "glossary.battery_temperature",
    "glossary.battery_heating",
    "glossary.charge_limit",
    "glossary.max_range_charge",
    "glossary.ac_charging",
    "glossary.dc_charging",
    "glossary.supercharger",
    "glossary.charging_phases",
    "glossary.energy_added",
    "glossary.managed_charging",
    "glossary.off_peak_charging",
    "glossary.scheduled_departure",
    "glossary.preconditioning",
    "glossary.idle_fee",
    "glossary.phantom_drain",
    "glossary.regenerative_braking",
    "glossary.cabin_overheat_protection",
    "glossary.climate_keeper",
    "glossary.tpms",
    "glossary.recommended_cold_pressure",
    "glossary.sentry_mode",
    "glossary.valet_mode",
    "glossary.speed_limit_mode",
    "glossary.autopilot_hardware",
    "glossary.over_the_air_update",
    "glossary.service_mode",
    "glossary.vehicle_alert",
    "glossary.warranty",
    "glossary.connector_type",
)

_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_STEP = re.compile(r"^([^.\[\]]+)(\[\])?$")


@dataclass(frozen=True, kw_only=True)
class FieldDef:
    """One report field: `unit` is the unit of the raw value as the provider sends it (never the display unit)."""

    key: str
    type: FieldType
    section: Section
    label_key: str
    unit: str | None = None
    glossary_key: str | None = None
    packages: frozenset[str] = PRO_ONLY
    # Location and personal data (coordinates, destinations, a paired phone's name) is never printed.
    sensitive: bool = False
    # A sibling key of the same object whose value is the unit (a currency code, "KM"/"MI"); `unit` is the fallback.
    unit_from: str | None = None
    # Decimal places shown; None: the type's default.
    decimals: int | None = None

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"field key {self.key!r} is not a dotted lower-case key")
        if not self.label_key.startswith("field."):
            raise ValueError(f"{self.key}: label_key {self.label_key!r} must start with 'field.'")
        if self.glossary_key is not None and self.glossary_key not in GLOSSARY_TERMS:
            raise ValueError(f"{self.key}: glossary_key {self.glossary_key!r} is not in GLOSSARY_TERMS")
        if not self.packages or not self.packages <= BASIC_AND_PRO:
            raise ValueError(f"{self.key}: packages {sorted(self.packages)} must be a non-empty subset of {PACKAGES}")
        if self.decimals is not None and self.decimals < 0:
            raise ValueError(f"{self.key}: decimals must not be negative")

    def in_package(self, package: str) -> bool:
        """Whether a report of this package (`basic`, `pro`) shows the field."""
        return package in self.packages


@dataclass(frozen=True)
class FieldValue:
    """A raw value found in a payload, with where it was found (`recent_alerts[2].name`) and its source unit."""

    field: FieldDef
    value: Any
    captured_at: datetime | None
    path: str
    unit: str | None


CapturedAt = Callable[[str], datetime | None]


@dataclass(frozen=True)
class _Step:
    key: str
    each: bool


@cache
def _steps(path: str) -> tuple[_Step, ...]:
    steps = []
    for part in path.split("."):
        match = _STEP.match(part)
        if match is None:
            raise ValueError(f"bad field path {path!r} at {part!r}")
        steps.append(_Step(match.group(1), match.group(2) is not None))
    return tuple(steps)


def _walk(node: Any, steps: tuple[_Step, ...], prefix: str) -> Iterator[tuple[str, Any, Mapping[str, Any] | None]]:
    """(concrete path, value, the object holding the value) for every place the path reaches."""
    step, rest = steps[0], steps[1:]
    if not isinstance(node, Mapping) or step.key not in node:
        return
    here = f"{prefix}.{step.key}" if prefix else step.key
    value = node[step.key]
    if not step.each:
        if rest:
            yield from _walk(value, rest, here)
        else:
            yield here, value, node
        return
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        concrete = f"{here}[{index}]"
        if rest:
            yield from _walk(item, rest, concrete)
        else:
            yield concrete, item, None


def extract(
    raw: Mapping[str, Any],
    field_map: Mapping[str, FieldDef],
    captured_at_for: CapturedAt | None = None,
    *,
    include_sensitive: bool = False,
) -> list[FieldValue]:
    """Every value of `field_map` present in `raw` (a present null included, a missing key skipped), in map order.

    Sensitive fields are left out unless asked for; `captured_at_for(path)` says when a path's part was read.
    """
    found: list[FieldValue] = []
    for path, field in field_map.items():
        if field.sensitive and not include_sensitive:
            continue
        captured_at = captured_at_for(path) if captured_at_for is not None else None
        for concrete, value, holder in _walk(raw, _steps(path), ""):
            unit = field.unit
            if field.unit_from is not None and holder is not None:
                given = holder.get(field.unit_from)
                if isinstance(given, str) and given.strip():
                    unit = given.strip()
            found.append(FieldValue(field, value, captured_at, concrete, unit))
    return found


def flatten_enums(tables: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Per-field tables (field key → raw value → message key) as one table keyed by `enum_key(field, raw)`.

    A raw value that reads the same wherever it appears is also keyed by itself (`Charging`); codes
    whose meaning depends on the field (door and heater states are both 0-3) and blanks never are.
    """
    meanings: dict[str, set[str]] = {}
    for table in tables.values():
        for raw, message in table.items():
            meanings.setdefault(raw, set()).add(message)
    flat: dict[str, str] = {}
    for field_key, table in tables.items():
        for raw, message in table.items():
            flat[enum_key(field_key, raw)] = message
            if len(meanings[raw]) == 1 and raw.strip() and not raw.lstrip("-").isdigit():
                flat[raw] = message
    return flat


def leaf_paths(payload: Any, prefix: str = "") -> set[str]:
    """Field-map paths of every leaf of a payload (`a.b`, `a.list[].c`, `a.names[]`), empty lists and objects too."""
    paths: set[str] = set()
    if isinstance(payload, Mapping):
        if not payload and prefix:
            paths.add(prefix)
        for key, value in payload.items():
            paths |= leaf_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(payload, list):
        if not payload:
            paths.add(f"{prefix}[]")
        for item in payload:
            paths |= leaf_paths(item, f"{prefix}[]")
    else:
        paths.add(prefix)
    return paths


@dataclass(frozen=True)
class FieldCatalogue:
    """A brand's field map: how its own payloads (`VehicleSnapshot.raw`) become report fields in any language."""

    fields: Mapping[str, FieldDef]
    # Raw enum value → message id (see `flatten_enums`), and the tables by field key it was made from.
    enums: Mapping[str, str]
    enum_tables: Mapping[str, Mapping[str, str]]
    # When each path of a snapshot's raw payloads was read: `capture_times(raw, fallback)(path)`.
    capture_times: Callable[[Mapping[str, Any], datetime | None], CapturedAt]
    # An alert code's name and meaning in a locale, and any other coded value (trim, warranty type) by field.
    alert_wording: Callable[[str, str | None, str], tuple[str, str]]
    coded: Callable[[str, str | None, str, str | None], str]
    # The message id naming where the readings come from (the brand's API), shown beside each value; it may
    # use `%(brand)s`.
    source_key: str
    # How each normalized reading of a snapshot (in our units: km, %) is formatted, by its attribute name.
    readings: Mapping[str, FieldDef] = dataclass_field(default_factory=lambda: READINGS)


def _reading(name: str, type_: FieldType, unit: str | None, section: Section) -> FieldDef:
    return FieldDef(
        key=f"reading.{name}",
        type=type_,
        unit=unit,
        section=section,
        label_key=f"field.reading.{name}",
        packages=BASIC_AND_PRO,
    )


# A snapshot's normalized readings, for a brand whose field map has nothing better to format them with.
READINGS: Mapping[str, FieldDef] = {
    "odometer": _reading("odometer", FieldType.distance, "km", Section.drive),
    "battery_level": _reading("battery_level", FieldType.percent, "%", Section.battery),
    "usable_battery_level": _reading("usable_battery_level", FieldType.percent, "%", Section.battery),
    "range": _reading("range", FieldType.distance, "km", Section.battery),
    "software_version": _reading("software_version", FieldType.text, None, Section.software),
    "charging_state": _reading("charging_state", FieldType.text, None, Section.charging),
}


def no_alert_wording(code: str, user_text: str | None, locale: str) -> tuple[str, str]:
    """For a brand with no alert table: the code as sent, and its own text."""
    return code, user_text or ""


def no_codes(field_key: str, code: str | None, locale: str, name: str | None = None) -> str:
    """For a brand with no code tables: the name it sent, else the code."""
    return name or code or ""


def fallback_capture_times(raw: Mapping[str, Any], fallback: datetime | None) -> CapturedAt:
    """Every path was read when the snapshot was."""
    return lambda path: fallback
