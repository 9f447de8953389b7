"""VIN validation and decoding (ISO 3779 / 49 CFR 565): pure functions, no I/O.

The check digit (position 9) is enforced where it is mandatory or always computed: VINs of North America (49 CFR
565) and China (GB 16735), and every Tesla VIN whatever its plant. Elsewhere it is reported, not enforced: many
European makers put a letter or a filler there (VW Group writes Z), so a mismatch proves nothing.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from typing import Any

from vininfo import Vin

from carpulse.vin import makes, tesla
from carpulse.vin.errors import InvalidVin
from carpulse.vin.schemas import DecodedVin

LENGTH = 17
_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_TRANSLITERATION = dict(
    zip("ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Position 10: the 30-year cycle of model-year codes (no I, O, Q, U, Z or 0).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
# Cyrillic and Greek capitals that print like Latin ones (NFKC folds full-width forms, not these).
_LOOK_ALIKES = dict(zip("АВЕКМНОРСТУХІЈΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEKMHOPCTYXIJABEZHIKMNOPTYX", strict=True))
_CHECKED_REGIONS = frozenset({"North America"})
_CHECKED_COUNTRIES = frozenset({"China"})


def _invalid(check: str, detail: str, **extensions: Any) -> InvalidVin:
    return InvalidVin(detail, check=check, **extensions)


def _character_problem(text: str) -> InvalidVin | None:
    for position, char in enumerate(text, start=1):
        if char.isascii() and char.isalnum():
            continue
        if char.isascii():
            shown = "a space" if char == " " else f"'{char}'"
            return _invalid(
                "characters",
                f"position {position} is {shown}: a VIN has only the letters A-Z and the digits 0-9",
                position=position,
            )
        name = unicodedata.name(char, f"U+{ord(char):04X}")
        folded = _LOOK_ALIKES.get(char) or unicodedata.normalize("NFKC", char)
        hint = f" (it looks like '{folded}')" if folded.isascii() and folded.isalnum() else ""
        return _invalid(
            "characters",
            f"position {position} is the non-ASCII character {name}{hint}: a VIN has only the ASCII letters A-Z "
            "and digits 0-9",
            position=position,
            character=name,
        )
    return None


def check_digit(vin: str) -> str:
    """The check digit positions 1-8 and 10-17 call for: '0'-'9' or 'X'."""
    total = sum(
        (_TRANSLITERATION[char] if char.isalpha() else int(char)) * weight
        for char, weight in zip(vin, _WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def check_digit_enforced(vin: str) -> bool:
    """Whether a wrong check digit makes this VIN invalid (see the module's rule)."""
    if vin[:3] in tesla.WMIS:
        return True
    decoded = Vin(vin)
    return decoded.region in _CHECKED_REGIONS or decoded.country in _CHECKED_COUNTRIES


def check(text: str) -> str:
    """The VIN itself if it is one; else `InvalidVin` naming the first check it fails."""
    problem = _character_problem(text)
    if problem is not None:
        raise problem
    if len(text) != LENGTH:
        raise _invalid("length", f"a VIN has {LENGTH} characters, this has {len(text)}", length=len(text))
    if text != text.upper():
        position = next(index for index, char in enumerate(text, start=1) if char.islower())
        raise _invalid("case", f"VINs are upper case: position {position} is '{text[position - 1]}'", position=position)
    for position, char in enumerate(text, start=1):
        if char in "IOQ":
            raise _invalid(
                "letters",
                f"position {position} is '{char}': VINs never use I, O or Q (they read as 1 and 0)",
                position=position,
            )
    expected = check_digit(text)
    if text[8] != expected and check_digit_enforced(text):
        raise _invalid(
            "check_digit",
            f"the check digit (position 9) is '{text[8]}' but the other characters make it '{expected}'",
            position=9,
            expected=expected,
        )
    return text


def model_year(code: str, *, first: int, today: date) -> int | None:
    """The model year a position-10 code stands for: the latest in its 30-year cycle that is not past next year
    and not before the make's first cars; None for a code outside the cycle."""
    index = _YEAR_CODES.find(code)
    if index < 0:
        return None
    candidates = [year for year in (1980 + index + 30 * cycle for cycle in range(4)) if first <= year <= today.year + 1]
    return max(candidates, default=None)


def decode(vin: str, *, today: date | None = None) -> DecodedVin:
    """What the VIN says: maker, country, model year, plant and, for the makes we carry, model and drive."""
    vin = check(vin)
    today = today or datetime.now(UTC).date()
    info = Vin(vin)
    wmi = vin[:3]
    manufacturer = info.manufacturer if info.manufacturer != "UnsupportedBrand" else None
    base: dict[str, Any] = {
        "vin": vin,
        "wmi": wmi,
        "manufacturer": manufacturer,
        "region": info.region,
        "country": info.country,
        "plant_code": vin[10],
        "check_digit_valid": vin[8] == check_digit(vin),
        "check_digit_enforced": check_digit_enforced(vin),
    }
    if wmi in tesla.WMIS:
        return _tesla(vin, base, today)
    make = makes.MAKES.get(wmi)
    if make is None:
        return DecodedVin(**base)
    base["make"] = make.make
    if make.encodes_model_year:
        base["model_year"] = model_year(vin[9], first=make.first_model_year, today=today)
    code = (
        makes.RENAULT_CODES.get(vin[3:6])
        if make.make == "Renault"
        else makes.VW_GROUP_CODES.get(make.make, {}).get(vin[6:8])
    )
    unconfirmed: list[str] = []
    if code is not None:
        if len(code.models) == 1:
            base["model"] = code.models[0]
        else:
            base["model_candidates"] = code.models
        if not code.confirmed:
            unconfirmed.append("model")
    base["plant"] = makes.VW_GROUP_PLANTS.get(make.make, {}).get(vin[10])
    return DecodedVin(**base, unconfirmed=tuple(unconfirmed))


def _tesla(vin: str, base: dict[str, Any], today: date) -> DecodedVin:
    unconfirmed: list[str] = []
    model = tesla.MODELS.get(vin[3])
    body = tesla.BODIES.get(vin[4])
    battery = tesla.BATTERIES.get(vin[6]) if model in ("Model 3", "Model Y") else None
    motor = tesla.MOTORS.get(model or "", {}).get(vin[7])
    if vin[6] == "F" and battery is not None:
        unconfirmed.append("chemistry_hint")
    if vin[:3] == "7G2":
        unconfirmed.append("manufacturer")
    return DecodedVin(
        **base
        | {
            "manufacturer": "Tesla",
            "make": "Tesla",
            "country": tesla.WMIS[vin[:3]],
            "model": model,
            "model_year": model_year(vin[9], first=tesla.FIRST_MODEL_YEAR, today=today),
            "plant": tesla.PLANTS.get(vin[10]),
            # Position 5 must agree with position 4; a body code of another model says nothing.
            "body": body[1] if body is not None and body[0] == model else None,
            "restraints": tesla.RESTRAINTS.get(vin[5]),
            "battery": battery,
            "chemistry_hint": "LFP" if battery is not None and vin[6] == "F" else None,
            "drive": motor.drive if motor is not None else None,
            "motor": motor.motor if motor is not None else None,
            "unconfirmed": tuple(unconfirmed),
        }
    )
