"""A fake of Open Charge Map's API v3 (reference: shared/reference/logbook-and-battery.md §3), as an ASGI app.

Use `OpenChargeMapFake(seed).app` behind `httpx.ASGITransport` in tests, or mount it under
`/_sandbox/open_charge_map` (its API then answers at `/_sandbox/open_charge_map/v3`).
"""

from fakes.open_charge_map.fake import INVALID_KEY, MISSING_KEY, SANDBOX_API_KEY, Call, Faults, OpenChargeMapFake
from fakes.open_charge_map.search import PoiQuery, camel_name, distance
from fakes.open_charge_map.sites import CITIES, City, build_sites

__all__ = [
    "CITIES",
    "INVALID_KEY",
    "MISSING_KEY",
    "SANDBOX_API_KEY",
    "Call",
    "City",
    "Faults",
    "OpenChargeMapFake",
    "PoiQuery",
    "build_sites",
    "camel_name",
    "distance",
]
