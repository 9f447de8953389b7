"""Replicas started at the same moment on an empty database: both migrate, both start, one admin."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from carpulse.account.service import account
from carpulse.cli import alembic_config
from carpulse.config import DatabaseSettings
from carpulse.database import create_engine
from tests.conftest import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    CLIENT_ADDRESS,
    app_lifespan,
    create_in_process_app,
    make_settings,
)


def _start_migrations(database_url: str, count: int) -> list[subprocess.Popen[str]]:
    env = os.environ | {"CARPULSE_DATABASE__URL": database_url, "CARPULSE_LOG__LEVEL": "WARNING"}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "carpulse.cli", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(count)
    ]


def _finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    return [(process.wait(180), process.communicate()[0]) for process in processes]


async def _waiting_on_locks(connection: asyncpg.Connection, database: str) -> int:
    count = await connection.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        database,
    )
    return int(count)


async def _scalars(database_url: str, sql: str) -> list[object]:
    engine = create_engine(DatabaseSettings(url=database_url))
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).scalars())
    finally:
        await engine.dispose()


class TestTwoMigrationsAtOnce:
    async def test_both_succeed_and_the_database_is_at_head(self, empty_database: str) -> None:
        processes = _start_migrations(empty_database, 2)
        results = await asyncio.to_thread(_finish, processes)

        assert [code for code, _ in results] == [0, 0], [output[-2000:] for _, output in results]
        head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
        assert await _scalars(empty_database, "SELECT version_num FROM alembic_version") == [head]

    @pytest.mark.server
    async def test_lined_up_at_the_same_instant_each_revision_is_applied_once(self, empty_database: str) -> None:
        # A starting gate: the test holds an uncommitted alembic_version table, so both processes
        # stop at their first step; both are let go at once when it rolls back.
        url = make_url(empty_database)
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        gate, observer = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
        try:
            transaction = gate.transaction()
            await transaction.start()
            await gate.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
            processes = _start_migrations(empty_database, 2)
            async with asyncio.timeout(120):
                # (Observed from another connection: a transaction sees pg_stat_activity as it first read it.)
                while await _waiting_on_locks(observer, str(url.database)) < 2:
                    assert all(process.poll() is None for process in processes), "a migration ended early"
                    await asyncio.sleep(0.1)
            await transaction.rollback()
        finally:
            await gate.close()
            await observer.close()
        results = await asyncio.to_thread(_finish, processes)

        assert [code for code, _ in results] == [0, 0], [output[-2000:] for _, output in results]
        head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
        assert await _scalars(empty_database, "SELECT version_num FROM alembic_version") == [head]


class TestTwoReplicasStartingAtOnce:
    async def test_both_start_and_there_is_one_admin(
        self, empty_database: str, tmp_path: Path, admin_password_hash: str
    ) -> None:
        code, output = (await asyncio.to_thread(_finish, _start_migrations(empty_database, 1)))[0]
        assert code == 0, output[-2000:]
        apps = [
            create_in_process_app(
                make_settings(
                    empty_database,
                    tmp_path / f"storage-{replica}",
                    admin_password_hash,
                    f"carpulse-test:{uuid.uuid4().hex}:",
                )
            )
            for replica in range(2)
        ]
        async with contextlib.AsyncExitStack() as stack:
            await asyncio.gather(*(stack.enter_async_context(app_lifespan(app)) for app in apps))
            states = [app.state.carpulse for app in apps]
            for _ in range(5):
                # The admin both found missing: each seeds it, in the same instant.
                async with states[0].sessionmaker() as db:
                    await db.execute(text("DELETE FROM account"))
                    await db.commit()
                await asyncio.gather(*(account.seed_admin(state) for state in states))

            for app in apps:
                transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                    response = await client.post(
                        "/api/v1/auth/login/json", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
                    )
                    assert response.status_code == 200, response.text

        admins = await _scalars(empty_database, f"SELECT username FROM account WHERE username = '{ADMIN_USERNAME}'")
        assert admins == [ADMIN_USERNAME]
