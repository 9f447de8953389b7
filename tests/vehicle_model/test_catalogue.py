"""The model catalogue: a source for every figure, Tesla's figures from the battery baselines, synced at start."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carpulse.battery.catalogue import BASELINES, configurations
from carpulse.config import DatabaseSettings
from carpulse.database import create_engine
from carpulse.models import VehicleModel
from carpulse.vehicle_model.catalogue import ROW_FIELDS, entries
from carpulse.vehicle_model.service import vehicle_models
from tests.conftest import run_migrations

FIGURES = ("chemistry", "nominal_kwh", "usable_kwh", "rated_range_km", "warranty_years", "warranty_km")


class TestCatalogue:
    def test_every_figure_it_states_names_a_source(self) -> None:
        for entry in entries():
            for name in FIGURES:
                if getattr(entry, name) is not None:
                    assert entry.sources[name].source, (entry.model_id, name)
            if entry.warranty_retained_percent is not None:
                assert entry.sources["warranty_retained_percent"].source

    def test_ids_are_unique_slugs(self) -> None:
        ids = [entry.model_id for entry in entries()]
        assert len(ids) == len(set(ids))
        assert all(model_id == model_id.lower() and " " not in model_id for model_id in ids)

    def test_covers_tesla_and_the_logbook_brands(self) -> None:
        carried = {(entry.make, entry.model) for entry in entries()}
        assert {("Tesla", model) for model in ("Model S", "Model 3", "Model X", "Model Y", "Cybertruck")} <= carried
        assert {
            ("Renault", "Zoe"),
            ("Renault", "Megane E-Tech"),
            ("Renault", "Scenic E-Tech"),
            ("Volkswagen", "ID.3"),
            ("Volkswagen", "ID.4"),
            ("Volkswagen", "ID.7"),
            ("Skoda", "Enyaq"),
            ("Skoda", "Elroq"),
            ("Cupra", "Born"),
            ("Cupra", "Tavascan"),
            ("Audi", "Q4 e-tron"),
            ("Audi", "Q8 e-tron"),
        } <= carried

    def test_unconfirmed_figures_are_marked(self) -> None:
        others = [entry for entry in entries() if entry.make != "Tesla"]
        assert others
        assert all(not entry.sources["usable_kwh"].confirmed for entry in others)


class TestOneSourcePerFigure:
    def test_tesla_entries_are_the_battery_configurations(self) -> None:
        tesla = {entry.model_id: entry for entry in entries() if entry.make == "Tesla"}
        assert len(tesla) == len(configurations())
        for baseline in configurations():
            entry = tesla["tesla-" + baseline.key.replace("_", "-")]
            assert entry.baseline == baseline
            assert (entry.usable_kwh, entry.rated_range_km, entry.chemistry) == (
                baseline.usable_kwh,
                baseline.rated_range_km,
                baseline.chemistry,
            )
            assert (entry.year_from, entry.year_to) == baseline.model_years

    def test_every_battery_baseline_is_within_one_configuration(self) -> None:
        for row in BASELINES:
            holding = [
                merged
                for merged in configurations()
                if (merged.model, merged.name, merged.chemistry, merged.factories, merged.car_types)
                == (row.model, row.name, row.chemistry, row.factories, row.car_types)
                and merged.covers(row.model_years[0])
                and merged.rated_range_interval_km[0] <= row.rated_range_km <= merged.rated_range_interval_km[1]
            ]
            assert len(holding) == 1, row.key

    def test_a_configuration_spans_the_ratings_of_its_wheel_sizes(self) -> None:
        rows = [row for row in BASELINES if row.model == "Model 3" and row.name == "Long Range AWD"]
        rows = [row for row in rows if row.model_years == (2022, 2022) and row.chemistry == "NCA"]
        (merged,) = [c for c in configurations() if c.key == "model_3_long_range_awd_2022"]
        low, high = merged.rated_range_interval_km
        assert {row.wheel_inches for row in rows} == {18, 19}
        assert all(low <= row.rated_range_km <= high for row in rows)


async def _count(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(VehicleModel))).scalar_one())


class TestSync:
    async def test_the_app_start_put_every_entry_in_the_table(self, db: AsyncSession) -> None:
        assert await _count(db) == len(entries())
        row = await db.get(VehicleModel, "volkswagen-id-3-pro-58-kwh")
        assert row is not None
        assert (row.usable_kwh, row.warranty_km, row.sources["usable_kwh"]["confirmed"]) == (Decimal(58), 160000, False)

    async def test_syncing_again_changes_nothing_and_repairs_a_drifted_row(self, db: AsyncSession) -> None:
        assert await vehicle_models.sync_catalogue(db) == 0
        await db.execute(update(VehicleModel).where(VehicleModel.model_id == "cupra-born-58-kwh").values(usable_kwh=1))

        assert await vehicle_models.sync_catalogue(db) == 1
        row = await db.get(VehicleModel, "cupra-born-58-kwh")
        assert row is not None
        assert row.usable_kwh == Decimal(58)
        assert await _count(db) == len(entries())

    @pytest.mark.server
    async def test_two_replicas_syncing_an_empty_table_at_once_both_succeed(self, empty_database: str) -> None:
        engine = create_engine(DatabaseSettings(url=empty_database))
        try:
            async with engine.begin() as connection:
                await connection.run_sync(run_migrations)
            sessions = async_sessionmaker(engine, expire_on_commit=False)

            async def replica() -> int:
                async with sessions() as session:
                    changed = await vehicle_models.sync_catalogue(session)
                    await session.commit()
                    return changed

            results = await asyncio.gather(replica(), replica())
            async with sessions() as session:
                assert await _count(session) == len(entries())
                rows = {row.model_id: row for row in (await session.execute(select(VehicleModel))).scalars()}
            assert max(results) == len(entries())
            entry = entries()[0]
            assert {name: getattr(rows[entry.model_id], name) for name in ROW_FIELDS} == {
                name: getattr(entry, name) for name in ROW_FIELDS
            }
        finally:
            await engine.dispose()
