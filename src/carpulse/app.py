"""`create_app(settings)`: the lifespan owns engines, stores and clients; requests read `State`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
from carpulse.kit.ephemeral import open_ephemeral_store
from carpulse.kit.logs import configure_logging, get_logger
from carpulse.kit.storage import UrlSigner, open_storage
from carpulse.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from carpulse.rate_limit import RateLimiter
from carpulse.state import State

log = get_logger("carpulse.app")


async def build_state(settings: Settings, version: str, clock: Clock = system_clock) -> State:
    engine = create_engine(settings.database)
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
        storage=open_storage(settings.storage.url, signer),
        rate_limiter=RateLimiter(
            settings.rate_limit.policies,
            redis_url=redis_url,
            key_prefix=settings.redis.key_prefix,
            enabled=settings.rate_limit.enabled,
        ),
        trusted_proxies=parse_networks(settings.http.trusted_proxies),
        clock=clock,
    )


async def close_state(state: State) -> None:
    await state.rate_limiter.close()
    await state.ephemeral.close()
    await state.engine.dispose()


async def seed_admin(state: State) -> None:
    settings = state.settings
    configured = settings.admin.password_hash.get_secret_value() if settings.admin.password_hash else None
    async with state.sessionmaker() as session:
        await account_service.ensure_admin(session, settings.admin.username, configured, DEVELOPMENT_ADMIN_PASSWORD)
        await session.commit()


def _problem_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with its default 422 replaced by our problem document."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            response = operation.get("responses", {}).get("422")
            if response is not None:
                response["content"] = {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
                }
                response["description"] = "Validation failed: `errors` lists each invalid value"
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    from carpulse.errors import FieldError, Problem, ValidationProblem

    for model in (Problem, ValidationProblem, FieldError):
        schemas.setdefault(model.__name__, model.model_json_schema(ref_template="#/components/schemas/{model}"))
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log.level, settings.log.json_lines)
    version = resolve_version(settings.app_version)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await build_state(settings, version, clock)
        app.state.carpulse = state
        try:
            await seed_admin(state)
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
            await close_state(state)
            log.info("app.stopped")

    app = FastAPI(
        title=settings.app_name,
        version=version,
        description="Car Pulse: vehicle health reports, mileage logbook and battery data API.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    mount_routers(app)
    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]

    # Added innermost first: the request id wraps everything, the body limit sits closest to the app.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.http.max_body_bytes)
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
