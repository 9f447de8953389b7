"""The packages a customer can choose, and which selections each allows.

Prices are consumer prices in EUR cents, VAT included (seed 000: Basic 1900, Pro 2900, Bulk 14900).
"""

from __future__ import annotations

from dataclasses import dataclass
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
