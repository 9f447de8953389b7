"""Static tables the synthetic fleet is drawn from: models and trims, markets, Supercharger sites, alerts, notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, timezone, tzinfo
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Region = Literal["na", "eu", "cn"]
REGIONS: tuple[Region, ...] = ("na", "eu", "cn")


@dataclass(frozen=True)
class Trim:
    badging: str
    label: str
    rated_range_miles: float  # EPA-style rated range of a new car at 100 %
    usable_kwh: float
    motor_code: str  # VIN position 8
    battery_warranty_miles: int
    battery_warranty_km: int


@dataclass(frozen=True)
class Model:
    name: str
    letter: str  # VIN position 4
    body_code: str  # VIN positions 5-7 (left-hand drive)
    body_code_rhd: str
    car_type: str
    introduced: date  # first customer deliveries
    trims: tuple[Trim, ...]
    tire_pressure_bar: float
    wheels: tuple[str, ...]


MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        Model(
            "Model S",
            "S",
            "A1E",
            "B1E",
            "models",
            date(2012, 6, 22),
            (
                Trim("75d", "Model S 75D", 259, 72.5, "2", 150_000, 240_000),
                Trim("100d", "Model S Long Range", 375, 95.0, "3", 150_000, 240_000),
                Trim("plaid", "Model S Plaid", 396, 95.0, "4", 150_000, 240_000),
            ),
            2.9,
            ("Slipstream19", "Tempest19", "Arachnid21"),
        ),
        Model(
            "Model X",
            "X",
            "CAE",
            "CBE",
            "modelx",
            date(2015, 9, 29),
            (
                Trim("75d", "Model X 75D", 238, 72.5, "2", 150_000, 240_000),
                Trim("100d", "Model X Long Range", 333, 95.0, "3", 150_000, 240_000),
                Trim("plaid", "Model X Plaid", 326, 95.0, "4", 150_000, 240_000),
            ),
            2.9,
            ("Cyberstream20", "Turbine22"),
        ),
        Model(
            "Model 3",
            "3",
            "E1E",
            "F1E",
            "model3",
            date(2017, 7, 28),
            (
                Trim("50", "Model 3 Rear-Wheel Drive", 272, 57.5, "A", 100_000, 160_000),
                Trim("74d", "Model 3 Long Range", 333, 75.0, "B", 120_000, 192_000),
                Trim("p74d", "Model 3 Performance", 315, 75.0, "C", 120_000, 192_000),
            ),
            2.9,
            ("Pinwheel18CapKit", "Stiletto19", "Photon18", "Stiletto20"),
        ),
        Model(
            "Model Y",
            "Y",
            "GDE",
            "HDE",
            "modely",
            date(2020, 3, 13),
            (
                Trim("74", "Model Y Rear-Wheel Drive", 260, 60.0, "D", 100_000, 160_000),
                Trim("74d", "Model Y Long Range", 330, 75.0, "E", 120_000, 192_000),
                Trim("p74d", "Model Y Performance", 303, 75.0, "F", 120_000, 192_000),
            ),
            2.9,
            ("Gemini19", "Induction20", "Uberturbine21"),
        ),
        Model(
            "Cybertruck",
            "C",
            "EHE",
            "EHE",
            "cybertruck",
            date(2023, 11, 30),
            (
                Trim("awd", "Cybertruck All-Wheel Drive", 318, 123.0, "D", 150_000, 240_000),
                Trim("cyberbeast", "Cyberbeast", 301, 123.0, "E", 150_000, 240_000),
            ),
            3.4,
            ("Cyber20AT", "Cyber20Aero"),
        ),
    )
}

EXTERIOR_COLORS = ("PearlWhite", "SolidBlack", "MidnightSilver", "DeepBlue", "RedMulticoat", "QuicksilverGrey")
DISPLAY_NAMES = (
    "Blue",
    "Spark",
    "Thunder",
    "Daisy",
    "Road Runner",
    "Silver Arrow",
    "Nessie",
    "Volt",
    "Ghost",
    "Pebble",
    "Comet",
    "Maple",
)


@dataclass(frozen=True)
class Market:
    country: str
    region: Region
    city: str
    latitude: float
    longitude: float
    time_zone: str
    utc_offset_hours: int  # standard time; the fallback when the system has no tz database
    language: str  # invoice file-name suffix, e.g. DE-DE
    imperial: bool
    rhd: bool


MARKETS: dict[str, Market] = {
    market.country: market
    for market in (
        Market("DE", "eu", "Berlin", 52.520008, 13.404954, "Europe/Berlin", 1, "DE-DE", False, False),
        Market("NL", "eu", "Utrecht", 52.090737, 5.12142, "Europe/Amsterdam", 1, "NL-NL", False, False),
        Market("SE", "eu", "Stockholm", 59.329323, 18.068581, "Europe/Stockholm", 1, "SE-SV", False, False),
        Market("NO", "eu", "Oslo", 59.913869, 10.752245, "Europe/Oslo", 1, "NO-NB", False, False),
        Market("DK", "eu", "Copenhagen", 55.676098, 12.568337, "Europe/Copenhagen", 1, "DK-DA", False, False),
        Market("CH", "eu", "Zurich", 47.376887, 8.541694, "Europe/Zurich", 1, "CH-DE", False, False),
        Market("GB", "eu", "Manchester", 53.480759, -2.242631, "Europe/London", 0, "GB-EN", True, True),
        Market("FR", "eu", "Paris", 48.856614, 2.352222, "Europe/Paris", 1, "FR-FR", False, False),
        Market("AT", "eu", "Vienna", 48.208174, 16.373819, "Europe/Vienna", 1, "AT-DE", False, False),
        Market("US", "na", "San Jose", 37.338208, -121.886329, "America/Los_Angeles", -8, "US-EN", True, False),
        Market("CA", "na", "Toronto", 43.653226, -79.383184, "America/Toronto", -5, "CA-EN", False, False),
        Market("CN", "cn", "Shanghai", 31.230416, 121.473701, "Asia/Shanghai", 8, "CN-ZH", False, False),
    )
}


@cache
def zone(market: Market) -> tzinfo:
    """The market's time zone; a fixed standard offset when the host has no tz database."""
    try:
        return ZoneInfo(market.time_zone)
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=market.utc_offset_hours))


