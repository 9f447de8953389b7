"""`create_app(settings)`: the lifespan owns engines, stores and clients; requests read `State`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from carpulse.about.service import resolve_version
from carpulse.account.service import account as account_service
from carpulse.api import mount_routers
from carpulse.config import DEVELOPMENT_ADMIN_PASSWORD, Settings, get_settings
from carpulse.database import create_engine, create_sessionmaker
from carpulse.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from carpulse.kit.client_ip import parse_networks
from carpulse.kit.clock import Clock, system_clock
from carpulse.kit.documents import shutdown_pdf_pool
from carpulse.kit.ephemeral import open_ephemeral_store
from carpulse.kit.logs import configure_logging, get_logger
from carpulse.kit.resilience import CircuitBreakers
from carpulse.kit.secrets_box import SecretBox
from carpulse.kit.storage import UrlSigner, open_storage
from carpulse.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from carpulse.partner_key.service import partner_key
from carpulse.payment.factory import PaymentGateways
from carpulse.provider.tesla.client import TeslaApi, TeslaAuthClient, TeslaEndpoints
from carpulse.rate_limit import RateLimiter, RateLimitHeadersMiddleware
from carpulse.sandbox import SANDBOX_WALLET_CONFIGURATIONS, mount_sandbox, redirect_sandbox
from carpulse.state import State
from carpulse.worker import DEFAULT_LANE, RENDER_LANE, Jobs, beat, bind_jobs, consume, create_lanes
from carpulse.worker import start as start_broker

log = get_logger("carpulse.app")


TESLA_PRODUCTION = TeslaEndpoints(
    authorize_url="https://auth.tesla.com/oauth2/v3/authorize",
    token_url="https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token",  # noqa: S106 - a URL
    fleet_base_urls={
        "na": "https://fleet-api.prd.na.vn.cloud.tesla.com",
        "eu": "https://fleet-api.prd.eu.vn.cloud.tesla.com",
        "cn": "https://fleet-api.prd.cn.vn.cloud.tesla.cn",
    },
)

VendorTransport = Callable[[FastAPI], httpx.AsyncBaseTransport]


def tesla_endpoints(settings: Settings) -> TeslaEndpoints:
    """Tesla's hosts, or the sandbox fake's when the sandbox is on; each overridable in settings."""
    tesla = settings.tesla
    if settings.sandbox_root:
        root = f"{settings.sandbox_root}/tesla"
        defaults = TeslaEndpoints(
            authorize_url=f"{root}/oauth2/v3/authorize",
            token_url=f"{root}/oauth2/v3/token",
            fleet_base_urls={region: f"{root}/{region}" for region in ("na", "eu", "cn")},
        )
    else:
        defaults = TESLA_PRODUCTION
    return TeslaEndpoints(
        authorize_url=tesla.authorize_url or defaults.authorize_url,
        token_url=tesla.token_url or defaults.token_url,
        fleet_base_urls={**defaults.fleet_base_urls, **tesla.fleet_base_urls},
    )


def build_tesla(settings: Settings, http: httpx.AsyncClient) -> TeslaApi:
    endpoints = tesla_endpoints(settings)
    tesla = settings.tesla
    return TeslaApi(
        http=http,
        endpoints=endpoints,
        auth=TeslaAuthClient(
            http,
            endpoints,
            client_id=tesla.client_id,
            client_secret=tesla.client_secret.get_secret_value(),
            redirect_uri=settings.tesla_redirect_uri,
            scopes=tesla.scopes,
            timeout_seconds=tesla.timeout_seconds,
        ),
        breakers=CircuitBreakers(),
        default_region=tesla.default_region,
        max_retries=tesla.max_retries,
        retry_after_cap_seconds=tesla.retry_after_cap_seconds,
        timeout_seconds=tesla.timeout_seconds,
    )


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
) -> State:
    engine = create_engine(settings.database)
    vendor_http = vendor_http or httpx.AsyncClient(timeout=settings.tesla.timeout_seconds)
    redis_url = settings.redis.url.get_secret_value() if settings.redis.url else None
    signer = UrlSigner(
        key=settings.storage.signing_key.get_secret_value().encode(),
        base_url=settings.base_url,
        default_ttl_seconds=settings.storage.signed_url_ttl_seconds,
        clock=clock,
    )
    return State(
        settings=settings,
        version=version,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        ephemeral=open_ephemeral_store(redis_url, settings.redis.key_prefix, settings.redis.socket_timeout_seconds),
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
        tesla=build_tesla(settings, vendor_http),
        payments=build_payments(settings, vendor_http),
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


async def start_jobs(state: State, *, consume: bool | None = None) -> asyncio.Task[None] | None:
    """Start the broker; with Redis and an in-process worker (or `consume`), consume jobs here too."""
    import carpulse.inbound_event.tasks
    import carpulse.payment.tasks
    import carpulse.report.tasks  # noqa: F401 - registers the jobs

    for broker in state.jobs.brokers():
        bind_jobs(broker)
        await start_broker(broker, state)
    consume = state.settings.jobs.in_process_worker if consume is None else consume
    if state.settings.jobs.broker == "redis" and consume:
        return asyncio.create_task(consume_jobs(state))
    return None


async def consume_jobs(state: State) -> None:
    """Each lane with its own receiver, and the jobs due later moved to their streams.

    The render lane takes only what this process's render slots (and the lane for idle orders) can
    start, so other workers get the rest; webhooks and payments never wait behind a render.
    """
    jobs = state.settings.jobs
    concurrency = {DEFAULT_LANE: jobs.concurrency, RENDER_LANE: state.settings.report.concurrent_renders + 1}
    tasks = [
        asyncio.create_task(
            consume(
                broker,
                concurrency=concurrency.get(lane, jobs.concurrency),
                prefetch=jobs.prefetch,
                claim_idle_seconds=jobs.claim_idle_seconds,
            )
        )
        for lane, broker in state.jobs.lanes.items()
    ]
    tasks.append(asyncio.create_task(state.jobs.promote_forever()))
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


RECONCILE_EVERY_SECONDS = 15.0
RETENTION_EVERY_SECONDS = 3600.0


async def reconcile_once(state: State) -> None:
    """Re-queue what a lost job left behind: stored webhooks never handled, paid orders without
    reports, renders whose worker died; delete what no order needs any more. The queue is a trigger;
    the tables are the truth."""
    from carpulse.inbound_event.tasks import requeue_unhandled
    from carpulse.report.tasks import requeue_lost, revoke_refunded

    await requeue_unhandled(state, older_than_seconds=state.settings.report.reconcile_after_seconds)
    await requeue_lost(state)
    # Tokens and files past their need: refunded orders, unpaid checkouts that expired, ended windows.
    await revoke_refunded(state)


async def reconcile_forever(
    state: State, every_seconds: float = RECONCILE_EVERY_SECONDS, *, sweep_at_start: bool = False
) -> None:
    """Where this process runs jobs: reconcile every `every_seconds`, and apply the retention period hourly.

    An API process sleeps first, so it serves before it sweeps; a worker sweeps at once, since a
    worker restarted after a crash is what lost work waits for.
    """
    from carpulse.report.tasks import delete_expired

    rounds = 0
    while True:
        if rounds or not sweep_at_start:
            await asyncio.sleep(every_seconds)
        try:
            await reconcile_once(state)
            if rounds % max(1, round(RETENTION_EVERY_SECONDS / every_seconds)) == 0:
                await delete_expired(state)
        except Exception:
            log.exception("app.reconcile_failed")
        rounds += 1


async def run_worker(settings: Settings) -> None:
    """`carpulse worker`: consume jobs from the Redis stream and reconcile lost work, until cancelled.

    Messages are acknowledged after their job ran, so a worker killed mid-job leaves its message
    pending; the report's expired lease lets the reconciler of any worker hand it on.
    """
    if settings.jobs.broker != "redis":
        raise RuntimeError(
            "`carpulse worker` consumes the Redis broker (CARPULSE_JOBS__BROKER=redis); "
            "with the in-memory broker, jobs run inside `carpulse serve`"
        )
    configure_logging(settings.log.level, settings.log.json_lines)
    state = await build_state(settings, resolve_version(settings.app_version))
    heartbeat = asyncio.create_task(beat(Path(settings.jobs.heartbeat_path), settings.jobs.heartbeat_seconds))
    tasks = [heartbeat]
    try:
        await start_jobs(state, consume=False)
        tasks.append(asyncio.create_task(consume_jobs(state)))
        tasks.append(
            asyncio.create_task(reconcile_forever(state, settings.jobs.reconcile_every_seconds, sweep_at_start=True))
        )
        log.info("worker.started", queue=settings.jobs.queue_name, database=state.engine.dialect.name)
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await close_state(state)
        log.info("worker.stopped")


async def close_state(state: State, *, keep_document_pool: bool = False) -> None:
    await state.jobs.drain()
    await state.jobs.shutdown()
    if not keep_document_pool:
        shutdown_pdf_pool()
    await state.payments.aclose()
    await state.tesla.http.aclose()
    await state.rate_limiter.close()
    await state.ephemeral.close()
    await state.engine.dispose()


async def seed_admin(state: State) -> None:
    settings = state.settings
    configured = settings.admin.password_hash.get_secret_value() if settings.admin.password_hash else None
    async with state.sessionmaker() as session:
        await account_service.ensure_admin(session, settings.admin.username, configured, DEVELOPMENT_ADMIN_PASSWORD)
        await session.commit()


async def ensure_sandbox_key(settings: Settings) -> None:
    """The sandbox makes its own partner key at first start, so the public-key endpoint answers."""
    private, public = Path(settings.tesla.private_key_path), Path(settings.tesla.public_key_path)
    await asyncio.to_thread(partner_key.ensure, private, public)


def _problem_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error response documented as our problem document.

    FastAPI documents its 422 as `HTTPValidationError`, gives each problem response an
    `application/json` twin we never send, and leaves out the 400 of an unreadable body and
    the 413 of `BodySizeLimitMiddleware`.
    """
    if app.openapi_schema:
        return app.openapi_schema
    from carpulse.errors import (
        BadRequest,
        CarPulseError,
        FieldError,
        PayloadTooLarge,
        Problem,
        ValidationFailed,
        ValidationProblem,
    )

    def document(responses: dict[str, Any], error: type[CarPulseError], model: str, note: str = "") -> None:
        entry = f"{error.title} ({error.type_uri()}){note}"
        response = responses.get(str(error.status))
        if response is None or PROBLEM_MEDIA_TYPE not in response.get("content", {}):
            # Absent, or FastAPI's own (`HTTPValidationError` as application/json).
            responses[str(error.status)] = {
                "description": entry,
                "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model}"}}},
            }
        elif error.type_uri() not in response.get("description", ""):
            response["description"] = f"{response.get('description', '')}; {entry}".lstrip("; ")

    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "422" in responses:
                document(responses, ValidationFailed, "ValidationProblem", ": `errors` lists each invalid value")
            if "requestBody" in operation:
                document(responses, BadRequest, "Problem")
                document(responses, PayloadTooLarge, "Problem")
            for status, response in responses.items():
                content = response.get("content", {})
                # FastAPI adds an application/json twin for a `model`; errors are only ever problem+json.
                twin = content.get("application/json")
                if status.startswith(("4", "5")) and twin is not None and twin == content.get(PROBLEM_MEDIA_TYPE):
                    del content["application/json"]
            operation["responses"] = dict(sorted(responses.items()))
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for model in (Problem, ValidationProblem, FieldError):
        if model.__name__ not in schemas:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in model_schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas[model.__name__] = model_schema
    app.openapi_schema = schema
    return schema


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = system_clock,
    vendor_transport: VendorTransport | None = None,
    keep_document_pool: bool = False,
) -> FastAPI:
    """The API. `vendor_transport` routes vendor calls in-process (tests: to the sandbox on this app).

    The document process pool is shared by the process; `keep_document_pool` leaves it running when this
    app stops, for a caller that runs many apps in turn and shuts the pool down itself (the test suite).
    """
    settings = settings or get_settings()
    configure_logging(settings.log.level, settings.log.json_lines)
    version = resolve_version(settings.app_version)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        vendor_http = None
        if vendor_transport is not None:
            vendor_http = httpx.AsyncClient(transport=vendor_transport(app), timeout=settings.tesla.timeout_seconds)
        state = await build_state(settings, version, clock, vendor_http)
        state.sandbox = sandbox
        app.state.carpulse = state
        receiver: asyncio.Task[None] | None = None
        reconciler: asyncio.Task[None] | None = None
        try:
            receiver = await start_jobs(state)
            await seed_admin(state)
            if settings.jobs.broker == "memory" or settings.jobs.in_process_worker:
                reconciler = asyncio.create_task(reconcile_forever(state, settings.jobs.reconcile_every_seconds))
            if settings.sandbox.enabled:
                await ensure_sandbox_key(settings)
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
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url="/redoc" if settings.docs_enabled else None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    install_error_handlers(app)
    mount_routers(app)
    sandbox = mount_sandbox(app, settings) if settings.serves_sandbox else None
    if settings.sandbox.enabled and settings.sandbox.url:
        redirect_sandbox(app, settings.sandbox.url)
    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]

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
