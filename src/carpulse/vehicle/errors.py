from __future__ import annotations

from carpulse.errors import NotFound


class VehicleNotFound(NotFound):
    """The VIN is not a vehicle of this session or order (or the session and order are not yours)."""

    slug = "vehicle-not-found"
    title = "Vehicle not found"


class PaidOrderNotFound(NotFound):
    """No paid order with this id: unknown, not yours, not paid yet, or refunded."""

    slug = "paid-order-not-found"
    title = "Paid order not found"
