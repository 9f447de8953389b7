"""Vehicle identification numbers: the North American check digit (ISO 3779 position 9) and model-year codes."""

from __future__ import annotations

_TRANSLITERATION = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# The 30-year cycle of position 10; I, O, Q, U, Z and 0 are never used.
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


def check_digit(vin: str) -> str:
    """The check digit a 17-character VIN must carry at position 9 (the value there is ignored)."""
    if len(vin) != 17:
        raise ValueError("a VIN has 17 characters")
    total = sum(_TRANSLITERATION[char] * weight for char, weight in zip(vin.upper(), _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def is_valid(vin: str) -> bool:
    """Whether the VIN has 17 allowed characters and a correct check digit."""
    return len(vin) == 17 and all(char in _TRANSLITERATION for char in vin) and vin[8] == check_digit(vin)


def year_code(model_year: int) -> str:
    """The position-10 code of a model year (2010 = A … 2030 = Y, 2031 = 1)."""
    return _YEAR_CODES[(model_year - 2010) % 30]


def build(wmi: str, descriptor: str, model_year: int, plant: str, serial: int) -> str:
    """A VIN from its parts: 3-character WMI, positions 4-8, model year, plant code and a 6-digit serial."""
    if len(wmi) != 3 or len(descriptor) != 5 or len(plant) != 1:
        raise ValueError("malformed VIN parts")
    draft = f"{wmi}{descriptor}0{year_code(model_year)}{plant}{serial:06d}"
    return f"{draft[:8]}{check_digit(draft)}{draft[9:]}"
