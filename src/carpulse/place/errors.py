from __future__ import annotations

from carpulse.errors import NotFound


class PlaceNotFound(NotFound):
    """No such place among the caller's."""

    slug = "place-not-found"
    title = "Place not found"
