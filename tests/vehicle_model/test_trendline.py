"""A model's state-of-health curves: percentiles per bin of distinct vehicles, small cohorts withheld."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import DataSharing
from carpulse.vehicle_model._health import REASON_RANGE_NOT_RATED
from carpulse.vehicle_model.errors import ModelNotFound
from carpulse.vehicle_model.service import vehicle_models
from carpulse.vin.decoder import check_digit
from tests.vehicle_model.test_dynamic import TESLA_MODEL, acquisition, rated_km

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def model_3_vin(serial: int) -> str:
    """A Fremont Model 3 Long Range AWD of model year 2019 (position 10 'K'), with its check digit."""
    body = f"5YJ3E7EB0KF{serial:06d}"
    return body[:8] + check_digit(body) + body[9:]


async def vehicle(
    db: AsyncSession,
    serial: int,
    soh: Decimal,
    *,
    odometer_km: int,
    sharing: DataSharing = DataSharing.model_statistics,
    synthetic: bool = False,
    readings: int = 3,
) -> None:
    for day in range(readings):
        await acquisition(
            db,
            model_3_vin(serial),
            NOW - timedelta(days=10 - day),
            level=80,
            range_km=rated_km() * soh / 100 * Decimal("0.8"),
            odometer_km=odometer_km + 10 * day,
            sharing=sharing,
            synthetic=synthetic,
        )


class TestPercentiles:
    async def test_one_estimate_per_vehicle_and_small_bins_withheld(self, db: AsyncSession) -> None:
        for serial, soh in enumerate((90, 91, 92, 93, 94)):
            await vehicle(db, serial, Decimal(soh), odometer_km=45_000, readings=4)
        await vehicle(db, 10, Decimal(88), odometer_km=65_000)  # alone in its bin
        trend = await vehicle_models.trendline(db, TESLA_MODEL, synthetic=False, min_cohort=5, now=NOW)
        assert trend.baseline is not None
        assert trend.reason is None
        published, alone = trend.by_odometer.bins
        assert (published.low, published.high, published.withheld, published.vehicles) == (40_000, 60_000, False, 5)
        assert (published.p10, published.p50, published.p90) == (90.4, 92.0, 93.6)
        assert published.p25 == 91.0
        assert published.p75 == 93.0
        assert (alone.low, alone.withheld, alone.vehicles, alone.p50) == (60_000, True, None, None)
        # Model year 2019, read in 2025: six years old.
        [age] = trend.by_age.bins
        assert (age.low, age.high, age.vehicles, age.p50) == (6, 7, 6, 91.5)

    async def test_private_readings_and_the_other_origin_are_not_counted(self, db: AsyncSession) -> None:
        for serial in range(3):
            await vehicle(db, serial, Decimal(90), odometer_km=5_000)
        await vehicle(db, 3, Decimal(90), odometer_km=5_000, sharing=DataSharing.vehicle_data)
        await vehicle(db, 4, Decimal(90), odometer_km=5_000, sharing=DataSharing.private)
        await vehicle(db, 5, Decimal(90), odometer_km=5_000, synthetic=True)
        trend = await vehicle_models.trendline(db, TESLA_MODEL, synthetic=False, min_cohort=2, now=NOW)
        assert [(b.low, b.vehicles) for b in trend.by_odometer.bins] == [(0, 4)]
        simulated = await vehicle_models.trendline(db, TESLA_MODEL, synthetic=True, min_cohort=1, now=NOW)
        assert [(b.low, b.vehicles, b.p50) for b in simulated.by_odometer.bins] == [(0, 1, 90.0)]


class TestWithoutCurves:
    async def test_a_model_without_a_rated_range_says_why(self, db: AsyncSession) -> None:
        trend = await vehicle_models.trendline(
            db, "volkswagen-id-3-pro-s-77-kwh", synthetic=False, min_cohort=5, now=NOW
        )
        assert trend.baseline is None
        assert trend.reason is not None
        assert trend.reason.code == REASON_RANGE_NOT_RATED
        assert trend.by_odometer.bins == []
        assert trend.by_age.bins == []

    async def test_unknown_model(self, db: AsyncSession) -> None:
        with pytest.raises(ModelNotFound):
            await vehicle_models.trendline(db, "no-such-model", synthetic=False, min_cohort=5)
