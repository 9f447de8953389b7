"""The one place that mounts every domain router, and each brand's mount of the brand-neutral ones."""

from __future__ import annotations

import functools

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from carpulse.about.endpoints import router as about_router
from carpulse.api_key.endpoints import router as api_key_router
from carpulse.auth.endpoints import router as auth_router
from carpulse.car.endpoints import router as car_router
from carpulse.charging.endpoints import charging_router
from carpulse.charging_station.endpoints import router as charging_station_router
from carpulse.connect.endpoints import connect_router
from carpulse.data_api.endpoints import router as data_api_router
from carpulse.dev_proxy.endpoints import router as dev_proxy_router
from carpulse.driver.endpoints import router as driver_router
from carpulse.file.endpoints import router as file_router
from carpulse.health.endpoints import router as health_router
from carpulse.logbook.endpoints import router as logbook_router
from carpulse.order.endpoints import admin_router as order_admin_router
from carpulse.order.endpoints import orders_router
from carpulse.order.endpoints import router as checkout_router
from carpulse.partner_key.endpoints import router as partner_key_router
from carpulse.payment.endpoints import router as payment_router
from carpulse.payment.endpoints import well_known_router
from carpulse.plan.endpoints import router as plan_admin_router
from carpulse.pricing.endpoints import router as pricing_router
from carpulse.provider.base import BrandInfo
from carpulse.receipt.endpoints import router as receipt_router
from carpulse.reconcile_run.endpoints import router as reconcile_run_router
from carpulse.report.endpoints import admin_router as report_admin_router
from carpulse.report.endpoints import report_router
from carpulse.signup.endpoints import router as signup_router
from carpulse.trip.endpoints import admin_router as trip_admin_router
from carpulse.trip.endpoints import router as trip_router
from carpulse.trip.endpoints import webhook_router
from carpulse.usage.endpoints import admin_router as usage_admin_router
from carpulse.usage.endpoints import router as billing_router
from carpulse.web.admin import router as web_admin_router
from carpulse.web.console.endpoints import router as web_console_router
from carpulse.web.endpoints import docs_router, static_router
from carpulse.web.home import router as web_home_router
from carpulse.web.logbook import logbook_router as web_logbook_router
from carpulse.web.orders.endpoints import router as web_order_router
from carpulse.web.reports import router as web_reports_router

API_V1_PREFIX = "/api/v1"

# The OpenAPI document's tag groups (`x-tagGroups`, as ReDoc shows them): one per product, then the platform.
# A tag no group names lands in the last group, so every operation stays listed.
TAG_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Reports", ("tesla connect", "pricing", "payment", "orders", "reports", "charging")),
    (
        "Data API",
        ("data-api", "data-api-keys", "data-api-billing", "data-api-admin"),
    ),
    (
        "Logbook",
        (
            "logbook-sign-in",
            "logbook-cars",
            "logbook-webhooks",
            "logbook-trips",
            "logbook-places",
            "logbook-privacy",
            "logbook-charging-stations",
        ),
    ),
    ("Accounts", ("auth",)),
    ("Platform", ("about", "health", "files", "tesla partner", "dev proxy")),
)
TAG_DESCRIPTIONS = {
    "data-api": (
        "Vehicle and model data per call. Authenticate with an API key (`Authorization: Bearer cp_…` or "
        "`X-API-Key`) or the account's JWT. Every billable answer carries the daily quota's `RateLimit-*` "
        "headers and `CarPulse-Request-Id`; send `Idempotency-Key` to retry without being billed twice."
    ),
    "data-api-keys": "API keys: created once (the key is shown only then), listed, revoked at once.",
    "data-api-billing": "Your usage, billed and unbilled, and your invoices (JSON and PDF).",
    "data-api-admin": "Admin: plans (terms dated by UTC day), clients (plan, suspension), every client's usage.",
    "logbook-cars": (
        "Your cars (owned, or shared with you by their owner) and the webhook tokens your phone records trips with."
    ),
    "logbook-webhooks": (
        "What an iPhone Shortcut calls: `start`, `ping`, `end`, with the car's webhook token as a bearer token or as "
        "the last path segment. Answers 202 once the events are stored."
    ),
    "logbook-trips": "Trips as recorded: pages, the active trip, totals, GeoJSON and GPX; merge, split, delete.",
    "logbook-places": "Known places (home, work, customers): a trip's ends within a place's radius carry its name.",
    "logbook-privacy": "Everything we hold about you as one ZIP, and erasing your Logbook account.",
    "auth": "Log in (every role), and Data API sign-up with e-mail confirmation.",
    "logbook-charging-stations": "Charging stations near a point (data from Open Charge Map, with its attribution).",
    "logbook-sign-in": (
        "Drivers sign in with Google: in a browser (`initiate`, then Google's consent, then `callback`) or with "
        "the ID token Google Sign-In gave an iOS or watch app (`google/token`). Either way they get our access "
        "token (`Authorization: Bearer …`) and a single-use refresh token."
    ),
}


