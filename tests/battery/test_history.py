"""A car's battery samples as read back from observations: its history and its cohort."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.battery.estimator import BatterySample
from carpulse.battery.samples import SAME_ACQUISITION, samples_from_observations, samples_from_snapshot
from carpulse.battery.service import battery
from carpulse.models import Observation, ObservationKind
from carpulse.observation.service import observations
from carpulse.provider.base import Reading, VehicleIdentity, VehicleSnapshot

AT = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def snapshot(vin: str, at: datetime, *, level: float = 80.0, version: str = "2026.38.4") -> VehicleSnapshot:
    return VehicleSnapshot(
        identity=VehicleIdentity(vin=vin),
        captured_at=at,
        online_state="online",
        battery_level=Reading(value=level, unit="%", captured_at=at, source="tesla_fleet"),
        usable_battery_level=Reading(value=level - 1, unit="%", captured_at=at, source="tesla_fleet"),
        range=Reading(value=350.0, unit="km", captured_at=at, source="tesla_fleet"),
        odometer=Reading(value=20_000.0, unit="km", captured_at=at + timedelta(seconds=2), source="tesla_fleet"),
        software_version=Reading(value=version, captured_at=at + timedelta(seconds=2), source="tesla_fleet"),
    )


def reading(kind: ObservationKind, value: str, at: datetime, unit: str | None = None) -> Observation:
    return Observation(vin="V", kind=kind, value=value, unit=unit, captured_at=at, source="s", brand="b")


class TestSamplesFromObservations:
    def test_a_snapshots_readings_make_the_sample_the_snapshot_makes(self) -> None:
        live = snapshot("LRW3E7EB1NC000001", AT)
        rows = [
            reading(ObservationKind.range, "350.0", AT, "km"),
            reading(ObservationKind.battery_level, "80.0", AT, "%"),
            reading(ObservationKind.usable_battery_level, "79.0", AT, "%"),
            reading(ObservationKind.odometer, "20000.0", AT + timedelta(seconds=2), "km"),
            reading(ObservationKind.software_version, "2026.38.4", AT + timedelta(seconds=2)),
        ]

        assert samples_from_observations(rows) == samples_from_snapshot(live)

    def test_a_range_without_a_level_beside_it_is_no_sample_and_miles_are_converted(self) -> None:
        rows = [
            reading(ObservationKind.range, "200", AT, "mi"),
            reading(ObservationKind.battery_level, "60", AT + timedelta(minutes=3), "%"),
            reading(ObservationKind.range, "300", AT - timedelta(days=1), "km"),
            reading(ObservationKind.battery_level, "70", AT - timedelta(days=1, hours=1), "%"),  # too far apart
        ]

        assert samples_from_observations(rows) == [
            BatterySample(
                captured_at=AT, battery_level_percent=Decimal(60), rated_range_km=Decimal(200) * Decimal("1.609344")
            )
        ]


PAIRED_KINDS = (ObservationKind.range, ObservationKind.battery_level, ObservationKind.odometer)


def nearest(rows: list[Observation], kind: ObservationKind, at: datetime) -> Observation | None:
    """What a sample should take: the reading of `kind` nearest to `at` within one acquisition, the first given
    of equally near ones."""
    near = [(abs(row.captured_at - at), n) for n, row in enumerate(rows) if row.kind is kind]
    near = [(distance, n) for distance, n in near if distance <= SAME_ACQUISITION]
    return rows[min(near)[1]] if near else None


class TestReadingsBesideARange:
    @given(st.lists(st.tuples(st.sampled_from(PAIRED_KINDS), st.integers(0, 90)), max_size=40))
    def test_each_range_takes_the_nearest_reading_of_each_kind_within_an_acquisition(
        self, drawn: list[tuple[ObservationKind, int]]
    ) -> None:
        # Each reading's value is its position, so a sample names the readings it took.
        rows = [
            reading(
                kind,
                str(n),
                AT + timedelta(minutes=minutes),
                "km" if kind is not ObservationKind.battery_level else "%",
            )
            for n, (kind, minutes) in enumerate(drawn)
        ]
        expected = []
        for row in rows:
            level = nearest(rows, ObservationKind.battery_level, row.captured_at)
            if row.kind is ObservationKind.range and level is not None:
                odometer = nearest(rows, ObservationKind.odometer, row.captured_at)
                expected.append(
                    (row.captured_at, Decimal(row.value), Decimal(level.value), odometer and Decimal(odometer.value))
                )

        samples = samples_from_observations(rows)

        # A range's own value (its position) is unique, so the order never compares a missing odometer.
        taken = [(s.captured_at, s.rated_range_km, s.battery_level_percent, s.odometer_km) for s in samples]
        assert sorted(taken) == sorted(expected)


class TestHistory:
    async def test_earlier_readings_of_the_car_but_the_snapshot_at_hand(self, db: AsyncSession) -> None:
        vin = "LRW3E7EB1NC000001"
        for days, version in ((0, "2026.38.4"), (1, "2026.38.4"), (2, "2026.32.1")):
            await observations.record_snapshot(
                db, snapshot(vin, AT - timedelta(days=days), version=version), brand="tesla", connection_id="c"
            )
        current = samples_from_snapshot(snapshot(vin, AT))

        history = await battery.history(db, vin, besides=current)

        assert [sample.captured_at for sample in history] == [AT - timedelta(days=2), AT - timedelta(days=1)]
        assert [sample.software_version for sample in history] == ["2026.32.1", "2026.38.4"]
        assert len(await battery.history(db, vin, besides=current, limit=1)) == 1
        assert await battery.history(db, "5YJ3E7EB1NF000001") == []


class TestCohort:
    async def test_the_cohort_is_other_cars_of_the_same_model_drive_and_model_year(self, db: AsyncSession) -> None:
        car = "XP7YGDEF4RB202050"
        same = ["XP7YGDEF1RB000001", "XP7YGDEF9RB000002"]
        other_year, other_drive = "XP7YGDEF4PB000003", "XP7YGDEE4RB000004"
        for vin in [car, *same, other_year, other_drive]:
            await observations.record_snapshot(db, snapshot(vin, AT), brand="tesla", connection_id="c")
        # The same reading seen again by another order is one sample, not two.
        await observations.record_snapshot(db, snapshot(same[0], AT), brand="tesla", connection_id="d")
        await observations.record_snapshot(
            db, snapshot(same[0], AT - timedelta(days=1)), brand="tesla", connection_id="d"
        )

        cohort = await battery.cohort(db, car)

        assert sorted(cohort) == same
        assert [sample.captured_at for sample in cohort[same[0]]] == [AT - timedelta(days=1), AT]
        assert await battery.cohort(db, "not-a-vin") == {}
