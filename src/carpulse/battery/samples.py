"""Battery samples: the estimator's input, from a brand-neutral snapshot or from stored observations."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from carpulse.battery.estimator import MILES_TO_KM, BatterySample
from carpulse.models import Observation, ObservationKind
from carpulse.provider.base import Reading, VehicleSnapshot

# The readings a sample is made of: the rated range and the level it belongs to, and what the car said beside.
SAMPLE_KINDS = (
    ObservationKind.range,
    ObservationKind.battery_level,
    ObservationKind.usable_battery_level,
    ObservationKind.odometer,
    ObservationKind.software_version,
)
# Readings of one acquisition carry their own times (a brand may stamp its parts apart, a few milliseconds to
# seconds): a range reading's sample takes each other kind's reading nearest to it within this.
SAME_ACQUISITION = timedelta(minutes=10)


def samples_from_snapshot(snapshot: VehicleSnapshot) -> list[BatterySample]:
    """The live reading of a snapshot as one sample; none when the level or the rated range is missing."""
    level, rated = snapshot.battery_level, snapshot.range
    if level is None or rated is None:
        return []
    range_km = _kilometres(rated)
    level_percent = _decimal(level.value)
    if range_km is None or level_percent is None:
        return []
    usable = snapshot.usable_battery_level
    odometer = snapshot.odometer
    version = snapshot.software_version
    return [
        BatterySample(
            captured_at=rated.captured_at or level.captured_at or snapshot.captured_at,
            battery_level_percent=level_percent,
            rated_range_km=range_km,
            usable_level_percent=_decimal(usable.value) if usable is not None else None,
            odometer_km=_kilometres(odometer) if odometer is not None else None,
            software_version=version.value if version is not None and version.value else None,
        )
    ]


def samples_from_observations(observations: Iterable[Observation]) -> list[BatterySample]:
    """One sample per rated-range reading with a battery level of the same source beside it, oldest first."""
    by_kind: dict[tuple[str, ObservationKind], list[Observation]] = {}
    for observation in observations:
        by_kind.setdefault((observation.source, observation.kind), []).append(observation)
    # Each kind's readings by time (then by their order given), so a range reading finds its neighbours by
    # bisection: scanning every reading for each range reading cost a year of weekly history an eighth of a
    # Data API call's CPU.
    timed: dict[tuple[str, ObservationKind], tuple[list[datetime], list[tuple[int, Observation]]]] = {}
    for group, readings in by_kind.items():
        ordered = sorted(enumerate(readings), key=lambda entry: (entry[1].captured_at, entry[0]))
        timed[group] = ([o.captured_at for _, o in ordered], ordered)

    def beside(source: str, kind: ObservationKind, at: datetime) -> Observation | None:
        """The reading of `kind` nearest to `at` within one acquisition; of equally near ones, the first given."""
        found = timed.get((source, kind))
        if found is None:
            return None
        times, ordered = found
        index = bisect_left(times, at)
        low = bisect_left(times, times[index - 1]) if index > 0 else index
        high = bisect_right(times, times[index]) if index < len(times) else index
        near = [
            (abs(o.captured_at - at), position, o)
            for position, o in ordered[low:high]
            if abs(o.captured_at - at) <= SAME_ACQUISITION
        ]
        return min(near, key=lambda entry: (entry[0], entry[1]))[2] if near else None

    samples: list[BatterySample] = []
    for (source, kind), readings in by_kind.items():
        if kind is not ObservationKind.range:
            continue
        for rated in readings:
            at = rated.captured_at
            level = beside(source, ObservationKind.battery_level, at)
            range_km = _kilometres_of(rated.value, rated.unit)
            level_percent = _decimal(level.value) if level is not None else None
            if range_km is None or level_percent is None:
                continue
            usable = beside(source, ObservationKind.usable_battery_level, at)
            odometer = beside(source, ObservationKind.odometer, at)
            version = beside(source, ObservationKind.software_version, at)
            samples.append(
                BatterySample(
                    captured_at=at,
                    battery_level_percent=level_percent,
                    rated_range_km=range_km,
                    usable_level_percent=_decimal(usable.value) if usable is not None else None,
                    odometer_km=_kilometres_of(odometer.value, odometer.unit) if odometer is not None else None,
                    software_version=version.value if version is not None else None,
                )
            )
    return sorted(samples, key=lambda sample: sample.captured_at)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _kilometres(reading: Reading[float]) -> Decimal | None:
    return _kilometres_of(reading.value, reading.unit)


def _kilometres_of(given: object, given_unit: str | None) -> Decimal | None:
    value = _decimal(given)
    unit = (given_unit or "").lower()
    if value is None:
        return None
    if unit == "km":
        return value
    if unit in ("mi", "mile", "miles"):
        return value * MILES_TO_KM
    return None
