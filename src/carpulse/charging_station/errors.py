from __future__ import annotations

from carpulse.errors import DependencyUnavailable, ValidationFailed


class ChargingStationsUnavailable(DependencyUnavailable):
    """Open Charge Map cannot answer right now and we hold no earlier answer to this search; `Retry-After` says
    when to try again."""

    slug = "charging-stations-unavailable"
    title = "Charging-station search unavailable"


class UnknownOperator(ValidationFailed):
    """No charging network operator on Open Charge Map goes by this name (give its name or its OCM id)."""

    slug = "unknown-charging-operator"
    title = "Unknown charging operator"
