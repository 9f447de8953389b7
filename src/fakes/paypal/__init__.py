"""A fake of PayPal's REST API (reference: shared/reference/payments.md §3), as an ASGI app.

Use `PayPalFake().app` behind `httpx.ASGITransport` in tests, or mount it under `/_sandbox/paypal`.
"""

from fakes.paypal.checkout import OUTCOMES
from fakes.paypal.errors import PayPalApiError
from fakes.paypal.fake import OPERATIONS, Call, Fault, PayPalFake, SendWebhook
from fakes.paypal.orders import Capture, Order, PurchaseUnit, Refund
from fakes.paypal.webhooks import AUTH_ALGO, Delivery, WebhookEvent, signed_message

__all__ = [
    "AUTH_ALGO",
    "OPERATIONS",
    "OUTCOMES",
    "Call",
    "Capture",
    "Delivery",
    "Fault",
    "Order",
    "PayPalApiError",
    "PayPalFake",
    "PurchaseUnit",
    "Refund",
    "SendWebhook",
    "WebhookEvent",
    "signed_message",
]
