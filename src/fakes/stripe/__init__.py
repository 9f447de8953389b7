"""A fake of Stripe's API (reference: shared/reference/payments.md §2.13) that the official SDK accepts, as an ASGI app.

Use `StripeFake().app` behind `httpx.ASGITransport` in tests, or mount it under `/_sandbox/stripe`.
"""

from fakes.stripe.api import ApiRequest
from fakes.stripe.errors import StripeApiError
from fakes.stripe.fake import StripeFake
from fakes.stripe.form import decode_stripe_form
from fakes.stripe.ledger import API_VERSION, ENABLED_PAYMENT_METHODS, HOSTED_METHODS, OUTCOMES, Outcome
from fakes.stripe.webhooks import DEFAULT_WEBHOOK_PATH, Delivery, SendWebhook, signature_header

__all__ = [
    "API_VERSION",
    "DEFAULT_WEBHOOK_PATH",
    "ENABLED_PAYMENT_METHODS",
    "HOSTED_METHODS",
    "OUTCOMES",
    "ApiRequest",
    "Delivery",
    "Outcome",
    "SendWebhook",
    "StripeApiError",
    "StripeFake",
    "decode_stripe_form",
    "signature_header",
]
