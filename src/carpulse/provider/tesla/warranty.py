"""Tesla's published warranty terms, for a car whose own warranty records we could not read.

The battery and drive unit warranty by model and trim badge (8 years, the distance below, whichever first; at
least 70 % capacity retained) and the basic vehicle warranty (4 years or 80,000 km): Tesla's warranty text via
InsideEVs. Badges whose warranty class is ambiguous (Model Y "74") are left out.
"""

from __future__ import annotations

from decimal import Decimal

from carpulse.provider.base import PublishedWarranty

_STANDARD, _LONG = Decimal(160_000), Decimal(192_000)

TESLA_WARRANTY = PublishedWarranty(
    battery_years=8,
    basic_years=4,
    basic_km=Decimal(80_000),
    battery_kinds=("BATTERY_WARRANTY", "DRIVEUNIT_WARRANTY"),
    basic_kinds=("NEW_MFG_WARRANTY",),
    battery_km_by_model={
        ("Model 3", "50"): _STANDARD,
        ("Model 3", "62"): _STANDARD,
        ("Model Y", "50"): _STANDARD,
        ("Model 3", "74d"): _LONG,
        ("Model 3", "p74d"): _LONG,
        ("Model Y", "74d"): _LONG,
        ("Model Y", "p74d"): _LONG,
        ("Model S", None): Decimal(240_000),
        ("Model X", None): Decimal(240_000),
    },
)
