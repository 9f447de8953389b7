from __future__ import annotations

from carpulse.errors import BadRequest, CarPulseError


class ConfirmationTokenInvalid(BadRequest):
    """The confirmation token is not one we issued (mistyped, truncated, or replaced by a newer link)."""

    slug = "confirmation-token-invalid"
    title = "Invalid confirmation link"


class ConfirmationTokenExpired(CarPulseError):
    """The confirmation link is older than its lifetime; ask for a new one."""

    status = 410
    slug = "confirmation-token-expired"
    title = "Confirmation link expired"
