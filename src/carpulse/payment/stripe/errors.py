"""Stripe's failures (SDK exceptions, reference §2.9), mapped by a table to what our API answers.

Never a 500: an SDK error becomes a 4xx when the customer's payment or id is at fault, a 502 when
Stripe refused what we sent, a 503/504 with `Retry-After` when Stripe is busy or unreachable.
"""

from __future__ import annotations

import httpx
import stripe

from carpulse.errors import CarPulseError


class StripeGatewayError(CarPulseError):
    """Stripe answered with an error we cannot work around."""

    status = 502
    slug = "stripe-error"
    title = "Stripe returned an error"


class StripeRequestRejected(StripeGatewayError):
    """Stripe refused a request we built (a bug or a configuration problem on our side)."""

    status = 502
    slug = "stripe-request-rejected"
    title = "Stripe rejected the request"


class StripeMisconfigured(StripeGatewayError):
    """Stripe refused our API key or its permissions; an operator must fix the configuration."""

    status = 502
    slug = "stripe-misconfigured"
    title = "Stripe refused our credentials"


class StripeUnavailable(StripeGatewayError):
    """Stripe is failing or unreachable right now; retry after `Retry-After` seconds."""

    status = 503
    slug = "stripe-unavailable"
    title = "Stripe is unavailable"


class StripeRateLimited(StripeGatewayError):
    """Stripe is rate-limiting our calls; retry after `Retry-After` seconds."""

    status = 503
    slug = "stripe-rate-limited"
    title = "Stripe is rate-limiting requests"


class StripeTimeout(StripeGatewayError):
    """Stripe did not answer in time."""

    status = 504
    slug = "stripe-timeout"
    title = "Stripe did not answer in time"


class StripeNotConfigured(StripeGatewayError):
    """No Stripe secret key is configured, so Stripe payments are off."""

    status = 503
    slug = "stripe-not-configured"
    title = "Stripe payments are not configured"


class StripePaymentNotFound(StripeGatewayError):
    """Stripe knows no payment with this id (for our account)."""

    status = 404
    slug = "stripe-payment-not-found"
    title = "Payment not found at Stripe"


class StripePaymentDeclined(StripeGatewayError):
    """Stripe or the card issuer declined the payment."""

    status = 402
    slug = "stripe-payment-declined"
    title = "Payment declined"


class StripeAmountRejected(StripeGatewayError):
    """The amount is outside what Stripe accepts (below about 0.50 EUR, or more than 8 digits)."""

    status = 400
    slug = "stripe-amount-rejected"
    title = "Amount not accepted by Stripe"


class StripeIdempotencyConflict(StripeGatewayError):
    """A retried request reused an idempotency key with different parameters, or while the first was running."""

    status = 409
    slug = "stripe-idempotency-conflict"
    title = "Conflicting payment request"


DEFAULT_RETRY_AFTER_SECONDS = {StripeUnavailable: 5, StripeRateLimited: 10, StripeTimeout: 5}

# SDK exception → our error, most specific first (RateLimitError is not an InvalidRequestError, but order anyway).
ERROR_TABLE: tuple[tuple[type[stripe.StripeError], type[StripeGatewayError]], ...] = (
    (stripe.CardError, StripePaymentDeclined),
    (stripe.RateLimitError, StripeRateLimited),
    (stripe.AuthenticationError, StripeMisconfigured),
    (stripe.PermissionError, StripeMisconfigured),
    (stripe.IdempotencyError, StripeIdempotencyConflict),
    (stripe.InvalidRequestError, StripeRequestRejected),
    (stripe.APIConnectionError, StripeUnavailable),
    (stripe.APIError, StripeUnavailable),
)
# Stripe's `code` on an InvalidRequestError that is about the caller's input, not our request.
INVALID_REQUEST_CODES: dict[str, type[StripeGatewayError]] = {
    "resource_missing": StripePaymentNotFound,
    "amount_too_small": StripeAmountRejected,
    "amount_too_large": StripeAmountRejected,
}

_DETAILS: dict[type[StripeGatewayError], str] = {
    StripePaymentDeclined: "The payment was declined; try another payment method.",
    StripeRateLimited: "Stripe is rate-limiting our requests; try again shortly.",
    StripeMisconfigured: "Stripe refused our API credentials; the operator has been told.",
    StripeIdempotencyConflict: "A conflicting payment request for this order is in progress; try again.",
    StripeUnavailable: "Stripe cannot be reached right now; try again shortly.",
    StripeTimeout: "Stripe did not answer in time; try again shortly.",
    StripePaymentNotFound: "Stripe knows no payment with this id.",
    StripeAmountRejected: "Stripe does not accept this amount.",
}


def _retry_after(exc: stripe.StripeError, error: type[StripeGatewayError]) -> dict[str, str]:
    default = DEFAULT_RETRY_AFTER_SECONDS.get(error)
    if default is None:
        return {}
    raw = (exc.headers or {}).get("retry-after") or (exc.headers or {}).get("Retry-After")
    try:
        seconds = max(1, round(float(raw))) if raw is not None else default
    except ValueError:
        seconds = default
    return {"Retry-After": str(seconds)}


def classify(exc: stripe.StripeError) -> type[StripeGatewayError]:
    """Which of our errors an SDK exception becomes."""
    if isinstance(exc, stripe.APIConnectionError) and isinstance(exc.__cause__, httpx.TimeoutException):
        return StripeTimeout
    for sdk_class, ours in ERROR_TABLE:
        if isinstance(exc, sdk_class):
            if ours is StripeRequestRejected and exc.code in INVALID_REQUEST_CODES:
                return INVALID_REQUEST_CODES[exc.code]
            if ours is StripeUnavailable and exc.http_status is not None and exc.http_status < 500:
                return StripeGatewayError  # an unexpected 4xx (or an unreadable body) from Stripe
            return ours
    return StripeGatewayError


def stripe_error(exc: stripe.StripeError) -> StripeGatewayError:
    """Our error for an SDK exception, carrying Stripe's request id and code for support."""
    error = classify(exc)
    detail = _DETAILS.get(error)
    if detail is None:
        code = f" ({exc.code})" if exc.code else ""
        detail = f"Stripe refused the request{code}."
    extensions = {
        key: value for key, value in (("stripe_request_id", exc.request_id), ("stripe_code", exc.code)) if value
    }
    return error(detail, headers=_retry_after(exc, error), **extensions)
