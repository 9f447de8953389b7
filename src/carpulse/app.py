"""`create_app(settings)`: the lifespan owns engines, stores and clients; requests read `State`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from carpulse.about.service import resolve_version
from carpulse.account.service import account as account_service
from carpulse.api import TAG_DESCRIPTIONS, TAG_GROUPS, mount_docs, mount_routers
from carpulse.api_key.service import new_key_cache
from carpulse.auth.google.client import GoogleClientConfig, GoogleIdentity
from carpulse.config import Settings, get_settings
from carpulse.consumer import reconcile_forever, start_jobs
from carpulse.database import create_engine, create_sessionmaker
from carpulse.errors import install_error_handlers, install_problem_openapi
from carpulse.geo import zone
from carpulse.geo.service import build_geocoder, build_router
from carpulse.kit.client_ip import parse_networks
from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.documents import shutdown_pdf_pool
from carpulse.kit.ephemeral import open_ephemeral_store
from carpulse.kit.logs import configure_logging, get_logger
from carpulse.kit.secrets_box import SecretBox
from carpulse.kit.storage import UrlSigner, open_storage
from carpulse.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from carpulse.partner_key.service import partner_key
from carpulse.payment.factory import PaymentGateways
from carpulse.provider.registry import BrandPlugin, ProviderRegistry, builtin_brands
from carpulse.rate_limit import RateLimiter, RateLimitHeadersMiddleware
from carpulse.sandbox import SANDBOX_WALLET_CONFIGURATIONS, mount_sandbox, redirect_sandbox
from carpulse.state import State
from carpulse.vehicle_model.service import vehicle_models
from carpulse.web.pages import install_page_errors
from carpulse.worker import Jobs, create_lanes

log = get_logger("carpulse.app")


VendorTransport = Callable[[FastAPI], httpx.AsyncBaseTransport]


def build_payments(settings: Settings, http: httpx.AsyncClient) -> PaymentGateways:
    """The payment providers; under the sandbox they talk to the bundled fakes."""
    from carpulse.payment.paypal.adapter import PayPalGateway
    from carpulse.payment.stripe.adapter import StripeGateway

    sandbox_root = settings.sandbox_root
    # Unless an operator names real ones, the sandbox's wallets use the configurations its Stripe fake has.
    sandbox_wallets = SANDBOX_WALLET_CONFIGURATIONS if sandbox_root and not settings.stripe.api_base else {}
    paypal_live = "https://api-m.paypal.com" if settings.paypal.mode == "live" else "https://api-m.sandbox.paypal.com"
    certificate_hosts = list(settings.paypal.certificate_hosts)
    if sandbox_root:
        # The PayPal fake serves its signing certificate from the sandbox's own host.
        certificate_hosts.append(urlsplit(sandbox_root).netloc)
    stripe = StripeGateway(
        secret_key=settings.stripe.secret_key.get_secret_value(),
        webhook_secret=settings.stripe.webhook_secret.get_secret_value(),
        api_base=settings.stripe.api_base or (f"{sandbox_root}/stripe" if sandbox_root else None),
        webhook_tolerance_seconds=settings.stripe.webhook_tolerance_seconds,
        webhook_clock_skew_seconds=settings.stripe.webhook_clock_skew_seconds,
        http=http,
        mobilepay=settings.stripe.mobilepay,
        wallet_configurations={
            "apple_pay": settings.stripe.apple_pay_configuration or sandbox_wallets.get("apple_pay"),
            "google_pay": settings.stripe.google_pay_configuration or sandbox_wallets.get("google_pay"),
        },
    )
    paypal = PayPalGateway(
        client_id=settings.paypal.client_id,
        client_secret=settings.paypal.client_secret.get_secret_value(),
        webhook_id=settings.paypal.webhook_id,
        api_base=settings.paypal.api_base or (f"{sandbox_root}/paypal" if sandbox_root else paypal_live),
        certificate_hosts=certificate_hosts,
        http=http,
    )
    return PaymentGateways({"stripe": stripe, "paypal": paypal})


async def build_state(
    settings: Settings,
    version: str,
    clock: Clock = system_clock,
    vendor_http: httpx.AsyncClient | None = None,
    brands: Sequence[BrandPlugin] | None = None,
) -> State:
    engine = create_engine(settings.database)
    vendor_http = vendor_http or httpx.AsyncClient(timeout=settings.vendor_timeout_seconds)
    redis_url = settings.redis.url.get_secret_value() if settings.redis.url else None
    signer = UrlSigner(
        key=settings.storage.signing_key.get_secret_value().encode(),
        base_url=settings.base_url,
        default_ttl_seconds=settings.storage.signed_url_ttl_seconds,
        clock=clock,
    )
    ephemeral = open_ephemeral_store(redis_url, settings.redis.key_prefix, settings.redis.socket_timeout_seconds)
    return State(
        settings=settings,
        version=version,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        ephemeral=ephemeral,
        storage=open_storage(settings.storage.url, signer, settings.storage),
        rate_limiter=RateLimiter(
            settings.rate_limit.policies,
            redis_url=redis_url,
            key_prefix=settings.redis.key_prefix,
            enabled=settings.rate_limit.enabled,
        ),
        trusted_proxies=parse_networks(settings.http.trusted_proxies),
        clock=clock,
        box=SecretBox([key.get_secret_value() for key in settings.security.token_keys]),
        providers=ProviderRegistry.build(settings, vendor_http, clock, brands),
        vendor_http=vendor_http,
        payments=build_payments(settings, vendor_http),
        geocoder=build_geocoder(settings, vendor_http, ephemeral),
        router=build_router(settings, vendor_http),
        google=GoogleIdentity(vendor_http, GoogleClientConfig.of(settings), clock),
        api_key_cache=new_key_cache(settings),
        jobs=Jobs.of(
            create_lanes(
                redis_url if settings.jobs.broker == "redis" else None,
                settings.jobs.queue_name,
                prefetch=settings.jobs.prefetch,
                claim_idle_seconds=settings.jobs.claim_idle_seconds,
                socket_timeout_seconds=settings.redis.socket_timeout_seconds,
                max_stream_length=settings.jobs.max_stream_length,
            )
        ),
        render_slots=asyncio.Semaphore(settings.report.concurrent_renders),
    )


@asynccontextmanager
async def opened_state(settings: Settings) -> AsyncIterator[State]:
    """The state of a process without the API (`carpulse worker`), closed on the way out."""
    state = await build_state(settings, resolve_version(settings.app_version))
    try:
        yield state
    finally:
        await close_state(state)


async def close_state(state: State, *, keep_document_pool: bool = False) -> None:
    # What domains made per process (the trip event writer) finishes its writes before the jobs drain.
    for helper in state.per_process.values():
        close = getattr(helper, "close", None)
        if close is not None:
            await close()
    await state.jobs.drain()
    await state.jobs.shutdown()
    if not keep_document_pool:
        shutdown_pdf_pool()
    await state.payments.aclose()
    await state.providers.aclose()
    await state.vendor_http.aclose()
    await state.rate_limiter.close()
    await state.ephemeral.close()
    await state.engine.dispose()


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = system_clock,
    vendor_transport: VendorTransport | None = None,
    keep_document_pool: bool = False,
    brands: Sequence[BrandPlugin] | None = None,
) -> FastAPI:
    """The API. `vendor_transport` routes vendor calls in-process (tests: to the sandbox on this app).

    The document process pool is shared by the process; `keep_document_pool` leaves it running when this
    app stops, for a caller that runs many apps in turn and shuts the pool down itself (the test suite).
    `brands`: the brands it connects (default: every package under `carpulse.provider` with a `brand.py`).
    """
    plugins = tuple(builtin_brands() if brands is None else brands)
    settings = settings or get_settings()
    configure_logging(settings.log.level, settings.log.json_lines)
    version = resolve_version(settings.app_version)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        vendor_http = None
        if vendor_transport is not None:
            vendor_http = httpx.AsyncClient(transport=vendor_transport(app), timeout=settings.vendor_timeout_seconds)
        state = await build_state(settings, version, clock, vendor_http, plugins)
        state.sandbox = sandbox
        app.state.carpulse = state
        receiver: asyncio.Task[None] | None = None
        reconciler: asyncio.Task[None] | None = None
        try:
            receiver = await start_jobs(state)
            # The time-zone boundaries take ~0.3 s to read: once per process, off the event loop.
            await asyncio.to_thread(zone.warm_up)
            await account_service.seed_admin(state)
            await vehicle_models.seed(state)
            if settings.jobs.broker == "memory" or settings.jobs.in_process_worker:
                reconciler = asyncio.create_task(reconcile_forever(state, settings.jobs.reconcile_every_seconds))
            if settings.sandbox.enabled:
                await asyncio.to_thread(partner_key.ensure_configured, settings)
            log.info(
                "app.started",
                version=version,
                environment=settings.environment.value,
                database=state.engine.dialect.name,
                ephemeral_store=state.ephemeral.name,
                base_url=settings.base_url,
            )
            yield
        finally:
            for task in (receiver, reconciler):
                if task is not None:
                    task.cancel()
            await close_state(state, keep_document_pool=keep_document_pool)
            log.info("app.stopped")

    app = FastAPI(
        title=settings.app_name,
        version=version,
        description="Car Pulse: vehicle health reports, mileage logbook and battery data API.",
        lifespan=lifespan,
        # Off in production unless asked for: the schema maps every endpoint, and the docs pages need it.
        # The docs pages are ours (`mount_docs`), on vendored files: FastAPI's load a CDN and inline a script.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    install_error_handlers(app)
    install_page_errors(app)
    mount_routers(app, tuple(plugin.info for plugin in plugins))
    sandbox = mount_sandbox(app, settings) if settings.serves_sandbox else None
    if settings.sandbox.enabled and settings.sandbox.url:
        redirect_sandbox(app, settings.sandbox.url)
    install_problem_openapi(app, TAG_GROUPS, TAG_DESCRIPTIONS)
    if settings.docs_enabled:
        mount_docs(app)

    # Added innermost first: the request id wraps everything, the body limit sits closest to the app.
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.http.max_body_bytes,
        max_upload_bytes=settings.http.max_upload_bytes,
        upload_suffixes=("/photos",),
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.http.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
        expose_headers=[
            "X-Request-ID",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit-Policy",
            "Content-Disposition",
        ],
        max_age=600,
    )
    app.add_middleware(RequestContextMiddleware, force_https_headers=settings.is_production)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    return app
