from __future__ import annotations

from carpulse.errors import BadRequest, Conflict, NotFound, ValidationFailed


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


class CheckoutAlreadyPaid(Conflict):
    """The quote's order is already paid (or its first payment went through just now): no switching."""

    slug = "checkout-already-paid"
    title = "Already paid"


class CheckoutChanging(Conflict):
    """Another create-intent for the same quote changed its checkout at the same moment; try again."""

    slug = "checkout-changing"
    title = "Checkout changed meanwhile"


class ApplePayDomainNotConfigured(NotFound):
    """No Apple Pay domain-association file is configured on this server."""

    slug = "apple-pay-domain-not-configured"
    title = "Apple Pay domain association not configured"
