"""The suite runs twice: on real PostgreSQL + Redis (`server`) and on SQLite + in-process (`embedded`).

Each test gets a fresh app (its lifespan run), an HTTP client on it, and a database
connection inside an outer transaction that is rolled back at teardown; Redis keys of a test
carry their own prefix and are deleted afterwards.

The embedded run repeats only the tests that touch the backend (those using the `database_url`
fixture, directly or through `engine`, `settings`, `app`, …, or this module's backend constants):
a test that never reaches a database or a store would only run the same code a second time.
Under pytest-xdist each worker gets a PostgreSQL database of its own (`<name>_gw0`, …), created
here; Redis is shared, every test's keys carrying their own prefix.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from carpulse.app import create_app
from carpulse.cli import alembic_config
from carpulse.config import DatabaseSettings, Settings
from carpulse.database import create_engine
from carpulse.kit.documents import shutdown_pdf_pool
from carpulse.kit.passwords import hash_password
from carpulse.provider.registry import BrandPlugin
from tests.redis_server import RedisServer

BACKEND = os.environ.get("CARPULSE_TEST_BACKEND", "server")
SERVER = BACKEND == "server"
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", … in a pytest-xdist worker
_BASE_POSTGRES_URL = os.environ.get("CARPULSE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
POSTGRES_URL = (
    make_url(_BASE_POSTGRES_URL)
    .set(database=f"{make_url(_BASE_POSTGRES_URL).database}_{XDIST_WORKER}")
    .render_as_string(hide_password=False)
    if XDIST_WORKER
    else _BASE_POSTGRES_URL
)
REDIS_URL = os.environ.get("CARPULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# A loaded CI machine has taken over 3 s (the production default) to hand the suite a PostgreSQL connection.
CONNECT_TIMEOUT_SECONDS = 30.0

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "correct horse battery staple"
CLIENT_ADDRESS = ("203.0.113.7", 50000)


def pytest_report_header() -> str:
    return f"carpulse backend: {BACKEND} ({POSTGRES_URL if SERVER else 'sqlite + in-process'})"


# Names a test module imports from here when it builds its own app or store on the run's backend.
_BACKEND_NAMES = frozenset(
    {"SERVER", "BACKEND", "POSTGRES_URL", "REDIS_URL", "make_settings", "run_migrations", "delete_redis_prefix"}
)


def touches_backend(item: pytest.Item) -> bool:
    """Whether the test reaches the run's database or stores (so its outcome may differ between the runs)."""
    if "database_url" in getattr(item, "fixturenames", ()):
        return True
    module = getattr(item, "module", None)
    return module is not None and not _BACKEND_NAMES.isdisjoint(vars(module))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SERVER:
        return
    skip = pytest.mark.skip(reason="needs a real server; this is the embedded run")
    kept, repeated = [], []
    for item in items:
        if "server" in item.keywords:
            item.add_marker(skip)
        (kept if touches_backend(item) else repeated).append(item)
    if repeated:
        # Run once, by the server run: on this run they would execute the very same code again.
        config.hook.pytest_deselected(items=repeated)
        items[:] = kept


async def _create_database(url: str) -> None:
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    connection = await asyncpg.connect(server)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", target.database)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await connection.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session", autouse=True)
def document_pool() -> Iterator[None]:
    """One document process pool for the whole run (apps here leave it running): WeasyPrint is
    imported by its processes once, not once per test that renders."""
    yield
    shutdown_pdf_pool()


def app_lifespan(app: Any) -> LifespanManager:
    """The app's lifespan, with room for a loaded CI machine (asgi-lifespan's own limit is 5 s)."""
    return LifespanManager(app, startup_timeout=60, shutdown_timeout=60)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if SERVER:
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'carpulse.db'}"


