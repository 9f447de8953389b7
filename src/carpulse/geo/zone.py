"""The IANA time zone at a position, from timezonefinder's bundled boundaries (offline, ~30 µs a lookup)."""

from __future__ import annotations

import threading

from timezonefinder import TimezoneFinder

from carpulse.geo.track import is_position

__all__ = ["warm_up", "zone_at"]

_lock = threading.Lock()
_loaded: list[TimezoneFinder] = []


def _finder() -> TimezoneFinder:
    # Reading the boundary files takes ~0.3 s: once per process (`warm_up` lets the lifespan pay it in a thread).
    if not _loaded:
        with _lock:
            if not _loaded:
                _loaded.append(TimezoneFinder())
    return _loaded[0]


def warm_up() -> None:
    """Load the boundaries now, so the first trip does not wait for them."""
    _finder()


def zone_at(lat: float, lon: float) -> str:
    """The IANA zone name (e.g. "Europe/Helsinki"); "UTC" at sea, off the map or for nonsense input, never raising."""
    if not is_position(lat, lon):
        return "UTC"
    # Land zones include territorial waters, so a car on the shore (or a ferry in port) still gets its zone.
    name = _finder().timezone_at_land(lat=lat, lng=lon)
    return name or "UTC"
