"""Tesla's codes in the reader's language: alert codes (names and meanings in `codes.po`), trims and warranty types.

A code missing from our tables is still shown: as a readable name made from the code, with the code beside it, marked
as not translated (`code.untranslated`), never as the bare code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carpulse.kit.i18n import translate
from carpulse.provider.tesla.fields import TESLA_ENUM_TABLES

# Codes seen in `recent_alerts` (reference §6.6; the sandbox draws from the same set).
KNOWN_ALERTS: tuple[str, ...] = (
    "APP_w224_autopilotUnavailable",
    "BMS_u018_Charge_Limit_Reduced",
    "BMS_w035_Low_SOC",
    "CC_a003_chargePortFault",
    "CP_a079_chargeCableUnlatched",
    "DI_w172_driveRailVoltageLow",
    "THC_w001_cabinOverheatProtectionActive",
    "TPMS_w040_Tire_Pressure_Low",
    "UMC_a017_ACChargeInterrupted",
    "VCFRONT_a180_lowVoltageBattery",
    "VCRIGHT_a227_windowCalibrationNeeded",
    "VCSEC_a218_keyFobBatteryLow",
)

# `CP_a079_chargeCableUnlatched`: the emitting module, a severity letter with a number, then a camel-case name.
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]*_[a-z]\d{3}_")
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|_+")


@dataclass(frozen=True)
class AlertName:
    """A known code's message ids, or (for an unknown code) a name made from the code."""

    code: str
    name_key: str | None
    text_key: str | None
    humanised: str


def alert_name(code: str) -> AlertName:
    if code in KNOWN_ALERTS:
        key = f"code.alert.{_slug(code)}"
        return AlertName(code, key, f"{key}.text", humanise(code))
    return AlertName(code, None, None, humanise(code))


def alert_wording(code: str, user_text: str | None, locale: str) -> tuple[str, str]:
    """An alert's name and meaning from our table; an unknown code's made-up name and Tesla's own text, both marked."""
    known = alert_name(code)
    if known.name_key and known.text_key:
        return translate(locale, known.name_key), translate(locale, known.text_key)
    name = translate(locale, "code.untranslated", name=known.humanised, code=code)
    return name, translate(locale, "code.alert.vendor_text", text=user_text) if user_text else ""


def coded(field_key: str, code: str | None, locale: str, name: str | None = None) -> str:
    """A Tesla enum value of a field (`config.trim_badging`) by our name; an unknown one by `name`, marked."""
    if not code:
        return name or ""
    key = TESLA_ENUM_TABLES.get(field_key, {}).get(code)
    if key is not None:
        return translate(locale, key)
    return translate(locale, "code.untranslated", name=name or humanise(code), code=code)


def humanise(code: str) -> str:
    """`CP_a079_chargeCableUnlatched` → `Charge cable unlatched`; acronyms (`SOC`, `AC`) keep their capitals."""
    words = [word for word in _WORD_BREAK.split(_PREFIX.sub("", code)) if word]
    if not words:
        return code
    said = [word if word.isupper() and len(word) > 1 else word.lower() for word in words]
    return " ".join(said)[:1].upper() + " ".join(said)[1:]


def _slug(code: str) -> str:
    return "_".join(word.lower() for word in _WORD_BREAK.split(code) if word)
