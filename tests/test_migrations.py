from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from carpulse.cli import alembic_config
from carpulse.config import DatabaseSettings
from carpulse.database import create_engine
from carpulse.models import Base
from tests.conftest import run_migrations


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


class TestMigrations:
    async def test_models_and_migrations_agree(self, engine: AsyncEngine) -> None:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
        assert diff == [], f"models and migrations disagree; run alembic revision --autogenerate: {diff}"

    def test_one_head(self) -> None:
        assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1

    async def test_downgrade_to_base_and_back(self, engine: AsyncEngine, tmp_path: Path) -> None:
        if engine.dialect.name == "sqlite":
            # SQLite's DDL commits on its own: round-trip a scratch database, not the suite's.
            scratch = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"))
            try:
                async with scratch.begin() as connection:
                    await connection.run_sync(run_migrations, "head", "upgrade")
                    await connection.run_sync(run_migrations, "base", "downgrade")
                    await connection.run_sync(run_migrations, "head", "upgrade")
                    assert await connection.run_sync(_diff) == []
            finally:
                await scratch.dispose()
            return
        async with engine.connect() as connection:
            outer = await connection.begin()
            try:
                await connection.run_sync(run_migrations, "base", "downgrade")
                await connection.run_sync(run_migrations, "head", "upgrade")
                assert await connection.run_sync(_diff) == []
            finally:
                await outer.rollback()


class TestReportDedupeRevision:
    async def test_open_duplicate_requests_keep_the_oldest_when_the_index_arrives(self, tmp_path: Path) -> None:
        path = tmp_path / "before.db"
        scratch = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))
        try:
            async with scratch.begin() as connection:
                await connection.run_sync(run_migrations, "e291fcb3d527", "upgrade")
            columns = "id, order_id, connection_id, vin, locale, package, origin, status, progress, attempts"
            rows = [
                ("oldest", "request", "queued", "2026-11-30 10:00:00"),
                ("younger", "request", "processing", "2026-11-30 10:01:00"),
                ("youngest", "request", "queued", "2026-11-30 10:02:00"),
                ("finished", "request", "complete", "2026-11-30 09:00:00"),
                ("paid-for", "order", "queued", "2026-11-30 09:30:00"),
            ]
            with sqlite3.connect(path) as raw:  # no foreign keys: the rows need no order
                raw.executemany(
                    f"INSERT INTO report ({columns}, created_at, updated_at) "
                    "VALUES (?, 'order', 'connection', 'LRW3E7FA0NC000001', 'de', 'pro', ?, ?, 0, 0, ?, ?)",
                    [(report_id, origin, status, at, at) for report_id, origin, status, at in rows],
                )
            async with scratch.begin() as connection:
                # To the revision that brings the index: later ones copy the table, and these rows have no order.
                await connection.run_sync(run_migrations, "5c0d7a3e9b21", "upgrade")
            with sqlite3.connect(path) as raw:
                statuses = dict(raw.execute("SELECT id, status FROM report").fetchall())
        finally:
            await scratch.dispose()

        assert statuses == {
            "oldest": "queued",
            "younger": "failed",
            "youngest": "failed",
            "finished": "complete",
            "paid-for": "queued",
        }


class TestObservationsRevision:
    async def test_snapshot_battery_samples_become_observations_and_come_back(self, tmp_path: Path) -> None:
        path = tmp_path / "before.db"
        scratch = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))
        at = "2026-11-30T10:00:00+00:00"
        sample = {
            "captured_at": at,
            "battery_level_percent": "80.0",
            "rated_range_km": "402.5",
            "usable_level_percent": None,
            "odometer_km": "20000.4",
            "software_version": "2026.38.4",
        }
        reading = {"unit": None, "captured_at": at, "source": "tesla_fleet"}
        data = {
            "identity": {"vin": "LRW3E7EB1NC000001", "wheels": "Pinwheel18CapKit"},
            "captured_at": at,
            "battery_level": {**reading, "value": 80.0, "unit": "%"},
            "range": {**reading, "value": 402.5, "unit": "km"},
            "odometer": {**reading, "value": 20000.4, "unit": "km"},
            "software_version": {**reading, "value": "2026.38.4"},
            "raw": {"vehicle_data": {"vehicle_config": {"car_type": "model3", "wheel_type": "Pinwheel18CapKit"}}},
        }
        try:
            async with scratch.begin() as connection:
                await connection.run_sync(run_migrations, "3e8d5b1c7a60", "upgrade")
            with sqlite3.connect(path) as raw:
                # Two acquisitions that saw the same reading: one set of observations.
                raw.executemany(
                    "INSERT INTO vehicle_snapshot (id, connection_id, vin, captured_at, with_history, billable_calls, "
                    "data, battery_samples) VALUES (?, 'c', 'LRW3E7EB1NC000001', '2026-11-30 10:00:05', 0, 1, ?, ?)",
                    [(f"{n:032x}", json.dumps(data), json.dumps([sample])) for n in (1, 2)],
                )
            async with scratch.begin() as connection:
                await connection.run_sync(run_migrations, "head", "upgrade")
            with sqlite3.connect(path) as raw:
                observed = sorted(raw.execute("SELECT kind, value, unit, source, brand FROM observation").fetchall())
                identity = json.loads(raw.execute("SELECT data FROM vehicle_snapshot").fetchone()[0])["identity"]
            async with scratch.begin() as connection:
                await connection.run_sync(run_migrations, "3e8d5b1c7a60", "downgrade")
            with sqlite3.connect(path) as raw:
                restored = [json.loads(row[0]) for row in raw.execute("SELECT battery_samples FROM vehicle_snapshot")]
        finally:
            await scratch.dispose()

        assert observed == [
            ("battery_level", "80.0", "%", "tesla_fleet", "tesla"),
            ("odometer", "20000.4", "km", "tesla_fleet", "tesla"),
            ("range", "402.5", "km", "tesla_fleet", "tesla"),
            ("software_version", "2026.38.4", None, "tesla_fleet", "tesla"),
        ]
        assert (identity["variant"], identity["wheel_inches"]) == ("model3", 18)
        assert restored == [[sample], [sample]]
