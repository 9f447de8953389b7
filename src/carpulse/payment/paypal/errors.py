"""PayPal's failures, mapped by a table to what our API answers (never a 500).

PayPal down or rate-limiting → 503, slow → 504, an answer we cannot use or a request it refused
because of us → 502, and what the buyer or the order's state causes → a 4xx the client can act on.
"""

from __future__ import annotations

from carpulse.errors import CarPulseError


class PayPalError(CarPulseError):
    """PayPal answered with something we cannot work with."""

    status = 502
    slug = "paypal-error"
    title = "PayPal returned an error"


class PayPalUnavailable(PayPalError):
    """PayPal is failing or unreachable right now; retry in a while."""

    status = 503
    slug = "paypal-unavailable"
    title = "PayPal is unavailable"


class PayPalTimeout(PayPalError):
    """PayPal did not answer in time."""

    status = 504
    slug = "paypal-timeout"
    title = "PayPal did not answer in time"


class PayPalRateLimited(PayPalError):
    """PayPal is rate-limiting our calls; `Retry-After` says when to try again."""

    status = 503
    slug = "paypal-rate-limited"
    title = "PayPal is rate-limiting requests"


class PayPalAuthenticationFailed(PayPalError):
    """PayPal refused our API credentials (an operator must fix the configuration)."""

    status = 502
    slug = "paypal-authentication-failed"
    title = "PayPal refused our credentials"


class PayPalRequestRejected(PayPalError):
    """PayPal refused a request we built (a bug or a merchant-account setting on our side)."""

    status = 502
    slug = "paypal-request-rejected"
    title = "PayPal refused the request"


class PayPalPaymentNotFound(PayPalError):
    """PayPal does not know this order, capture or refund."""

    status = 404
    slug = "paypal-payment-not-found"
    title = "PayPal payment not found"


class PayPalOrderNotApproved(PayPalError):
    """The buyer has not approved the PayPal order yet, so there is nothing to capture."""

    status = 409
    slug = "paypal-order-not-approved"
    title = "PayPal payment not approved yet"


class PayPalOrderAlreadyCaptured(PayPalError):
    """The PayPal order was captured before (by an earlier request)."""

    status = 409
    slug = "paypal-order-already-captured"
    title = "PayPal payment already captured"


class PayPalOrderExpired(PayPalError):
    """The PayPal order was voided or expired before it was captured; start a new payment."""

    status = 409
    slug = "paypal-order-expired"
    title = "PayPal payment expired"


class PayPalPayerActionRequired(PayPalError):
    """The buyer must act on PayPal's page again before the payment can be captured."""

    status = 409
    slug = "paypal-payer-action-required"
    title = "PayPal needs the buyer to act"


class PayPalPaymentDeclined(PayPalError):
    """PayPal declined the buyer's funding source; the buyer can choose another one on PayPal."""

    status = 402
    slug = "paypal-payment-declined"
    title = "PayPal declined the payment"


class PayPalRefundRejected(PayPalError):
    """The capture cannot be refunded (already refunded, amount exceeded, not refundable)."""

    status = 409
    slug = "paypal-refund-rejected"
    title = "PayPal refused the refund"


# Issue (details[0].issue) → error; checked before the status table.
ISSUE_ERRORS: dict[str, type[PayPalError]] = {
    "ORDER_NOT_APPROVED": PayPalOrderNotApproved,
    "ORDER_ALREADY_CAPTURED": PayPalOrderAlreadyCaptured,
    "ORDER_ALREADY_COMPLETED": PayPalOrderAlreadyCaptured,
    "ORDER_EXPIRED": PayPalOrderExpired,
    "ORDER_VOIDED": PayPalOrderExpired,
    "PAYER_ACTION_REQUIRED": PayPalPayerActionRequired,
    "INSTRUMENT_DECLINED": PayPalPaymentDeclined,
    "TRANSACTION_REFUSED": PayPalPaymentDeclined,
    "COMPLIANCE_VIOLATION": PayPalPaymentDeclined,
    "PAYER_CANNOT_PAY": PayPalPaymentDeclined,
    "PAYEE_BLOCKED_TRANSACTION": PayPalPaymentDeclined,
    "CAPTURE_FULLY_REFUNDED": PayPalRefundRejected,
    "REFUND_AMOUNT_EXCEEDED": PayPalRefundRejected,
    "REFUND_NOT_ALLOWED": PayPalRefundRejected,
    "INVALID_RESOURCE_ID": PayPalPaymentNotFound,
    "RESOURCE_NOT_FOUND": PayPalPaymentNotFound,
    "invalid_client": PayPalAuthenticationFailed,
}

STATUS_ERRORS: dict[int, type[PayPalError]] = {
    400: PayPalRequestRejected,
    401: PayPalAuthenticationFailed,
    403: PayPalAuthenticationFailed,
    404: PayPalPaymentNotFound,
    408: PayPalTimeout,
    409: PayPalRequestRejected,
    422: PayPalRequestRejected,
    429: PayPalRateLimited,
    500: PayPalUnavailable,
    502: PayPalUnavailable,
    503: PayPalUnavailable,
    504: PayPalTimeout,
}


def error_for(status: int, issue: str | None) -> type[PayPalError]:
    if issue is not None and issue in ISSUE_ERRORS:
        return ISSUE_ERRORS[issue]
    return STATUS_ERRORS.get(status, PayPalUnavailable if status >= 500 else PayPalError)
