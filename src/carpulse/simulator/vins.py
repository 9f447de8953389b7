"""VINs for catalogue versions: built from the tables `carpulse.vin` decodes with, and checked by decoding them.

A VIN is kept only when it decodes back to its version, or at least to a set of versions containing it (most
European VINs do not tell versions apart); versions no VIN of ours can name (a model without a known type code)
are left out of the fleet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

from carpulse.vehicle_model.catalogue import CatalogueEntry, candidates, entries
from carpulse.vin import makes, tesla
from carpulse.vin.decoder import check_digit, decode, model_year

_YEAR_ALPHABET = "ABCDEFGHJKLMNPRSTVWXY123456789"
_TESLA_MODEL_CODES = {model: code for code, model in tesla.MODELS.items()}
_TESLA_BODIES = {model: code for code, (model, side) in tesla.BODIES.items() if "left" in side}
_TESLA_PLANTS = {"5YJ": "F", "7SA": "A", "LRW": "C", "XP7": "B", "7G2": "A"}
_VW_WMIS = {"Volkswagen": "WVW", "Skoda": "TMB", "Cupra": "VSS", "Audi": "WAU"}
_VW_PLANTS = {"Q8 e-tron": "B", "Enyaq": "Y"}  # Brussels, Mladá Boleslav; the rest Zwickau (P)


@dataclass(frozen=True)
class Template:
    """A VIN's first 11 positions for one version and model year, but the check digit (position 9)."""

    entry: CatalogueEntry
    model_year: int
    prefix: str
    exact: bool  # the VIN names this version alone


def _year_code(year: int, today: date) -> str | None:
    return next((code for code in _YEAR_ALPHABET if model_year(code, first=1980, today=today) == year), None)


def _tesla_prefix(entry: CatalogueEntry, wmi: str, year_code: str) -> str | None:
    model = _TESLA_MODEL_CODES.get(entry.model)
    if model is None:
        return None
    motors = tesla.MOTORS.get(entry.model, {})
    motor = next((code for code, known in motors.items() if known.motor == entry.motor), "E" if not motors else None)
    if motor is None:
        return None
    body = _TESLA_BODIES.get(entry.model, "A")
    battery = "F" if entry.chemistry == "LFP" else "E"
    return f"{wmi}{model}{body}7{battery}{motor}0{year_code}{_TESLA_PLANTS.get(wmi, 'F')}"


def _vw_prefix(entry: CatalogueEntry, year_code: str) -> str | None:
    wmi = _VW_WMIS.get(entry.make)
    codes = makes.VW_GROUP_CODES.get(entry.make, {})
    code = next((code for code, known in codes.items() if entry.model in known.models), None)
    if wmi is None or code is None:
        return None
    return f"{wmi}ZZZ{code}0{year_code}{_VW_PLANTS.get(entry.model, 'P')}"


def _renault_prefix(entry: CatalogueEntry) -> str | None:
    code = next((code for code, known in makes.RENAULT_CODES.items() if entry.model in known.models), None)
    # Renault writes no model year at position 10 (a 2021 Zoe reads "6"): the year is the car's, not the VIN's.
    return f"VF1{code}0006F" if code is not None else None


def _prefixes(entry: CatalogueEntry, year: int, today: date) -> list[str]:
    if entry.make == "Renault":
        prefix = _renault_prefix(entry)
        return [prefix] if prefix else []
    code = _year_code(year, today)
    if code is None:
        return []
    if entry.make == "Tesla":
        wmis: Sequence[str] = entry.factories or (("7G2",) if entry.model == "Cybertruck" else ("5YJ",))
        return [prefix for wmi in wmis if (prefix := _tesla_prefix(entry, wmi, code))]
    prefix = _vw_prefix(entry, code)
    return [prefix] if prefix else []


def with_check_digit(prefix: str, serial: int) -> str:
    """The 17 characters: prefix, six-digit serial, and the check digit the others call for."""
    body = f"{prefix}{serial % 1_000_000:06d}"
    return body[:8] + check_digit(body) + body[9:]


@cache
def templates(until: date) -> tuple[Template, ...]:
    """Every version and model year up to `until` that a VIN of ours decodes to, exactly where one can."""
    today = datetime.now(UTC).date()
    found: list[Template] = []
    for entry in entries():
        last = min(entry.year_to or until.year, until.year)
        for year in range(entry.year_from, last + 1):
            for prefix in _prefixes(entry, year, today):
                ids = [match.model_id for match in candidates(decode(with_check_digit(prefix, 0)))]
                if entry.model_id in ids:
                    found.append(Template(entry, year, prefix, exact=ids == [entry.model_id]))
    # Where some model year names the version exactly, the ambiguous years of that version are left out.
    exact = {template.entry.model_id for template in found if template.exact}
    return tuple(template for template in found if template.exact or template.entry.model_id not in exact)