@dataclass(frozen=True)
class Site:
    name: str
    country: str
    currency: str
    rate_per_kwh: float
    idle_fee_per_minute: float
    busy: bool  # idle fees are charged at busy sites only


SITES: tuple[Site, ...] = (
    Site("Berlin - Mitte", "DE", "EUR", 0.52, 0.50, True),
    Site("München - Freimann", "DE", "EUR", 0.55, 0.50, True),
    Site("Hamburg - Altona", "DE", "EUR", 0.49, 0.50, False),
    Site("Amsterdam - Zuidas", "NL", "EUR", 0.47, 0.50, True),
    Site("Utrecht - Papendorp", "NL", "EUR", 0.45, 0.50, False),
    Site("Paris - Vélizy", "FR", "EUR", 0.45, 0.50, True),
    Site("Wien - Simmering", "AT", "EUR", 0.50, 0.50, False),
    Site("Oslo - Økern", "NO", "NOK", 4.90, 5.00, True),
    Site("Lillehammer", "NO", "NOK", 4.20, 5.00, False),
    Site("Trondheim - Leangen", "NO", "NOK", 4.40, 5.00, False),
    Site("Stockholm - Kungens Kurva", "SE", "SEK", 5.60, 5.00, True),
    Site("Göteborg - Backaplan", "SE", "SEK", 5.20, 5.00, False),
    Site("København - Ørestad", "DK", "DKK", 3.90, 4.00, True),
    Site("Odense - Rosengård", "DK", "DKK", 3.60, 4.00, False),
    Site("Zürich - Dietlikon", "CH", "CHF", 0.56, 0.50, True),
    Site("Bern - Wankdorf", "CH", "CHF", 0.52, 0.50, False),
    Site("London - Park Royal", "GB", "GBP", 0.53, 0.50, True),
    Site("Manchester - Trafford", "GB", "GBP", 0.50, 0.50, False),
    Site("San Jose - Santana Row", "US", "USD", 0.48, 1.00, True),
    Site("Gilroy", "US", "USD", 0.44, 1.00, False),
    Site("Kettleman City", "US", "USD", 0.41, 1.00, True),
    Site("Toronto - Yorkdale", "CA", "CAD", 0.58, 1.00, True),
    Site("Kingston - Gardiners", "CA", "CAD", 0.55, 1.00, False),
    Site("Shanghai - Jing'an", "CN", "CNY", 1.80, 1.00, True),
    Site("Suzhou - Industrial Park", "CN", "CNY", 1.60, 1.00, False),
)

