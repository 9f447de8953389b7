from __future__ import annotations

from carpulse.errors import Conflict, NotFound, ValidationFailed


class TripNotFound(NotFound):
    """No such trip among those you drove or whose car you own."""

    slug = "trip-not-found"
    title = "Trip not found"


class TripLocked(Conflict):
    """The trip is locked in the tax logbook: changes are new entries there, not edits here."""

    slug = "trip-locked"
    title = "Trip locked"


class TripStillOpen(Conflict):
    """The trip is still being recorded; wait for its end (or its recovery)."""

    slug = "trip-open"
    title = "Trip still open"


class TripsNotAdjacent(Conflict):
    """Only two trips of the same car with no trip between them can be merged."""

    slug = "trips-not-adjacent"
    title = "Trips cannot be merged"


class SplitOutsideTrip(ValidationFailed):
    """The split instant must fall between the trip's first and last fix, with fixes on both sides."""

    slug = "split-outside-trip"
    title = "Split point outside the trip"


class InvalidCursor(ValidationFailed):
    """The `cursor` is not one this API gave out."""

    slug = "invalid-cursor"
    title = "Invalid cursor"
