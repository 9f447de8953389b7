from __future__ import annotations

from carpulse.errors import NotFound


class InvoiceNotFound(NotFound):
    """No charging invoice with this id for this vehicle in the last 24 months (or it is another vehicle's)."""

    slug = "charging-invoice-not-found"
    title = "Charging invoice not found"
