"""A vehicle's battery samples as kept in observations: its own history, and the cars it is compared with."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.battery.estimator import BatterySample
from carpulse.battery.samples import SAME_ACQUISITION, SAMPLE_KINDS, samples_from_observations
from carpulse.models import Observation, ObservationKind
from carpulse.observation.repository import ObservationRepository
from carpulse.observation.service import observations

# The latest readings an estimate reads: of one car, and of its cohort (every kind of a sample counts).
HISTORY_SAMPLES = 50
COHORT_READINGS = 5000 * len(SAMPLE_KINDS)


class BatteryService:
    async def history(
        self, db: AsyncSession, vin: str, *, besides: Sequence[BatterySample] = (), limit: int = HISTORY_SAMPLES
    ) -> list[BatterySample]:
        """The vehicle's samples read by any account and provider, but those at the times of `besides` (the
        snapshot at hand, whose own samples the caller has): the estimate's history, the latest `limit`."""
        taken = {sample.captured_at for sample in besides}
        ranges = await observations.of_vehicle(db, vin, kinds=(ObservationKind.range,), limit=limit + len(taken))
        kept = [reading for reading in ranges if reading.captured_at not in taken][:limit]
        if not kept:
            return []
        since = min(reading.captured_at for reading in kept)
        readings = await observations.of_vehicle(db, vin, kinds=SAMPLE_KINDS, since=since - SAME_ACQUISITION)
        chosen = {reading.captured_at for reading in kept}
        return [sample for sample in samples_from_observations(readings) if sample.captured_at in chosen]

    async def cohort(self, db: AsyncSession, vin: str) -> dict[str, list[BatterySample]]:
        """Samples of other vehicles sharing this VIN's model, body, battery and drive codes (positions 1–8) and
        model year (position 10), by VIN: the cars a battery is compared with. Empty for a malformed VIN."""
        if len(vin) != 17 or not vin.isalnum():
            return {}
        readings = await ObservationRepository(db).for_vins_like(
            f"{vin[:8]}_{vin[9]}%", besides=vin, kinds=SAMPLE_KINDS, limit=COHORT_READINGS
        )
        by_vin: dict[str, list[Observation]] = {}
        for reading in readings:
            by_vin.setdefault(reading.vin, []).append(reading)
        cohort = {other: samples_from_observations(theirs) for other, theirs in by_vin.items()}
        return {other: samples for other, samples in cohort.items() if samples}


battery = BatteryService()
