from __future__ import annotations

from carpulse.errors import BadRequest, Conflict, ValidationFailed


class ProviderUnavailable(ValidationFailed):
    """This payment provider is not configured on this server."""

    slug = "payment-provider-unavailable"
    title = "Payment provider not available"


class WebhookRejected(BadRequest):
    """The webhook's signature, timestamp or body did not verify; nothing was recorded."""

    slug = "webhook-rejected"
    title = "Webhook rejected"


class PaymentIncomplete(Conflict):
    """The provider has not confirmed the payment (yet)."""

    slug = "payment-incomplete"
    title = "Payment not complete"
