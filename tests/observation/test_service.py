"""Observations: a snapshot's readings kept one by one, once however often they are recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Observation, ObservationKind
from carpulse.observation.service import observations
from carpulse.provider.base import Reading, VehicleIdentity, VehicleSnapshot

VIN = "LRW3E7EB1NC000001"
AT = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def snapshot(at: datetime = AT, *, level: float = 80.0) -> VehicleSnapshot:
    return VehicleSnapshot(
        identity=VehicleIdentity(vin=VIN),
        captured_at=at + timedelta(seconds=5),
        online_state="online",
        battery_level=Reading(value=level, unit="%", captured_at=at, source="tesla_fleet"),
        range=Reading(value=402.5, unit="km", captured_at=at, source="tesla_fleet"),
        odometer=Reading(value=20_000.4, unit="km", captured_at=at + timedelta(seconds=1), source="tesla_fleet"),
        software_version=Reading(value="2026.38.4", source="tesla_fleet"),  # no time of its own
        charging_state=Reading(value="", source="tesla_fleet"),  # blank: not a reading
    )


async def count(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(Observation))).scalar_one())


class TestRecordSnapshot:
    async def test_each_reading_is_one_row_with_its_time_source_and_brand(self, db: AsyncSession) -> None:
        added = await observations.record_snapshot(db, snapshot(), brand="tesla", connection_id="c1")

        rows = {row.kind: row for row in await observations.of_vehicle(db, VIN)}
        assert added == 4
        assert set(rows) == {
            ObservationKind.battery_level,
            ObservationKind.range,
            ObservationKind.odometer,
            ObservationKind.software_version,
        }
        assert (rows[ObservationKind.range].value, rows[ObservationKind.range].unit) == ("402.5", "km")
        assert rows[ObservationKind.range].captured_at == AT
        # A reading without its own time takes the snapshot's.
        assert rows[ObservationKind.software_version].captured_at == AT + timedelta(seconds=5)
        assert {(row.source, row.brand, row.connection_id) for row in rows.values()} == {("tesla_fleet", "tesla", "c1")}

    async def test_the_same_reading_recorded_twice_is_one_row(self, db: AsyncSession) -> None:
        await observations.record_snapshot(db, snapshot(), brand="tesla", connection_id="c1")
        before = await count(db)

        again = await observations.record_snapshot(db, snapshot(), brand="tesla", connection_id="c2")

        assert again == 0
        assert await count(db) == before
        rows = await observations.of_vehicle(db, VIN)
        assert {row.connection_id for row in rows} == {"c1"}  # the first to read it


class TestQuery:
    async def test_by_kind_and_time_newest_first(self, db: AsyncSession) -> None:
        for days in (0, 1, 2, 3):
            await observations.record_snapshot(
                db, snapshot(AT - timedelta(days=days)), brand="tesla", connection_id="c"
            )

        ranges = await observations.of_vehicle(
            db, VIN, kinds=(ObservationKind.range,), since=AT - timedelta(days=2), until=AT
        )

        assert [row.captured_at for row in ranges] == [AT - timedelta(days=1), AT - timedelta(days=2)]
        assert len(await observations.of_vehicle(db, VIN, kinds=(ObservationKind.range,), limit=3)) == 3
        assert await observations.of_vehicle(db, "5YJ3E7EB1NF000001") == []

    async def test_forget_before_drops_older_readings(self, db: AsyncSession) -> None:
        await observations.record_snapshot(db, snapshot(AT - timedelta(days=40)), brand="tesla", connection_id="c")
        await observations.record_snapshot(db, snapshot(AT), brand="tesla", connection_id="c")

        await observations.forget_before(db, AT - timedelta(days=30))

        assert {row.captured_at for row in await observations.of_vehicle(db, VIN, kinds=(ObservationKind.range,))} == {
            AT
        }
