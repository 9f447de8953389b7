"""The bundled vendor fakes, mounted under `/_sandbox/<vendor>` on the embedded default.

This is the only module of `carpulse` that imports `fakes`; settings refuse it in production.
The payment fakes deliver their webhooks to our own endpoints through the app's vendor HTTP
client (real HTTP under `make run`, in-process in tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from carpulse.config import Settings

SANDBOX_PATH = "/_sandbox"


@dataclass
class Sandbox:
    # fakes.* objects, typed loosely so nothing else imports fakes
    tesla: object
    stripe: object
    paypal: object


def mount_sandbox(app: FastAPI, settings: Settings, redirect_uri: str) -> Sandbox:
    from fakes.paypal import PayPalFake
    from fakes.stripe import StripeFake
    from fakes.tesla_fleet import TeslaFleetFake

    if settings.is_production:
        raise RuntimeError("the sandbox never runs in production")

    async def send_webhook(url: str, body: bytes, headers: dict[str, str]) -> int:
        response = await app.state.carpulse.tesla.http.post(url, content=body, headers=headers)
        return int(response.status_code)

    tesla = TeslaFleetFake(
        seed=settings.sandbox.seed,
        client_id=settings.tesla.client_id,
        client_secret=settings.tesla.client_secret.get_secret_value(),
        redirect_uris=[redirect_uri],
        wake_delay_seconds=settings.sandbox.wake_delay_seconds,
    )
    stripe = StripeFake(
        api_key=settings.stripe.secret_key.get_secret_value(),
        webhook_secret=settings.stripe.webhook_secret.get_secret_value(),
        webhook_url=f"{settings.base_url}/api/v1/payment/webhook/stripe",
        send_webhook=send_webhook,
    )
    paypal = PayPalFake(
        client_id=settings.paypal.client_id,
        client_secret=settings.paypal.client_secret.get_secret_value(),
        webhook_id=settings.paypal.webhook_id,
        webhook_url=f"{settings.base_url}/api/v1/payment/webhook/paypal",
        send_webhook=send_webhook,
    )
    app.mount(f"{SANDBOX_PATH}/tesla", tesla.app, name="sandbox-tesla")
    app.mount(f"{SANDBOX_PATH}/stripe", stripe.app, name="sandbox-stripe")
    app.mount(f"{SANDBOX_PATH}/paypal", paypal.app, name="sandbox-paypal")
    return Sandbox(tesla=tesla, stripe=stripe, paypal=paypal)