# Where owners of a market go on longer trips (their sessions abroad bring other currencies).
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "DE": ("AT", "NL", "DK", "CH", "FR"),
    "NL": ("DE", "FR"),
    "SE": ("NO", "DK", "DE"),
    "NO": ("SE", "DK", "DE"),
    "DK": ("DE", "SE"),
    "CH": ("DE", "FR", "AT"),
    "GB": ("FR", "NL"),
    "FR": ("DE", "CH"),
    "AT": ("DE", "CH"),
    "US": ("CA",),
    "CA": ("US",),
    "CN": (),
}


@dataclass(frozen=True)
class AlertKind:
    name: str
    user_text: str
    audience: tuple[str, ...]


ALERTS: tuple[AlertKind, ...] = (
    AlertKind("BMS_w035_Low_SOC", "Battery charge level low", ("service-fix", "customer")),
    AlertKind("VCFRONT_a180_lowVoltageBattery", "", ("service",)),
    AlertKind("TPMS_w040_Tire_Pressure_Low", "Tire pressure low - check tires", ("customer",)),
    AlertKind("CP_a079_chargeCableUnlatched", "Charge cable unlatched", ("customer",)),
    AlertKind("UMC_a017_ACChargeInterrupted", "Charging interrupted - check power source", ("customer",)),
    AlertKind("APP_w224_autopilotUnavailable", "Autopilot features temporarily unavailable", ("customer",)),
    AlertKind("DI_w172_driveRailVoltageLow", "", ("service",)),
    AlertKind("BMS_u018_Charge_Limit_Reduced", "Maximum charge level reduced", ("service-fix", "customer")),
    AlertKind("VCSEC_a218_keyFobBatteryLow", "Key fob battery low", ("customer",)),
    AlertKind("CC_a003_chargePortFault", "Unable to charge - charge port fault", ("service-fix", "customer")),
    AlertKind("THC_w001_cabinOverheatProtectionActive", "Cabin overheat protection active", ("customer",)),
    AlertKind("VCRIGHT_a227_windowCalibrationNeeded", "", ("service",)),
)


def firmware_versions(anchor: date) -> tuple[str, ...]:
    """Six software releases, oldest first, about six weeks apart, the newest three weeks before `anchor`."""
    versions = []
    for age in range(5, -1, -1):
        released = anchor - timedelta(weeks=3 + 6 * age)
        year, week, _ = released.isocalendar()
        versions.append(f"{year}.{week}.{(year * 53 + week) % 9 + 2}")
    return tuple(versions)


def firmware_number(version: str) -> int:
    """A release's integer id (`deployed_version` and friends in release_notes)."""
    year, week, patch = (int(part) for part in version.split("."))
    return year * 10_000 + week * 100 + patch


RELEASE_NOTES: tuple[tuple[str, str, str], ...] = (
    ("Dashcam Viewer", "Updated playback", "Browse and play back Dashcam clips by date, with a new timeline."),
    ("Supercharger Queue", "Virtual queueing", "Join a virtual queue at busy Superchargers from the navigation."),
    ("Charge Stats", "Charging statistics", "See energy added and cost per session in the Charging app."),
    ("Light Sync", "Ambient lighting", "Ambient lights now pulse with the music you are playing."),
    ("Blind Spot Camera", "Visible on turn", "The repeater camera view shows when you use the turn signal."),
    ("Trip Planner", "Better arrival estimates", "Arrival charge estimates now consider weather and elevation."),
)
