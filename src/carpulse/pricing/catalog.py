"""The packages a customer can choose, and which selections each allows.

Prices are consumer prices in EUR cents, VAT included (seed 000: Basic 1900, Pro 2900, Bulk 14900).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class PackageCode(StrEnum):
    basic = "basic"
    pro = "pro"
    bulk = "bulk"


@dataclass(frozen=True)
class Package:
    code: PackageCode
    price_cents: int
    currency: str
    min_vehicles: int
    max_vehicles: int
    report_level: PackageCode


PACKAGES: dict[PackageCode, Package] = {
    # Basic and Pro are priced per vehicle; Bulk is one price for a Pro report on each of many vehicles.
    PackageCode.basic: Package(PackageCode.basic, 1900, "EUR", 1, 10, PackageCode.basic),
    PackageCode.pro: Package(PackageCode.pro, 2900, "EUR", 1, 10, PackageCode.pro),
    PackageCode.bulk: Package(PackageCode.bulk, 14900, "EUR", 2, 25, PackageCode.pro),
}


def selection_problem(package: PackageCode, vehicle_count: int) -> str | None:
    """Why this many vehicles cannot be bought in this package, or None when they can."""
    rules = PACKAGES[package]
    if vehicle_count < rules.min_vehicles:
        return f"The {package.value} package needs at least {rules.min_vehicles} vehicle(s)."
    if vehicle_count > rules.max_vehicles:
        return f"The {package.value} package covers at most {rules.max_vehicles} vehicles."
    return None


# Volume discount on per-vehicle packages: (minimum vehicles, percent off). Bulk has its own price.
VOLUME_TIERS: tuple[tuple[int, Decimal], ...] = ((1, Decimal(0)), (2, Decimal(10)), (4, Decimal(15)), (7, Decimal(20)))

# Package names in the 9 locales (product data, like a product table with translations).
PACKAGE_NAMES: dict[PackageCode, dict[str, str]] = {
    PackageCode.basic: {
        "en": "Basic report",
        "fi": "Perusraportti",
        "sv": "Basrapport",
        "no": "Grunnrapport",
        "da": "Basisrapport",
        "de": "Basisbericht",
        "fr": "Rapport de base",
        "es": "Informe básico",
        "it": "Rapporto base",
    },
    PackageCode.pro: {
        "en": "Pro report",
        "fi": "Pro-raportti",
        "sv": "Pro-rapport",
        "no": "Pro-rapport",
        "da": "Pro-rapport",
        "de": "Pro-Bericht",
        "fr": "Rapport Pro",
        "es": "Informe Pro",
        "it": "Rapporto Pro",
    },
    PackageCode.bulk: {
        "en": "Bulk: Pro reports for a fleet",
        "fi": "Bulk: Pro-raportit kalustolle",
        "sv": "Bulk: Pro-rapporter för en vagnpark",
        "no": "Bulk: Pro-rapporter for en bilpark",
        "da": "Bulk: Pro-rapporter til en vognpark",
        "de": "Bulk: Pro-Berichte für eine Flotte",
        "fr": "Bulk : rapports Pro pour une flotte",
        "es": "Bulk: informes Pro para una flota",
        "it": "Bulk: rapporti Pro per una flotta",
    },
}

PACKAGE_CONTENTS: dict[PackageCode, list[str]] = {
    PackageCode.basic: [
        "identity",
        "odometer",
        "software",
        "battery_level_and_range",
        "warranty",
        "open_alerts",
        "summary",
    ],
    PackageCode.pro: [
        "identity",
        "odometer",
        "software",
        "battery_level_and_range",
        "warranty",
        "open_alerts",
        "summary",
        "battery_health",
        "charging_history",
        "alert_history",
        "service_data",
        "glossary",
        "charts",
    ],
    PackageCode.bulk: ["pro_report_per_vehicle"],
}


def volume_discount_percent(vehicle_count: int) -> Decimal:
    percent = Decimal(0)
    for minimum, off in VOLUME_TIERS:
        if vehicle_count >= minimum:
            percent = off
    return percent


def package_name(package: PackageCode, locale: str) -> str:
    names = PACKAGE_NAMES[package]
    return names.get(locale, names["en"])
