from __future__ import annotations

from carpulse.errors import NotFound, ValidationFailed


class InvalidVin(ValidationFailed):
    """Not a VIN: `check` names the test it failed (characters, length, case, letters, check_digit)."""

    slug = "invalid-vin"
    title = "Invalid VIN"


class VinUnknown(NotFound):
    """A well-formed VIN whose maker we do not know, so nothing can be said about the vehicle."""

    slug = "vin-unknown"
    title = "VIN not known"