def run_migrations(connection: Connection, revision: str = "head", direction: str = "upgrade") -> None:
    config = alembic_config(str(connection.engine.url))
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if SERVER and XDIST_WORKER:
        await _create_database(database_url)
    # The suite's own connection holds each test's outer transaction: it must not lock SQLite for writes.
    engine = create_engine(
        DatabaseSettings(url=database_url, sqlite_begin="deferred", connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS)
    )
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await connection.run_sync(run_migrations)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def admin_password_hash() -> str:
    return hash_password(ADMIN_PASSWORD)


@pytest.fixture
def redis_prefix() -> str:
    return f"carpulse-test:{uuid.uuid4().hex}:"


def production_overrides() -> dict[str, Any]:
    """Every value production insists on, set to something that is not a development default."""
    return {
        "environment": "production",
        "public_base_url": "https://api.carpulsetracker.com",
        "auth": {"jwt_secret_key": "pN1cKoxyn1U-Wd8zhLuQIqlWIsazWgY_Lo8na0rb55s"},  # secrets.token_urlsafe(32)
        "storage": {"signing_key": "6qdMHUCRADQy3IdLaqYlg-_RQAuTM6Xm77wwYKqKmso"},
        "data_api": {"key_secret": "Yq0b3TzR7m2XkVn5sJc8Lw1pHd4Fg6Ua9Ee_Oi-KtBs"},
        "logbook": {"webhook_token_secret": "Hh3_kQ9vTz0mW2pLx7cN5rBd8Ys1Fe4Ga6Ju-Oi_KtA"},
        "http": {"cors_origins": ["https://app.carpulsetracker.com"]},
        "sandbox": {"enabled": False},
        "admin": {"password_hash": "$argon2id$v=19$m=65536,t=3,p=4$abc$def"},
        "security": {"token_keys": ["u5sJ8NaHq0s3Qm8Qe2n3l9b1vJ6rS0wXy4zT7cK2dA0="]},
        "tesla": {"client_secret": "ta-secret.real", "client_id": "8f2c1b9e-real"},
        "stripe": {"secret_key": "sk_live_real", "webhook_secret": "whsec_real"},
        "paypal": {
            "client_secret": "paypal-real-secret",
            "mode": "live",
            "client_id": "real-id",
            "webhook_id": "WH-REAL",
        },
        "company": {"y_tunnus": "3141592-6", "vat_number": "FI31415926"},
        "open_charge_map": {"api_key": "5b0c6a1e-9f2d-4c3b-8e7a-real-ocm-key"},
        "mail": {"host": "smtp.carpulsetracker.com", "from": "Car Pulse <no-reply@carpulsetracker.com>"},
        "google": {
            "web_client_id": "1234-web.apps.googleusercontent.com",
            "web_client_secret": "GOCSPX-real-secret",
            "ios_client_id": "1234-ios.apps.googleusercontent.com",
            "client_id": "1234-general.apps.googleusercontent.com",
        },
        "logbook_auth": {"allowed_emails": ["@carpulsetracker.com"]},
    }


