"""Open Charge Map's failures, mapped by a table; the search answers each from its cache or as unavailable."""

from __future__ import annotations


class OpenChargeMapError(Exception):
    """OCM gave no usable answer; `retry_after` is when it asked us to come back (seconds), if it said."""

    reason = "error"

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class OpenChargeMapUnavailable(OpenChargeMapError):
    """OCM is failing (5xx), unreachable, or our circuit breaker is holding calls back."""

    reason = "unavailable"


class OpenChargeMapTimeout(OpenChargeMapError):
    """OCM did not answer within the timeout or the search's deadline."""

    reason = "timeout"


class OpenChargeMapRateLimited(OpenChargeMapError):
    """OCM throttles us (429) longer than we wait in a request."""

    reason = "rate_limited"


class OpenChargeMapKeyRejected(OpenChargeMapError):
    """OCM refused our API key (missing, wrong or banned): an operator must fix the configuration."""

    reason = "key_rejected"


class OpenChargeMapBadAnswer(OpenChargeMapError):
    """OCM answered with something we cannot read, or refused our query as malformed."""

    reason = "bad_answer"


STATUS_ERRORS: dict[int, type[OpenChargeMapError]] = {
    400: OpenChargeMapBadAnswer,
    401: OpenChargeMapKeyRejected,
    403: OpenChargeMapKeyRejected,
    429: OpenChargeMapRateLimited,
    500: OpenChargeMapUnavailable,
    502: OpenChargeMapUnavailable,
    503: OpenChargeMapUnavailable,
    504: OpenChargeMapTimeout,
}


def error_for_status(status: int) -> type[OpenChargeMapError]:
    return STATUS_ERRORS.get(status, OpenChargeMapUnavailable if status >= 500 else OpenChargeMapBadAnswer)
