from __future__ import annotations

from carpulse.errors import NotFound


class ModelNotFound(NotFound):
    """No model in the catalogue has this id."""

    slug = "model-not-found"
    title = "Model not found"


class NoData(NotFound):
    """We hold no readings of this vehicle that may be shared through the Data API."""

    slug = "no-data"
    title = "No data for this vehicle"
