"""A fake of Tesla's auth host and Fleet API (reference: shared/reference/tesla-fleet-api.md), as an ASGI app.

Use `TeslaFleetFake(seed).app` behind `httpx.ASGITransport` in tests, or mount it under `/_sandbox/tesla`.
"""

from fakes.tesla_fleet.catalog import REGIONS, Region
from fakes.tesla_fleet.charging import ChargingHistory, ChargingSession, Fee, Invoice
from fakes.tesla_fleet.fake import TeslaFleetFake
from fakes.tesla_fleet.faults import CATEGORIES, PRICE_USD, Billing, Call, Category, FaultSettings
from fakes.tesla_fleet.fleet import NAMED_ACCOUNTS, Account, Vehicle
from fakes.tesla_fleet.fleet_api import ENDPOINTS, Endpoint
from fakes.tesla_fleet.vin import check_digit, is_valid

__all__ = [
    "CATEGORIES",
    "ENDPOINTS",
    "NAMED_ACCOUNTS",
    "PRICE_USD",
    "REGIONS",
    "Account",
    "Billing",
    "Call",
    "Category",
    "ChargingHistory",
    "ChargingSession",
    "Endpoint",
    "FaultSettings",
    "Fee",
    "Invoice",
    "Region",
    "TeslaFleetFake",
    "Vehicle",
    "check_digit",
    "is_valid",
]
