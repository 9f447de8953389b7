"""A vehicle's dynamic data for the Data API, read only from what its owner agreed to sell per VIN."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.battery.estimator import MILES_TO_KM, estimate
from carpulse.battery.samples import SAME_ACQUISITION, SAMPLE_KINDS, samples_from_observations
from carpulse.models import DataSharing, Observation, ObservationKind, VehicleModel
from carpulse.observation.repository import ObservationRepository
from carpulse.vehicle_model._health import (
    METHOD_DISTANCE_OVER_RANGE,
    BaselineChoice,
    baseline_of,
    health_out,
    note,
)
from carpulse.vehicle_model.catalogue import WLTP, CatalogueEntry, by_id
from carpulse.vehicle_model.errors import NoData
from carpulse.vehicle_model.schemas import ChargingCycles, DynamicVehicle, LastSeen, Reading

SOLD_PER_VIN = (DataSharing.vehicle_data,)
# The latest rated-range readings an estimate reads, as the reports' history does.
HISTORY_SAMPLES = 50
_DISTANCE_KINDS = frozenset({ObservationKind.odometer, ObservationKind.range})
_PERCENT_KINDS = frozenset({ObservationKind.battery_level, ObservationKind.usable_battery_level})


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def kilometres(observation: Observation) -> Decimal | None:
    """A distance reading in km; None when it is no number or in a unit we do not convert."""
    value = _decimal(observation.value)
    unit = (observation.unit or "").lower()
    if value is None:
        return None
    if unit == "km":
        return value
    return value * MILES_TO_KM if unit in ("mi", "mile", "miles") else None


def _reading(observation: Observation | None) -> Reading | None:
    if observation is None:
        return None
    if observation.kind in _DISTANCE_KINDS:
        km = kilometres(observation)
        if km is None:
            return None
        value: float | str = float(round(km, 1))
        unit: str | None = "km"
    elif observation.kind in _PERCENT_KINDS:
        number = _decimal(observation.value)
        if number is None:
            return None
        value, unit = float(number), "%"
    else:
        value, unit = observation.value, observation.unit
    return Reading(value=value, unit=unit, captured_at=observation.captured_at, source=observation.source)


def _cycles(
    odometer: Observation | None, choice: BaselineChoice, entries: Sequence[CatalogueEntry]
) -> ChargingCycles | None:
    km = kilometres(odometer) if odometer is not None else None
    if odometer is None or km is None:
        return None
    if choice.baseline is not None:
        range_km, range_source = choice.baseline.rated_range_km, f"rated range new: {choice.baseline.source}"
    else:
        ranges = {entry.rated_range_km for entry in entries}
        figure = entries[0].sources.get("rated_range_km") if entries else None
        if len(ranges) != 1 or None in ranges or figure is None:
            return None
        range_km = next(iter(ranges)) or Decimal(0)
        rating = "WLTP range" if entries[0].range_rating == WLTP else entries[0].range_rating
        range_source = f"{rating}: {figure.source}"
    if range_km <= 0:
        return None
    return ChargingCycles(
        value=float(round(km / range_km, 1)),
        method=note(METHOD_DISTANCE_OVER_RANGE),
        range_km=float(range_km),
        range_source=range_source,
        captured_at=odometer.captured_at,
        source=odometer.source,
    )


async def dynamic_for_vin(
    db: AsyncSession, vin: str, rows: Sequence[VehicleModel], *, synthetic: bool, now: datetime
) -> DynamicVehicle:
    """`rows`: the catalogue versions the VIN may be. `NoData` when nothing sold per VIN is held."""
    repository = ObservationRepository(db)
    latest = {
        observation.kind: observation
        for observation in await repository.latest_shared_per_kind(vin, sharing=SOLD_PER_VIN, synthetic=synthetic)
    }
    if not latest:
        raise NoData("we hold no readings of this vehicle that its owner agreed to share", vin=vin)
    ranges = await repository.shared_for_vehicle(
        vin, sharing=SOLD_PER_VIN, synthetic=synthetic, kinds=(ObservationKind.range,), limit=HISTORY_SAMPLES
    )
    readings: list[Observation] = []
    if ranges:
        since = min(reading.captured_at for reading in ranges) - SAME_ACQUISITION
        readings = await repository.shared_for_vehicle(
            vin, sharing=SOLD_PER_VIN, synthetic=synthetic, kinds=SAMPLE_KINDS, since=since
        )
    chosen = {reading.captured_at: reading.source for reading in ranges}
    samples = [sample for sample in samples_from_observations(readings) if sample.captured_at in chosen]
    catalogue = by_id()
    entries = [catalogue[row.model_id] for row in rows if row.model_id in catalogue]
    choice = baseline_of(entries)
    health = estimate(samples, choice.baseline, now=now)
    used_sources = [chosen[sample.captured_at] for sample in health.samples_used]
    newest = max(latest.values(), key=lambda observation: observation.captured_at)
    odometer = latest.get(ObservationKind.odometer)
    return DynamicVehicle(
        vin=vin,
        synthetic=synthetic,
        match="exact" if len(rows) == 1 else "ambiguous" if rows else "none",
        model_id=rows[0].model_id if len(rows) == 1 else None,
        last_seen=LastSeen(captured_at=newest.captured_at, source=newest.source),
        odometer=_reading(odometer),
        battery_level=_reading(latest.get(ObservationKind.battery_level)),
        range=_reading(latest.get(ObservationKind.range)),
        software_version=_reading(latest.get(ObservationKind.software_version)),
        charging_cycles=_cycles(odometer, choice, entries),
        battery_health=health_out(health, reason=choice.reason, sources=used_sources),
    )
