"""`/dx/warranty/details`: the warranties of a vehicle, active or expired by date or by distance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fakes.tesla_fleet.fleet import Vehicle

_KM_PER_MILE = 1.609344


@dataclass(frozen=True)
class _Coverage:
    kind: str
    display_name: str
    years: int
    miles: int
    km: int


def _coverages(vehicle: Vehicle) -> list[_Coverage]:
    trim = vehicle.trim
    coverages = [
        _Coverage("NEW_MFG_WARRANTY", "Basic Vehicle Limited Warranty", 4, 50_000, 80_000),
        _Coverage(
            "BATTERY_WARRANTY",
            "Battery Limited Warranty",
            8,
            trim.battery_warranty_miles,
            trim.battery_warranty_km,
        ),
        _Coverage(
            "DRIVEUNIT_WARRANTY",
            "Drive Unit Limited Warranty",
            8,
            trim.battery_warranty_miles,
            trim.battery_warranty_km,
        ),
    ]
    if vehicle.market.region == "na":
        coverages.append(_Coverage("SRS_WARRANTY", "Supplemental Restraint System Limited Warranty", 5, 60_000, 96_000))
    return coverages


def _add_years(day: date, years: int) -> date:
    if day.month == 2 and day.day == 29:
        day = day.replace(day=28)
    return day.replace(year=day.year + years)


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def details(vehicle: Vehicle, *, today: date) -> dict[str, Any]:
    """Warranties split into active, upcoming (none in this fake) and expired, in the market's distance unit."""
    imperial = vehicle.market.imperial
    odometer = vehicle.odometer_miles if imperial else vehicle.odometer_miles * _KM_PER_MILE
    age_days = max(1, (today - vehicle.delivered_on).days)
    active: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    for coverage in _coverages(vehicle):
        limit = coverage.miles if imperial else coverage.km
        ends_on = _add_years(vehicle.delivered_on, coverage.years)
        expired_on: date | None = None
        if odometer >= limit:
            # The day the odometer crossed the limit, assuming even use since delivery.
            expired_on = vehicle.delivered_on + timedelta(days=int(age_days * limit / odometer))
        if today >= ends_on:
            expired_on = min(expired_on or ends_on, ends_on)
        entry = {
            "warrantyType": coverage.kind,
            "warrantyDisplayName": coverage.display_name,
            "expirationDate": _stamp(ends_on),
            "expirationOdometer": limit,
            "odometerUnit": "MI" if imperial else "KM",
            "warrantyExpiredOn": _stamp(expired_on) if expired_on else None,
            "coverageAgeInYears": coverage.years,
        }
        (expired if expired_on else active).append(entry)
    return {"activeWarranty": active, "upcomingWarranty": [], "expiredWarranty": expired}
