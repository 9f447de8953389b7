from __future__ import annotations

from carpulse.errors import Conflict, RateLimited, ValidationFailed


class QuotaExceeded(RateLimited):
    """The plan's daily quota is used up; it starts again at the next UTC midnight (`Retry-After`)."""

    slug = "quota-exceeded"
    title = "Daily quota used up"


class IdempotencyKeyReused(ValidationFailed):
    """This `Idempotency-Key` was sent with another request within 24 h: a key names one request only."""

    slug = "idempotency-key-reused"
    title = "Idempotency key reused for another request"


class InvalidIdempotencyKey(ValidationFailed):
    """The `Idempotency-Key` header must be 1 to 255 visible ASCII characters."""

    slug = "invalid-idempotency-key"
    title = "Invalid idempotency key"


class NothingToBill(Conflict):
    """No unbilled usage before the cutoff: everything before it is on an invoice already (or never was)."""

    slug = "nothing-to-bill"
    title = "Nothing to bill"


class InvalidCutoff(ValidationFailed):
    """The cutoff is in the future, or inside a period an invoice already closed."""

    slug = "invalid-cutoff"
    title = "Invalid billing cutoff"
