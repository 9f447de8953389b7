"""The bundled vendor fakes, under `/_sandbox/<vendor>`: mounted on the app, or served alone by `carpulse sandbox`.

This is the only module of `carpulse` that imports `fakes`; settings refuse it in production.
Google's fake is the Logbook's identity provider (its issuer is `{sandbox}/google`). The payment fakes
deliver their webhooks to `{base_url}/api/v1/payment/webhook/…`, the API's
public address (real HTTP under `make run`, in-process in tests).

A fake keeps its state in memory, so several API processes share one sandbox: every process
names it with `CARPULSE_SANDBOX__URL`, mounts no fakes of its own, and redirects a request for
`/_sandbox/…` to the same path there (a browser sent to the load balancer's `/_sandbox` lands on
the one sandbox, never on fakes that know nothing of its sign-in or checkout).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from carpulse.config import SANDBOX_PATH, Settings
from carpulse.errors import DependencyUnavailable

__all__ = [
    "SANDBOX_PATH",
    "SANDBOX_WALLET_CONFIGURATIONS",
    "Sandbox",
    "create_sandbox_app",
    "mount_sandbox",
    "redirect_sandbox",
]

SendWebhook = Callable[[str, bytes, dict[str, str]], Awaitable[int]]
# The sandbox Stripe account's payment method configurations: one per card wallet, only that wallet on.
SANDBOX_WALLET_CONFIGURATIONS = {"apple_pay": "pmc_sandboxApplePayOnly", "google_pay": "pmc_sandboxGooglePayOnly"}
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass
class Sandbox:
    # fakes.* objects, typed loosely so nothing else imports fakes
    tesla: object
    stripe: object
    paypal: object
    mail: object
    google_maps: object
    nominatim: object
    open_charge_map: object
    google: object


def build_sandbox(settings: Settings, send_webhook: SendWebhook) -> Sandbox:
    """The fakes, for the API at `settings.base_url` (its Tesla callback, its webhook endpoints), and the mailbox."""
    from fakes.google import GoogleClient, GoogleFake
    from fakes.google_maps import GoogleMapsFake
    from fakes.mail import MailFake
    from fakes.nominatim import NominatimFake
    from fakes.open_charge_map import OpenChargeMapFake
    from fakes.paypal import PayPalFake
    from fakes.stripe import StripeFake
    from fakes.tesla_fleet import TeslaFleetFake

    if settings.is_production:
        raise RuntimeError("the sandbox never runs in production")
    tesla = TeslaFleetFake(
        seed=settings.sandbox.seed,
        client_id=settings.tesla.client_id,
        client_secret=settings.tesla.client_secret.get_secret_value(),
        # Every replica behind one public base URL builds this same callback.
        redirect_uris=[settings.tesla_redirect_uri],
        wake_delay_seconds=settings.sandbox.wake_delay_seconds,
    )
    stripe = StripeFake(
        api_key=settings.stripe.secret_key.get_secret_value(),
        webhook_secret=settings.stripe.webhook_secret.get_secret_value(),
        webhook_url=f"{settings.base_url}/api/v1/payment/webhook/stripe",
        send_webhook=send_webhook,
        payment_method_configurations={
            configuration: [wallet] for wallet, configuration in SANDBOX_WALLET_CONFIGURATIONS.items()
        },
    )
    paypal = PayPalFake(
        client_id=settings.paypal.client_id,
        client_secret=settings.paypal.client_secret.get_secret_value(),
        webhook_id=settings.paypal.webhook_id,
        webhook_url=f"{settings.base_url}/api/v1/payment/webhook/paypal",
        send_webhook=send_webhook,
    )
    google_settings = settings.google
    google = GoogleFake(
        clients=[
            GoogleClient(
                google_settings.web_client_id,
                google_settings.web_client_secret.get_secret_value(),
                (settings.google_redirect_uri,),
            ),
            # Apps on phones and watches have no secret; Google Sign-In hands them ID tokens for their own id.
            *(GoogleClient(client_id) for client_id in google_settings.client_ids[1:]),
        ],
        issuer=f"{settings.sandbox_root or settings.base_url + SANDBOX_PATH}/google",
    )
    open_charge_map = OpenChargeMapFake(
        seed=settings.sandbox.seed, api_keys=(settings.open_charge_map.api_key.get_secret_value(),)
    )
    return Sandbox(
        tesla=tesla,
        stripe=stripe,
        paypal=paypal,
        mail=MailFake(),
        google_maps=GoogleMapsFake(api_key=settings.geo.google_api_key.get_secret_value()),
        nominatim=NominatimFake(),
        open_charge_map=open_charge_map,
        google=google,
    )


def _mount(app: FastAPI, sandbox: Sandbox) -> None:
    fakes = (
        ("tesla", sandbox.tesla),
        ("stripe", sandbox.stripe),
        ("paypal", sandbox.paypal),
        ("mail", sandbox.mail),
        ("google_maps", sandbox.google_maps),
        ("nominatim", sandbox.nominatim),
        ("open_charge_map", sandbox.open_charge_map),
        ("google", sandbox.google),
    )
    # `GET /_sandbox/mail?to=…` itself: a mount answers only the paths below it.
    app.add_api_route(
        f"{SANDBOX_PATH}/mail",
        sandbox.mail.list_messages,  # type: ignore[attr-defined]
        methods=["GET"],
        include_in_schema=False,
        name="sandbox-mail-inbox",
    )
    for name, fake in fakes:
        app.mount(f"{SANDBOX_PATH}/{name}", fake.app, name=f"sandbox-{name}")  # type: ignore[attr-defined]


def mount_sandbox(app: FastAPI, settings: Settings) -> Sandbox:
    """This process's own fakes on the app; webhooks go out through the app's vendor HTTP client."""

    async def send_webhook(url: str, body: bytes, headers: dict[str, str]) -> int:
        response = await app.state.carpulse.vendor_http.post(url, content=body, headers=headers)
        return int(response.status_code)

    sandbox = build_sandbox(settings, send_webhook)
    _mount(app, sandbox)
    return sandbox


def redirect_sandbox(app: FastAPI, sandbox_url: str) -> None:
    """`/_sandbox/<rest>` answers 307 to `<sandbox_url>/<rest>` (method, body and query kept)."""
    target = urlsplit(sandbox_url)

    async def redirect(request: Request, rest: str) -> RedirectResponse:
        if request.url.netloc == target.netloc and request.url.path.startswith(target.path + "/"):
            # CARPULSE_SANDBOX__URL names this very address: only a route to `carpulse sandbox` helps.
            raise DependencyUnavailable(
                f"This process serves no sandbox, and CARPULSE_SANDBOX__URL ({sandbox_url}) names its own address: "
                f"route {SANDBOX_PATH}/ to `carpulse sandbox`."
            )
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{sandbox_url}/{rest}{query}", status_code=307)

    app.add_api_route(
        f"{SANDBOX_PATH}/{{rest:path}}", redirect, methods=_METHODS, include_in_schema=False, name="sandbox-redirect"
    )


def create_sandbox_app(settings: Settings) -> FastAPI:
    """`carpulse sandbox`: only the fakes, for every API process and worker that names this one.

    It is configured with the API's own environment: `settings.base_url` is the API's public
    address (the load balancer), where the Tesla callback and the payment webhooks go.
    """
    http = httpx.AsyncClient(timeout=settings.tesla.timeout_seconds)

    async def send_webhook(url: str, body: bytes, headers: dict[str, str]) -> int:
        response = await http.post(url, content=body, headers=headers)
        return int(response.status_code)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await http.aclose()

    sandbox = build_sandbox(settings, send_webhook)
    app = FastAPI(title="Car Pulse sandbox", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.sandbox = sandbox

    @app.get("/health/live", include_in_schema=False)
    async def live() -> JSONResponse:
        return JSONResponse({"status": "ok", "api": settings.base_url})

    _mount(app, sandbox)
    return app
