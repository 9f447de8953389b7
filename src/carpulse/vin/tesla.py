"""Tesla's own VIN positions 4-8 and 11, from NHTSA Part 565 filings (reference logbook-and-battery §5.2)."""

from __future__ import annotations

from dataclasses import dataclass

WMIS: dict[str, str] = {
    "5YJ": "United States",
    "7SA": "United States",
    "LRW": "China",
    "XP7": "Germany",
    "SFZ": "United Kingdom",  # Roadster 1, built by Lotus
    "7G2": "United States",  # Semi; Cybertruck also cited (unconfirmed)
}

MODELS: dict[str, str] = {
    "S": "Model S",
    "3": "Model 3",
    "X": "Model X",
    "Y": "Model Y",
    "C": "Cybertruck",
    "T": "Semi",
    "R": "Roadster",
}

BODIES: dict[str, tuple[str, str]] = {
    "A": ("Model S", "sedan, left-hand drive"),
    "B": ("Model S", "sedan, right-hand drive"),
    "C": ("Model X", "SUV, left-hand drive"),
    "D": ("Model X", "SUV, right-hand drive"),
    "E": ("Model 3", "sedan, left-hand drive"),
    "F": ("Model 3", "sedan, right-hand drive"),
    "G": ("Model Y", "SUV, left-hand drive"),
    "H": ("Model Y", "SUV, right-hand drive"),
}

RESTRAINTS: dict[str, str] = {
    "7": "2 front and 3 rear seat belts, front and side airbags, active hood",
}

# Position 7 on Model 3/Y; on older S/X it encodes a capacity class, so only E and F are read, and F only as a hint.
BATTERIES: dict[str, str] = {"E": "electric (lithium-ion)", "F": "lithium iron phosphate"}


@dataclass(frozen=True)
class Motor:
    drive: str
    motor: str
    confirmed: bool = True


MOTORS: dict[str, dict[str, Motor]] = {
    "Model S": {
        "1": Motor("RWD", "single"),
        "2": Motor("AWD", "dual"),
        "5": Motor("AWD", "dual_performance"),
        "6": Motor("AWD", "tri"),
    },
    "Model X": {
        "1": Motor("RWD", "single"),
        "2": Motor("AWD", "dual"),
        "5": Motor("AWD", "dual_performance"),
        "6": Motor("AWD", "tri"),
    },
    "Model 3": {"A": Motor("RWD", "single"), "B": Motor("AWD", "dual"), "C": Motor("AWD", "dual_performance")},
    "Model Y": {"D": Motor("RWD", "single"), "E": Motor("AWD", "dual"), "F": Motor("AWD", "dual_performance")},
}

PLANTS: dict[str, str] = {
    "F": "Fremont, California",
    "A": "Austin, Texas",
    "B": "Berlin-Brandenburg, Germany",
    "C": "Shanghai, China",
    "N": "Reno, Nevada",
    "P": "Palo Alto, California",
}

FIRST_MODEL_YEAR = 2008
