"""Stripe: hosted Checkout Sessions through the official SDK (the only package that imports `stripe`)."""

from carpulse.payment.stripe.adapter import StripeGateway, stripe_locale

__all__ = ["StripeGateway", "stripe_locale"]