def mount_docs(app: FastAPI) -> None:
    """Swagger UI at `/docs` and ReDoc at `/redoc`, also where the Data API's seed serves them (`/api/v1/…`)."""
    app.include_router(docs_router(app.title, app.openapi_url or "/openapi.json", prefixes=("", API_V1_PREFIX)))


def mount_routers(app: FastAPI, brands: tuple[BrandInfo, ...]) -> None:
    app.router.routes.extend(_included_routes(brands))


@functools.cache
def _included_routes(brands: tuple[BrandInfo, ...]) -> tuple[BaseRoute, ...]:
    """Every domain router, included once per process (per set of brands) and shared by every app built in it.

    FastAPI builds an included route's parameter and response models the first time the include is
    walked, and keeps them on the include: an app that includes the routers afresh pays that again (a
    large share of starting an app, and the test suite starts thousands).
    """
    root = APIRouter()
    # Pages before the API's routes: `/` is the landing page for a browser (the service's JSON otherwise).
    root.include_router(web_home_router)
    root.include_router(web_reports_router)
    root.include_router(web_logbook_router())
    root.include_router(web_console_router)
    root.include_router(web_order_router)
    root.include_router(web_admin_router)
    root.include_router(about_router)
    root.include_router(health_router)
    root.include_router(file_router)
    root.include_router(static_router)
    root.include_router(partner_key_router)
    root.include_router(well_known_router)
    # The seed's paths, which the drivers' Shortcuts already call; also under /api/v1/logbook.
    root.include_router(webhook_router)

    v1 = APIRouter(prefix=API_V1_PREFIX)
    v1.include_router(auth_router)
    v1.include_router(signup_router)
    v1.include_router(driver_router)
    for brand in brands:
        v1.include_router(connect_router(brand))
    for brand in brands:
        v1.include_router(charging_router(brand))
    v1.include_router(pricing_router)
    v1.include_router(checkout_router)
    v1.include_router(payment_router)
    v1.include_router(receipt_router)
    for brand in brands:
        v1.include_router(report_router(brand))
    v1.include_router(orders_router)
    v1.include_router(order_admin_router)
    v1.include_router(report_admin_router)
    v1.include_router(reconcile_run_router)
    v1.include_router(charging_station_router)
    v1.include_router(data_api_router)
    v1.include_router(api_key_router)
    v1.include_router(billing_router)
    v1.include_router(plan_admin_router)
    v1.include_router(usage_admin_router)
    v1.include_router(car_router)
    v1.include_router(webhook_router, prefix="/logbook")
    v1.include_router(trip_router)
    v1.include_router(logbook_router)
    v1.include_router(trip_admin_router)
    v1.include_router(dev_proxy_router)
    root.include_router(v1)
    return tuple(root.routes)
