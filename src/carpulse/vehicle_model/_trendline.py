"""A model's state-of-health curves against distance and age, from readings owners let us count.

A vehicle counts for a model when its VIN decodes to that catalogue version alone (a VIN several versions
share is left out: its pack is not known). Each vehicle gives one estimate per bin, from its samples in that bin,
by the same estimator as its own report; a bin with fewer distinct vehicles than the minimum cohort is listed
as withheld, without numbers.
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.battery.estimator import METHOD_RATED_RANGE, MILES_TO_KM, BatterySample, PackBaseline, point_estimate
from carpulse.battery.samples import SAME_ACQUISITION
from carpulse.models import DataSharing, ObservationKind, VehicleModel
from carpulse.observation.repository import ObservationRepository
from carpulse.vehicle_model._health import baseline_of, baseline_out, note
from carpulse.vehicle_model.catalogue import CatalogueEntry, by_id, candidates
from carpulse.vehicle_model.schemas import ModelTrendline, TrendBin, TrendCurve
from carpulse.vin.decoder import decode
from carpulse.vin.errors import InvalidVin

COUNTED = (DataSharing.model_statistics, DataSharing.vehicle_data)
ODOMETER_BIN_KM = 20_000
AGE_BIN_YEARS = 1
PERCENTILES = (10, 25, 50, 75, 90)
AGE_DESCRIPTION = (
    "years since 1 January of the model year the VIN gives (position 10); vehicles whose VIN gives none are left "
    "out of this curve"
)
ODOMETER_DESCRIPTION = "the odometer at each sample, in bins of 20,000 km; samples without one are left out"
_KINDS = (
    ObservationKind.range,
    ObservationKind.battery_level,
    ObservationKind.usable_battery_level,
    ObservationKind.odometer,
)
# PostgreSQL and SQLite both take this many bound values in one statement with room to spare.
_VINS_PER_QUERY = 1000
_YEAR_DAYS = 365.25
_TENTH = Decimal("0.1")

Row = tuple[str, ObservationKind, str, str | None, datetime, str]


@dataclass(frozen=True)
class _Vehicle:
    vin: str
    model_year: int | None


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _km(text: str, unit: str | None) -> Decimal | None:
    value = _decimal(text)
    unit = (unit or "").lower()
    if value is None or unit not in ("km", "mi", "mile", "miles"):
        return None
    return value if unit == "km" else value * MILES_TO_KM


def _vehicles(vins: Sequence[str], model_id: str) -> list[_Vehicle]:
    """The VINs that decode to this model alone; decoding is cached by positions 1-8 and 10, all a match reads
    (the check digit was checked when the reading was taken)."""
    known: dict[str, tuple[bool, int | None]] = {}
    chosen: list[_Vehicle] = []
    for vin in vins:
        key = vin[:8] + vin[9:10]
        if key not in known:
            try:
                decoded = decode(vin)
            except InvalidVin:
                known[key] = (False, None)
                continue
            ids = [entry.model_id for entry in candidates(decoded)]
            known[key] = (ids == [model_id], decoded.model_year)
        matched, year = known[key]
        if matched:
            chosen.append(_Vehicle(vin, year))
    return chosen


class _Nearest:
    """Readings of one kind by time, to find the one nearest a moment within one acquisition."""

    def __init__(self, readings: list[tuple[datetime, str, str | None]]) -> None:
        readings.sort(key=lambda reading: reading[0])
        self.times = [reading[0] for reading in readings]
        self.readings = readings

    def at(self, moment: datetime) -> tuple[str, str | None] | None:
        index = bisect.bisect_left(self.times, moment)
        near = [i for i in (index - 1, index) if 0 <= i < len(self.times)]
        best = min(near, key=lambda i: abs(self.times[i] - moment), default=None)
        if best is None or abs(self.times[best] - moment) > SAME_ACQUISITION:
            return None
        _, value, unit = self.readings[best]
        return value, unit


def _samples(rows: list[Row]) -> list[BatterySample]:
    """A vehicle's samples: each rated-range reading with the level (and odometer) its source read beside it,
    paired as `battery.samples` pairs them, by bisection rather than a scan."""
    by_kind: dict[tuple[str, ObservationKind], list[tuple[datetime, str, str | None]]] = defaultdict(list)
    for _, kind, value, unit, captured_at, source in rows:
        by_kind[(source, kind)].append((captured_at, value, unit))
    samples: list[BatterySample] = []
    for (source, kind), ranges in by_kind.items():
        if kind is not ObservationKind.range:
            continue
        levels = _Nearest(by_kind.get((source, ObservationKind.battery_level), []))
        usable = _Nearest(by_kind.get((source, ObservationKind.usable_battery_level), []))
        odometers = _Nearest(by_kind.get((source, ObservationKind.odometer), []))
        for captured_at, value, unit in ranges:
            level = levels.at(captured_at)
            range_km = _km(value, unit)
            level_percent = _decimal(level[0]) if level is not None else None
            if range_km is None or level_percent is None:
                continue
            usable_level = usable.at(captured_at)
            odometer = odometers.at(captured_at)
            samples.append(
                BatterySample(
                    captured_at=captured_at,
                    battery_level_percent=level_percent,
                    usable_level_percent=_decimal(usable_level[0]) if usable_level is not None else None,
                    rated_range_km=range_km,
                    odometer_km=_km(*odometer) if odometer is not None else None,
                )
            )
    return samples


def _percentiles(values: list[Decimal]) -> dict[str, float]:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {f"p{p}": float(Decimal(cuts[p - 1]).quantize(_TENTH, rounding=ROUND_HALF_UP)) for p in PERCENTILES}


def _curve(
    axis: Literal["odometer_km", "age_years"],
    width: int,
    description: str,
    estimates: dict[int, list[Decimal]],
    min_cohort: int,
) -> TrendCurve:
    bins = []
    for index in sorted(estimates):
        values = estimates[index]
        low, high = index * width, (index + 1) * width
        if len(values) < min_cohort:
            bins.append(TrendBin(low=low, high=high, withheld=True))
        else:
            bins.append(TrendBin(low=low, high=high, withheld=False, vehicles=len(values), **_percentiles(values)))
    return TrendCurve(axis=axis, bin_width=width, description=description, bins=bins)


def _binned(
    samples: list[BatterySample],
    key: Callable[[BatterySample], int | None],
    baseline: PackBaseline,
    now: datetime,
    into: dict[int, list[Decimal]],
) -> None:
    """One estimate of this vehicle per bin its samples fall in."""
    groups: dict[int, list[BatterySample]] = defaultdict(list)
    for sample in samples:
        index = key(sample)
        if index is not None:
            groups[index].append(sample)
    for index, group in groups.items():
        soh = point_estimate(group, baseline, now=now)
        if soh is not None:
            into[index].append(soh)


async def trendline(
    db: AsyncSession, row: VehicleModel, *, synthetic: bool, min_cohort: int, now: datetime | None = None
) -> ModelTrendline:
    now = now or datetime.now(UTC)
    entry: CatalogueEntry | None = by_id().get(row.model_id)
    choice = baseline_of([entry] if entry is not None else [])
    by_km: dict[int, list[Decimal]] = defaultdict(list)
    by_age: dict[int, list[Decimal]] = defaultdict(list)
    baseline = choice.baseline
    if baseline is not None:
        repository = ObservationRepository(db)
        vins = await repository.shared_vins(sharing=COUNTED, synthetic=synthetic, kind=ObservationKind.range)
        vehicles = _vehicles(vins, row.model_id)
        years = {vehicle.vin: vehicle.model_year for vehicle in vehicles}
        rows_by_vin: dict[str, list[Row]] = defaultdict(list)
        for start in range(0, len(vehicles), _VINS_PER_QUERY):
            chunk = [vehicle.vin for vehicle in vehicles[start : start + _VINS_PER_QUERY]]
            for reading in await repository.shared_readings_of(
                chunk, sharing=COUNTED, synthetic=synthetic, kinds=_KINDS
            ):
                rows_by_vin[reading[0]].append(reading)
        for vin, rows in rows_by_vin.items():
            samples = _samples(rows)
            year = years[vin]

            def odometer_bin(sample: BatterySample) -> int | None:
                km = sample.odometer_km
                return int(km // ODOMETER_BIN_KM) if km is not None and km >= 0 else None

            def age_bin(sample: BatterySample, year: int | None = year) -> int | None:
                if year is None:
                    return None
                days = (sample.captured_at - datetime(year, 1, 1, tzinfo=UTC)).days
                return max(0, int(days // (_YEAR_DAYS * AGE_BIN_YEARS)))

            _binned(samples, odometer_bin, baseline, now, by_km)
            _binned(samples, age_bin, baseline, now, by_age)
    return ModelTrendline(
        model_id=row.model_id,
        make=row.make,
        model=row.model,
        version=row.version,
        synthetic=synthetic,
        min_cohort=min_cohort,
        method=note(METHOD_RATED_RANGE),
        baseline=baseline_out(baseline),
        reason=note(choice.reason) if choice.reason is not None else None,
        by_odometer=_curve("odometer_km", ODOMETER_BIN_KM, ODOMETER_DESCRIPTION, by_km, min_cohort),
        by_age=_curve("age_years", AGE_BIN_YEARS, AGE_DESCRIPTION, by_age, min_cohort),
    )
