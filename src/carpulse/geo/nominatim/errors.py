"""Nominatim's failures."""

from __future__ import annotations

from carpulse.errors import CarPulseError


class NominatimError(CarPulseError):
    """Nominatim answered with an error we cannot work around."""

    status = 502
    slug = "nominatim-error"
    title = "Nominatim returned an error"


class NominatimUnavailable(NominatimError):
    """Nominatim is failing, unreachable, or refusing us for now (429, 403 when over its usage policy)."""

    status = 503
    slug = "nominatim-unavailable"
    title = "Nominatim is unavailable"
