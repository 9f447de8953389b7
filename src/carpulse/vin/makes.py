"""VIN tables of the other makes we carry: VW Group type codes (positions 7-8) and Renault project codes.

VW Group fills positions 4-6 and 9 with Z in Europe and puts its two-character type code at 7-8, the model year
at 10 and the plant at 11. Renault puts a project code at 4-6 and no model year at 10 (a 2021 Zoe reads "6"
there). Codes seen on many public VINs of named cars are confirmed; the rest are marked unconfirmed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Make:
    make: str
    encodes_model_year: bool
    first_model_year: int


@dataclass(frozen=True)
class ModelCode:
    models: tuple[str, ...]  # several when the code is shared
    confirmed: bool


MAKES: dict[str, Make] = {
    "WVW": Make("Volkswagen", True, 1980),
    "WVG": Make("Volkswagen", True, 1980),
    "TMB": Make("Skoda", True, 1980),
    "VSS": Make("Cupra", True, 1980),  # SEAT's WMI; the electric cars we carry are sold as Cupra
    "WAU": Make("Audi", True, 1980),
    "WA1": Make("Audi", True, 1980),
    "VF1": Make("Renault", False, 1980),
}

# VW Group: positions 7-8.
VW_GROUP_CODES: dict[str, dict[str, ModelCode]] = {
    "Volkswagen": {"E1": ModelCode(("ID.3",), True), "E2": ModelCode(("ID.4",), True)},
    "Skoda": {"NY": ModelCode(("Enyaq",), True)},
    "Cupra": {"K1": ModelCode(("Born",), True)},
    "Audi": {"FZ": ModelCode(("Q4 e-tron",), True), "GE": ModelCode(("Q8 e-tron",), False)},
}

# Renault: positions 4-6 (for the CMF-EV cars the code names the platform, shared by Megane and Scenic).
RENAULT_CODES: dict[str, ModelCode] = {
    "AG0": ModelCode(("Zoe",), True),
    "RCB": ModelCode(("Megane E-Tech", "Scenic E-Tech"), False),
}

VW_GROUP_PLANTS: dict[str, dict[str, str]] = {
    "Volkswagen": {"P": "Zwickau, Germany"},
    "Cupra": {"P": "Zwickau, Germany"},
    "Audi": {"P": "Zwickau, Germany", "B": "Brussels, Belgium"},
}