def make_settings(
    database_url: str, storage_root: Path, admin_password_hash: str, redis_prefix: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "app_version": "9.9.9-test",
        "database": {"url": database_url, "connect_timeout_seconds": CONNECT_TIMEOUT_SECONDS},
        "redis": {"url": REDIS_URL if SERVER else None, "key_prefix": redis_prefix},
        "storage": {"url": str(storage_root)},
        "admin": {"username": ADMIN_USERNAME, "password_hash": admin_password_hash},
        "public_base_url": "http://testserver",
        "sandbox": {"wake_delay_seconds": 0},
        # Paying renders reports; tests of other things keep their orders paid and fast (tests/report turn it on).
        "report": {"start_on_payment": False},
        # Tests run the reconcilers themselves; a background sweep would race their single connection.
        "jobs": {"reconcile_every_seconds": 3600},
        "tesla": {
            "public_key_path": str(storage_root.parent / "keys" / "public.pem"),
            "private_key_path": str(storage_root.parent / "keys" / "private.pem"),
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module or class to change the app's settings."""
    return {}


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, admin_password_hash: str, redis_prefix: str, settings_overrides: dict[str, Any]
) -> Settings:
    return make_settings(database_url, tmp_path / "storage", admin_password_hash, redis_prefix, **settings_overrides)


def create_in_process_app(settings: Settings, brands: tuple[BrandPlugin, ...] | None = None) -> FastAPI:
    """The app, its vendor calls routed in-process to the sandbox fakes mounted on it."""
    return create_app(
        settings, vendor_transport=lambda app: httpx.ASGITransport(app=app), keep_document_pool=True, brands=brands
    )


@pytest.fixture
def brands() -> tuple[BrandPlugin, ...] | None:
    """The brands the `app` connects; None: the built-in ones. A test module overrides it to add a test brand."""
    return None


@pytest.fixture
async def app(
    settings: Settings, engine: AsyncEngine, redis_prefix: str, brands: tuple[BrandPlugin, ...] | None
) -> AsyncIterator[FastAPI]:
    app = create_in_process_app(settings, brands)
    async with app_lifespan(app):
        state = app.state.carpulse
        async with engine.connect() as connection:
            outer = await connection.begin()
            state.sessionmaker = async_sessionmaker(
                bind=connection,
                expire_on_commit=False,
                autoflush=False,
                join_transaction_mode="create_savepoint",
            )
            try:
                yield app
            finally:
                await outer.rollback()
    if SERVER:
        await delete_redis_prefix(redis_prefix)


# Tables that payment tests fill with committed rows, children first.
_COMMITTED_TABLES = (
    "reconcile_run",
    "report",
    "vehicle_snapshot",
    "observation",
    "report_photo",
    "vehicle_connection",
    "voucher_redemption",
    "credit_note",
    "receipt",
    "order_transition",
    '"order"',
    "quote",
    "voucher",
    "inbound_event",
    "receipt_sequence",
    "credit_note_sequence",
    "usage_record",
    "idempotent_response",
    "invoice",
    "invoice_sequence",
    "api_key",
    "data_client",
    "email_confirmation",
    "outbound_mail",
    "driver_refresh_token",
    "driver_identity",
    "trip_change",
    "trip_event",
    "trip",
    "webhook_token",
    "place",
    "car_driver",
    "car",
)


@pytest.fixture
async def committed_app(
    settings: Settings, engine: AsyncEngine, redis_prefix: str, brands: tuple[BrandPlugin, ...] | None
) -> AsyncIterator[FastAPI]:
    """An app whose requests and jobs commit for real (races, concurrent webhooks); its rows are
    deleted afterwards. Tests using it must not run in parallel with each other."""
    app = create_in_process_app(settings, brands)
    try:
        async with app_lifespan(app):
            yield app
    finally:
        async with engine.begin() as connection:
            for table in _COMMITTED_TABLES:
                await connection.execute(text(f"DELETE FROM {table}"))
            await connection.execute(text("DELETE FROM account WHERE role <> 'admin'"))
        if SERVER:
            await delete_redis_prefix(redis_prefix)


@pytest.fixture
async def committed_client(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def admin_token_committed(committed_client: httpx.AsyncClient) -> str:
    response = await committed_client.post(
        "/api/v1/auth/login/json", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def delete_redis_prefix(prefix: str) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def draining_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that waits after each response for the jobs it queued (mail sends, …): they share the
    test's one database connection, so they must not run beside the next request."""

    async def drain(response: httpx.Response) -> None:
        await app.state.carpulse.jobs.drain()

    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"response": [drain]}
    ) as client:
        yield client


@pytest.fixture
async def db(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session inside the test's outer transaction, seeing what requests wrote."""
    async with app.state.carpulse.sessionmaker() as session:
        yield session


@pytest.fixture
async def admin_token(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/api/v1/auth/login/json", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
async def empty_database(tmp_path: Path) -> AsyncIterator[str]:
    """A database of this test's own, with nothing in it (PostgreSQL: created and dropped here)."""
    if not SERVER:
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_fresh_{uuid.uuid4().hex[:8]}"
    server = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis of the test's own on a free port, to stop and start again empty; killed at the end."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
