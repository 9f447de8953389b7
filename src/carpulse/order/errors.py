from __future__ import annotations

from carpulse.errors import Conflict, NotFound


class OrderNotFound(NotFound):
    """No such order (or it is not yours)."""

    slug = "order-not-found"
    title = "Order not found"


class OrderNotPayable(Conflict):
    """The order is already paid, refunded or otherwise closed for payment."""

    slug = "order-not-payable"
    title = "Order cannot be paid"
