"""Alembic environment: async engines, or a connection handed in by the caller (tests)."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from carpulse.models import Base

config = context.config
target_metadata = Base.metadata

# pg_advisory_xact_lock key held while migrating: any fixed 64-bit number no other lock of ours uses.
MIGRATION_LOCK_KEY = 0x63617270756C7365  # "carpulse"
SQLITE_LOCK_WAIT_SECONDS = 600.0


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    sqlite = url.startswith("sqlite")
    # A second `carpulse migrate` on SQLite waits for the first's write lock this long.
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_LOCK_WAIT_SECONDS} if sqlite else {})
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_manual_transactions)
        event.listen(engine.sync_engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    async with engine.connect() as connection:
        # Replicas starting together each run `carpulse migrate`: the first takes the database's
        # migration lock, the others wait, then find the revisions applied. Alembic reads the
        # current revision and migrates inside this transaction (it joins one it finds open).
        if sqlite:
            await connection.begin()  # BEGIN IMMEDIATE: the write lock, before the version is read
        else:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.run_sync(_configure)
        await connection.commit()
    await engine.dispose()


def _sqlite_manual_transactions(dbapi_connection: Any, _: Any) -> None:
    # The sqlite3 driver commits before DDL on its own; SQLAlchemy's BEGIN IMMEDIATE takes over.
    dbapi_connection.isolation_level = None


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from carpulse.config import get_settings

        url = get_settings().database.url
    if url.startswith("sqlite"):
        from pathlib import Path

        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
