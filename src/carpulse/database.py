"""Engine, sessions and the request's transaction, committed at the edge.

Services flush, never commit: `SessionDep` commits once the endpoint function has returned
(before the response is sent), or rolls back when it raised.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from carpulse.config import DatabaseSettings
from carpulse.worker import Jobs, discard_pending, dispatch_after_commit


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # The sqlite3 driver's own transaction handling breaks SAVEPOINTs (and commits DDL on its own):
    # turn it off and let SQLAlchemy emit BEGIN itself (see `_sqlite_begin`).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


READ_ONLY = {"sqlite_deferred": True}


def _sqlite_begin_immediate(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front, so concurrent writers queue (busy_timeout) instead of
    # failing when a read lock cannot be upgraded. Reads (`READ_ONLY`) begin deferred: with WAL they
    # never wait for a writer.
    if connection.get_execution_options().get("sqlite_deferred"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=settings.echo, hide_parameters=True, connect_args={"timeout": settings.connect_timeout_seconds}
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        begin = _sqlite_begin_immediate if settings.sqlite_begin == "immediate" else _sqlite_begin_deferred
        event.listen(engine.sync_engine, "begin", begin)
        return engine
    return create_async_engine(
        url,
        echo=settings.echo,
        # A disconnect invalidates the whole pool anyway; pinging every checkout cost 6 % of a
        # webhook's CPU (bench/webhooks.py). Health checks retry once, so they see a restart at once.
        pool_pre_ping=settings.pool_pre_ping,
        pool_recycle=settings.pool_recycle_seconds,
        hide_parameters=True,  # bound values are user data: never in logs
        pool_size=settings.pool_size,
        pool_timeout=settings.pool_timeout_seconds,
        connect_args={"timeout": settings.connect_timeout_seconds},
    )


def create_sessionmaker(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


_DISCARD = "carpulse.discard_unit_of_work"


def discard_request_work(request: Request) -> None:
    """Roll back the request's unit of work although its endpoint returned: it answered an error itself
    (a page explaining a failure), so what it wrote before failing must not be committed."""
    request.scope[_DISCARD] = True


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state.carpulse
    async with transaction(
        state.sessionmaker,
        state.jobs,
        read_only=request.method in ("GET", "HEAD"),
        discard=lambda: bool(request.scope.get(_DISCARD)),
    ) as session:
        yield session


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
    jobs: Jobs,
    *,
    read_only: bool = False,
    discard: Callable[[], bool] | None = None,
) -> AsyncIterator[AsyncSession]:
    """One unit of work (a request's, a job's): committed at the edge, then the jobs it queued are sent.

    `read_only` begins SQLite's transaction deferred, so a reader does not take the write lock. When
    `discard()` says so at the end, the work is rolled back as if the block had raised.
    """
    async with sessionmaker() as session:
        if read_only and session.get_bind().dialect.name == "sqlite":
            await session.connection(execution_options=READ_ONLY)
        try:
            yield session
        except BaseException:
            discard_pending(session)
            await session.rollback()
            raise
        if discard is not None and discard():
            discard_pending(session)
            await session.rollback()
            return
        await session.commit()
        await dispatch_after_commit(session, jobs)


async def release_read(session: AsyncSession) -> None:
    """End a transaction that has only read, before a slow vendor call: the call must not hold
    database locks (on SQLite, the write lock a webhook arriving meanwhile would wait for).
    What the request writes afterwards starts a new transaction, committed at the edge as usual."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("release_read after writes would drop them")
    await session.rollback()


def insert_ignoring_conflicts(session: AsyncSession, table: Any, values: dict[str, Any]) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` in the session's dialect (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).values(**values).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).values(**values).on_conflict_do_nothing()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
