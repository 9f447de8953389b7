from __future__ import annotations

from pathlib import Path
from typing import Any

import bcrypt
import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from carpulse.app import create_app
from carpulse.config import DEVELOPMENT_ADMIN_PASSWORD
from carpulse.models import Account, AccountRole
from tests.conftest import CLIENT_ADDRESS, app_lifespan, make_settings


async def _login(app: Any, username: str, password: str) -> int:
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/api/v1/auth/login/json", json={"username": username, "password": password})
        return response.status_code


async def _admins(engine: AsyncEngine, username: str) -> list[Account]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(Account.username, Account.role).where(Account.username == username))
        return list(rows.all())  # type: ignore[arg-type]


async def _delete(engine: AsyncEngine, username: str) -> None:
    from sqlalchemy import delete

    async with engine.begin() as connection:
        await connection.execute(delete(Account).where(Account.username == username))


class TestAdminSeeding:
    """The admin comes from settings at startup; these tests commit, so each uses its own username."""

    async def test_bcrypt_hash_from_the_seed_is_accepted(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path, redis_prefix: str
    ) -> None:
        hashed = bcrypt.hashpw(b"seed-style-password", bcrypt.gensalt(rounds=4)).decode()
        settings = make_settings(database_url, tmp_path, hashed, redis_prefix, admin={"username": "Seed-Admin"})
        try:
            app = create_app(settings)
            async with app_lifespan(app):
                assert await _login(app, "seed-admin", "seed-style-password") == 200
                assert await _login(app, "seed-admin", "other") == 401
            rows = await _admins(engine, "seed-admin")
            assert [(row.username, row.role) for row in rows] == [("seed-admin", AccountRole.admin)]
        finally:
            await _delete(engine, "seed-admin")

    async def test_changing_the_hash_changes_the_password(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path, redis_prefix: str
    ) -> None:
        first = bcrypt.hashpw(b"first-password", bcrypt.gensalt(rounds=4)).decode()
        second = bcrypt.hashpw(b"second-password", bcrypt.gensalt(rounds=4)).decode()
        try:
            for hashed, good, bad in (
                (first, "first-password", "second-password"),
                (second, "second-password", "first-password"),
            ):
                settings = make_settings(database_url, tmp_path, hashed, redis_prefix, admin={"username": "rotating"})
                app = create_app(settings)
                async with app_lifespan(app):
                    assert await _login(app, "rotating", good) == 200
                    assert await _login(app, "rotating", bad) == 401
            assert len(await _admins(engine, "rotating")) == 1
        finally:
            await _delete(engine, "rotating")

    async def test_without_a_hash_outside_production_the_development_password_works(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path, redis_prefix: str
    ) -> None:
        settings = make_settings(
            database_url, tmp_path, "unused", redis_prefix, admin={"username": "devadmin", "password_hash": None}
        )
        try:
            for _ in range(2):  # a restart keeps the same account and password
                app = create_app(settings)
                async with app_lifespan(app):
                    assert await _login(app, "devadmin", DEVELOPMENT_ADMIN_PASSWORD) == 200
            assert len(await _admins(engine, "devadmin")) == 1
        finally:
            await _delete(engine, "devadmin")
