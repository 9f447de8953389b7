"""A VIN's dynamic data: battery health with its workings, latest readings, and only readings sold per VIN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.battery.estimator import FLAG_FEW_SAMPLES, REASON_NO_SAMPLES
from carpulse.models import DataSharing, ObservationKind
from carpulse.observation.repository import ObservationRepository
from carpulse.vehicle_model._health import METHOD_DISTANCE_OVER_RANGE, REASON_RANGE_NOT_RATED
from carpulse.vehicle_model.catalogue import by_id
from carpulse.vehicle_model.errors import NoData
from carpulse.vehicle_model.service import vehicle_models

TESLA = "5YJ3E7EB1KF123456"  # Model 3 Long Range AWD, model year 2019, Fremont
TESLA_MODEL = "tesla-model-3-long-range-awd-2018"
VOLKSWAGEN = "WVWZZZE1ZMP012345"  # ID.3, 2021: three versions
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def rated_km() -> Decimal:
    baseline = by_id()[TESLA_MODEL].baseline
    assert baseline is not None
    return baseline.rated_range_km


async def acquisition(
    db: AsyncSession,
    vin: str,
    at: datetime,
    *,
    level: int,
    range_km: Decimal,
    odometer_km: int | None = None,
    sharing: DataSharing = DataSharing.vehicle_data,
    synthetic: bool = False,
    source: str = "tesla_fleet",
) -> None:
    readings: list[tuple[ObservationKind, str, str | None]] = [
        (ObservationKind.battery_level, str(level), "%"),
        (ObservationKind.range, str(range_km.quantize(Decimal("0.1"))), "km"),
    ]
    if odometer_km is not None:
        readings.append((ObservationKind.odometer, str(odometer_km), "km"))
    for kind, value, unit in readings:
        await ObservationRepository(db).add(
            {
                "vin": vin,
                "kind": kind,
                "value": value,
                "unit": unit,
                "captured_at": at,
                "source": source,
                "brand": "tesla",
                "sharing": sharing,
                "synthetic": synthetic,
            }
        )


async def healthy_history(db: AsyncSession, soh: Decimal, **options: object) -> None:
    """Six weekly readings of a pack at `soh` percent of its rated range new."""
    for week in range(6):
        level = 60 + 5 * week
        await acquisition(
            db,
            TESLA,
            NOW - timedelta(weeks=6 - week),
            level=level,
            range_km=rated_km() * soh / 100 * level / 100,
            odometer_km=40_000 + 300 * week,
            **options,  # type: ignore[arg-type]
        )


class TestStateOfHealth:
    async def test_an_estimate_with_its_workings(self, db: AsyncSession) -> None:
        await healthy_history(db, Decimal(95))
        dynamic = await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)
        health = dynamic.battery_health
        assert health.status == "estimated"
        assert health.soh_percent is not None
        assert abs(health.soh_percent - 95) < 0.3
        assert health.soh_low_percent is not None
        assert health.soh_high_percent is not None
        assert health.soh_low_percent < 95 < health.soh_high_percent
        assert (health.samples_used, health.samples_rejected) == (6, 0)
        assert health.first_sample_at == NOW - timedelta(weeks=6)
        assert health.last_sample_at == health.captured_at == NOW - timedelta(weeks=1)
        assert health.source == "tesla_fleet"
        assert health.baseline is not None
        assert health.baseline.rated_range_km == float(rated_km())
        assert health.baseline.source
        assert health.method.text
        assert (dynamic.match, dynamic.model_id) == ("exact", TESLA_MODEL)

    async def test_low_readings_are_rejected_and_counted(self, db: AsyncSession) -> None:
        await healthy_history(db, Decimal(95))
        await acquisition(db, TESLA, NOW - timedelta(days=1), level=10, range_km=rated_km() / 10)
        health = (await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)).battery_health
        assert (health.samples_used, health.samples_rejected) == (6, 1)
        assert [(item.reason.code, item.count) for item in health.rejections] == [("battery.rejection.low_level", 1)]

    async def test_a_single_reading_is_flagged(self, db: AsyncSession) -> None:
        await acquisition(db, TESLA, NOW - timedelta(days=1), level=80, range_km=rated_km() * Decimal("0.8"))
        health = (await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)).battery_health
        assert health.status == "estimated"
        assert FLAG_FEW_SAMPLES in [flag.code for flag in health.flags]

    async def test_no_range_readings_say_so(self, db: AsyncSession) -> None:
        await ObservationRepository(db).add(
            {
                "vin": TESLA,
                "kind": ObservationKind.odometer,
                "value": "1000",
                "unit": "km",
                "captured_at": NOW,
                "source": "tesla_fleet",
                "brand": "tesla",
                "sharing": DataSharing.vehicle_data,
            }
        )
        dynamic = await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)
        assert dynamic.battery_health.status == "insufficient_data"
        assert dynamic.battery_health.soh_percent is None
        assert dynamic.battery_health.reason is not None
        assert dynamic.battery_health.reason.code == REASON_NO_SAMPLES

    async def test_a_model_without_a_rated_range_gets_no_number_and_the_reason(self, db: AsyncSession) -> None:
        await acquisition(db, VOLKSWAGEN, NOW - timedelta(days=1), level=80, range_km=Decimal(300), odometer_km=9000)
        dynamic = await vehicle_models.dynamic_for_vin(db, VOLKSWAGEN, synthetic=False, now=NOW)
        health = dynamic.battery_health
        assert health.status == "no_baseline"
        assert health.soh_percent is None
        assert health.baseline is None
        assert health.reason is not None
        assert health.reason.code == REASON_RANGE_NOT_RATED
        assert "WLTP" in health.reason.text
        assert dynamic.match == "ambiguous"
        assert dynamic.charging_cycles is None  # 350, 426 or 549 km a charge: the VIN does not say


class TestReadings:
    async def test_latest_readings_with_time_and_source(self, db: AsyncSession) -> None:
        await healthy_history(db, Decimal(95))
        await ObservationRepository(db).add(
            {
                "vin": TESLA,
                "kind": ObservationKind.software_version,
                "value": "2024.44.25",
                "unit": None,
                "captured_at": NOW - timedelta(days=3),
                "source": "tesla_fleet",
                "brand": "tesla",
                "sharing": DataSharing.vehicle_data,
            }
        )
        await ObservationRepository(db).add(
            {
                "vin": TESLA,
                "kind": ObservationKind.odometer,
                "value": "30000",
                "unit": "mi",
                "captured_at": NOW - timedelta(days=2),
                "source": "tesla_fleet",
                "brand": "tesla",
                "sharing": DataSharing.vehicle_data,
            }
        )
        dynamic = await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)
        assert dynamic.odometer is not None
        assert (dynamic.odometer.value, dynamic.odometer.unit) == (48280.3, "km")
        assert dynamic.odometer.captured_at == NOW - timedelta(days=2)
        assert dynamic.last_seen.captured_at == NOW - timedelta(days=2)
        assert dynamic.last_seen.source == "tesla_fleet"
        assert dynamic.software_version is not None
        assert dynamic.software_version.value == "2024.44.25"
        assert dynamic.battery_level is not None
        assert (dynamic.battery_level.value, dynamic.battery_level.unit) == (85.0, "%")
        assert dynamic.range is not None
        assert dynamic.range.captured_at == NOW - timedelta(weeks=1)
        cycles = dynamic.charging_cycles
        assert cycles is not None
        assert cycles.value == round(48280.32 / float(rated_km()), 1)
        assert cycles.method.code == METHOD_DISTANCE_OVER_RANGE
        assert cycles.captured_at == NOW - timedelta(days=2)
        assert cycles.range_km == float(rated_km())

    async def test_nothing_held_is_no_data(self, db: AsyncSession) -> None:
        with pytest.raises(NoData):
            await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)


class TestConsent:
    @pytest.mark.parametrize("sharing", [DataSharing.private, DataSharing.model_statistics])
    async def test_readings_not_sold_per_vin_are_never_used(self, db: AsyncSession, sharing: DataSharing) -> None:
        await healthy_history(db, Decimal(80), sharing=sharing)
        with pytest.raises(NoData):
            await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)
        await acquisition(db, TESLA, NOW - timedelta(days=1), level=90, range_km=rated_km() * Decimal("0.9"))
        dynamic = await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)
        assert dynamic.battery_health.samples_used == 1
        assert dynamic.battery_health.soh_percent == 100.0
        assert dynamic.odometer is None  # only the withheld readings had one


class TestOrigin:
    async def test_simulated_readings_are_not_used_for_real_ones(self, db: AsyncSession) -> None:
        await healthy_history(db, Decimal(90), synthetic=True, source="simulator")
        with pytest.raises(NoData):
            await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)
        simulated = await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=True, now=NOW)
        assert simulated.synthetic
        assert simulated.battery_health.source == "simulator"

    async def test_real_readings_are_not_used_for_simulated_ones(self, db: AsyncSession) -> None:
        await healthy_history(db, Decimal(90))
        with pytest.raises(NoData):
            await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=True, now=NOW)
        real = await vehicle_models.dynamic_for_vin(db, TESLA, synthetic=False, now=NOW)
        assert real.battery_health.samples_used == 6
