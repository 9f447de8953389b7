"""Battery state of health from rated range: an estimate with an honest uncertainty band, or no number.

Pure domain logic on `BatterySample`s (see `battery.samples`), whichever brand read them: no I/O and no clock
reads (`now` is passed in), so the same samples always give the same answer. The baselines a pack is compared
with are in `battery.catalogue`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

from carpulse.kit.i18n import Text, message_ids, say

Chemistry = Literal["NCA", "NCM", "LFP"]
Status = Literal["estimated", "insufficient_data", "no_baseline"]

METHOD_RATED_RANGE = "battery.method.rated_range_extrapolation"

FLAG_LFP = "battery.flag.lfp_calibration"
FLAG_FIRMWARE_CHANGED = "battery.flag.firmware_changed"
FLAG_FEW_SAMPLES = "battery.flag.few_samples"
FLAG_LOW_STATE_OF_CHARGE = "battery.flag.low_state_of_charge"
FLAG_STALE_SAMPLES = "battery.flag.stale_samples"
FLAG_ABOVE_NOMINAL = "battery.flag.above_nominal"

REASON_NO_BASELINE = "battery.reason.no_baseline"
REASON_NO_SAMPLES = "battery.reason.no_samples"
REASON_ALL_REJECTED = "battery.reason.all_samples_rejected"

REJECTED_LOW_LEVEL = "battery.rejection.low_level"
REJECTED_INVALID = "battery.rejection.invalid_reading"
REJECTED_FUTURE = "battery.rejection.captured_after_now"

STATUS_KEYS: dict[Status, str] = {
    "estimated": "battery.status.estimated",
    "insufficient_data": "battery.status.insufficient_data",
    "no_baseline": "battery.status.no_baseline",
}
CHEMISTRY_KEYS: dict[Chemistry, str] = {
    "NCA": "battery.chemistry.nca",
    "NCM": "battery.chemistry.ncm",
    "LFP": "battery.chemistry.lfp",
}
LABEL_KEYS: tuple[str, ...] = (
    "battery.label.battery_health",
    "battery.label.state_of_health",
    "battery.label.usable_capacity",
    "battery.label.uncertainty",
    "battery.label.range_band",
    "battery.label.baseline",
    "battery.label.chemistry",
    "battery.label.method",
    "battery.label.samples",
    "battery.label.rejected",
    "battery.label.source",
)
# The estimator's own message ids; the catalogue's are `battery.catalogue.BASELINE_KEYS`.
MESSAGE_KEYS: frozenset[str] = frozenset(
    {
        METHOD_RATED_RANGE,
        FLAG_LFP,
        FLAG_FIRMWARE_CHANGED,
        FLAG_FEW_SAMPLES,
        FLAG_LOW_STATE_OF_CHARGE,
        FLAG_STALE_SAMPLES,
        FLAG_ABOVE_NOMINAL,
        REASON_NO_BASELINE,
        REASON_NO_SAMPLES,
        REASON_ALL_REJECTED,
        REJECTED_LOW_LEVEL,
        REJECTED_INVALID,
        REJECTED_FUTURE,
        *STATUS_KEYS.values(),
        *CHEMISTRY_KEYS.values(),
        *LABEL_KEYS,
        "battery.comparison.published_source",
    }
)

# Below 20 % a one-point rounding of the level is already a 2.5 % error, and the BMS's own estimate of the
# energy left is least certain near empty; such readings are set aside, never extrapolated.
MIN_LEVEL_PERCENT = Decimal(20)
LOW_LEVEL_PERCENT = Decimal(50)
FEW_SAMPLES = 3
STALE_AFTER = timedelta(days=30)
ABOVE_NOMINAL_PERCENT = Decimal(103)

# Model error of range-based estimates, as a relative half-width: the rated range is the BMS's estimate of usable
# energy times a rated-consumption constant, so it inherits the BMS's drift between calibrations (1–2 %), a maker's
# rounding and voluntary lowering of EPA figures, and how far a new car's 100 % range sits from the label (Edmunds
# saw 296 mi on a new 2024 Model 3 Performance rated 303 mi, -2.3 %). 3 % covers these; it is a floor, not a fit.
MODEL_ERROR = Decimal("0.03")
# LFP's voltage curve is flat between about 20 % and 90 %, so the BMS cannot tell the level from voltage and drifts
# until a charge to 100 % recalibrates it (makers ask LFP owners to charge to 100 % at least weekly).
LFP_MODEL_ERROR = Decimal("0.05")
# Scatter of implied full range between readings of one healthy pack (temperature, BMS drift), as a relative
# standard deviation; a prior with a few degrees of freedom, so one reading is not taken as perfectly precise
# and many consistent readings still earn a narrower band.
PRIOR_SCATTER = Decimal("0.015")
PRIOR_DEGREES_OF_FREEDOM = 4
# The median of normally distributed readings has a standard error sqrt(pi/2) times that of the mean.
MEDIAN_EFFICIENCY = Decimal("1.2533")
COVERAGE = Decimal(2)  # two standard errors: about 95 % of a normal distribution
# Makers rarely publish usable capacity; the catalogue's nominal kWh are owner-reported BMS figures.
USABLE_KWH_ERROR = Decimal("0.03")

MILES_TO_KM = Decimal("1.609344")
_TENTH = Decimal("0.1")
_HUNDRED = Decimal(100)


@dataclass(frozen=True, kw_only=True)
class BatterySample:
    """One reading of the charge level and the rated range it implies; times are timezone-aware UTC."""

    captured_at: datetime
    battery_level_percent: Decimal
    usable_level_percent: Decimal | None = None
    rated_range_km: Decimal
    odometer_km: Decimal | None = None
    software_version: str | None = None

    @property
    def level_percent(self) -> Decimal:
        """The level the rated range belongs to: the usable level where the car reports one."""
        # Rated range is computed from usable energy: when the pack is cold Tesla locks part of it away, the usable
        # level drops below battery_level and battery_range follows the usable level (teslamate-org/teslamate#321).
        return self.usable_level_percent if self.usable_level_percent is not None else self.battery_level_percent


@dataclass(frozen=True)
class RejectedSample:
    sample: BatterySample
    reason: str


@dataclass(frozen=True)
class PackBaseline:
    """A battery configuration as sold new: what rated range a full pack showed and where that figure comes from."""

    key: str
    model: str
    # What the reader is told, in their language: the configuration, and where its figures come from.
    label: Text
    chemistry: Chemistry
    usable_kwh: Decimal
    rated_range_km: Decimal
    model_years: tuple[int, int | None]
    citation: tuple[Text, ...]
    trims: tuple[str, ...]
    wheel_inches: int | None = None  # None: one rating for every wheel offered
    car_types: tuple[str, ...] = ()  # the maker's variant codes (`VehicleIdentity.variant`); empty: any
    factories: tuple[str, ...] = ()  # VIN world manufacturer identifiers; empty: any
    # How far the rating itself may be off for this car, in percent: the half-width of the interval the true
    # rating lies in, with `rated_range_km` its middle.
    rating_error_percent: Decimal = Decimal(0)
    name: str | None = None  # the configuration's English name, without the model (`Long Range AWD`)

    @property
    def description(self) -> str:
        return say(self.label, "en")

    @property
    def source(self) -> str:
        return sources(self.citation, "en")

    def covers(self, year: int) -> bool:
        first, last = self.model_years
        return first <= year and (last is None or year <= last)

    @property
    def rated_range_interval_km(self) -> tuple[Decimal, Decimal]:
        error = self.rating_error_percent / _HUNDRED
        return self.rated_range_km * (1 - error), self.rated_range_km * (1 + error)


@dataclass(frozen=True)
class BatteryHealth:
    """The outcome: a state of health with its band, or a status and a reason saying why there is no number."""

    status: Status
    method: str
    baseline: PackBaseline | None
    samples_used: tuple[BatterySample, ...]
    samples_rejected: tuple[RejectedSample, ...]
    flags: tuple[str, ...] = ()
    reason: str | None = None
    soh_percent: Decimal | None = None
    soh_low_percent: Decimal | None = None
    soh_high_percent: Decimal | None = None
    usable_capacity_kwh: Decimal | None = None
    usable_capacity_low_kwh: Decimal | None = None
    usable_capacity_high_kwh: Decimal | None = None
    implied_full_range_km: Decimal | None = None

    @property
    def status_key(self) -> str:
        return STATUS_KEYS[self.status]

    def message_keys(self) -> frozenset[str]:
        """Every catalogue key this result refers to."""
        keys = {self.status_key, self.method, *self.flags, *(rejected.reason for rejected in self.samples_rejected)}
        if self.reason is not None:
            keys.add(self.reason)
        if self.baseline is not None:
            keys.add(CHEMISTRY_KEYS[self.baseline.chemistry])
            keys |= message_ids(self.baseline.label).union(*(message_ids(part) for part in self.baseline.citation))
        return frozenset(keys)


def sources(citation: Sequence[Text], locale: str) -> str:
    """A baseline's sources as one line in `locale`."""
    return "; ".join(say(part, locale) for part in citation)


def estimate(samples: Sequence[BatterySample], baseline: PackBaseline | None, *, now: datetime) -> BatteryHealth:
    """Median implied full rated range over the baseline's, with a band from rounding, scatter and model error."""
    used, rejected = _screen(samples, now)
    if baseline is None:
        return BatteryHealth("no_baseline", METHOD_RATED_RANGE, None, used, rejected, reason=REASON_NO_BASELINE)
    if not used:
        reason = REASON_ALL_REJECTED if rejected else REASON_NO_SAMPLES
        return BatteryHealth("insufficient_data", METHOD_RATED_RANGE, baseline, used, rejected, reason=reason)

    implied = [sample.rated_range_km * _HUNDRED / sample.level_percent for sample in used]
    median = statistics.median(implied)
    soh = median / baseline.rated_range_km * _HUNDRED
    band = _relative_band(used, implied, median, baseline)
    capacity = baseline.usable_kwh * soh / _HUNDRED
    capacity_band = (band * band + USABLE_KWH_ERROR * USABLE_KWH_ERROR).sqrt()
    soh_rounded = _round(soh, ROUND_HALF_UP)
    capacity_rounded = _round(capacity, ROUND_HALF_UP)
    return BatteryHealth(
        "estimated",
        METHOD_RATED_RANGE,
        baseline,
        used,
        rejected,
        flags=_flags(used, baseline, soh, now),
        soh_percent=soh_rounded,
        soh_low_percent=min(soh_rounded, _round(soh * (1 - band), ROUND_FLOOR)),
        soh_high_percent=max(soh_rounded, _round(soh * (1 + band), ROUND_CEILING)),
        usable_capacity_kwh=capacity_rounded,
        usable_capacity_low_kwh=min(capacity_rounded, _round(capacity * (1 - capacity_band), ROUND_FLOOR)),
        usable_capacity_high_kwh=max(capacity_rounded, _round(capacity * (1 + capacity_band), ROUND_CEILING)),
        implied_full_range_km=_round(median, ROUND_HALF_UP),
    )


def point_estimate(samples: Iterable[BatterySample], baseline: PackBaseline, *, now: datetime) -> Decimal | None:
    """The state of health `estimate` gives these samples, without its band, flags or workings (None where it gives
    no number): for curves over many vehicles."""
    implied = [
        sample.rated_range_km * _HUNDRED / sample.level_percent for sample in samples if _rejection(sample, now) is None
    ]
    if not implied:
        return None
    return _round(statistics.median(implied) / baseline.rated_range_km * _HUNDRED, ROUND_HALF_UP)


def _screen(
    samples: Iterable[BatterySample], now: datetime
) -> tuple[tuple[BatterySample, ...], tuple[RejectedSample, ...]]:
    used: list[BatterySample] = []
    rejected: list[RejectedSample] = []
    for sample in sorted(samples, key=_order):
        reason = _rejection(sample, now)
        if reason is None:
            used.append(sample)
        else:
            rejected.append(RejectedSample(sample, reason))
    return tuple(used), tuple(rejected)


def _order(sample: BatterySample) -> tuple[bool, datetime, Decimal, Decimal]:
    # Naive times (rejected below) sort apart, so they are never compared with aware ones.
    return sample.captured_at.tzinfo is not None, sample.captured_at, sample.level_percent, sample.rated_range_km


def _rejection(sample: BatterySample, now: datetime) -> str | None:
    level = sample.level_percent
    if sample.captured_at.tzinfo is None or not level.is_finite() or not sample.rated_range_km.is_finite():
        return REJECTED_INVALID
    if level <= 0 or level > _HUNDRED or sample.rated_range_km <= 0:
        return REJECTED_INVALID
    if sample.captured_at > now:
        return REJECTED_FUTURE
    if level < MIN_LEVEL_PERCENT:
        return REJECTED_LOW_LEVEL
    return None


def _relative_band(
    used: Sequence[BatterySample], implied: Sequence[Decimal], median: Decimal, baseline: PackBaseline
) -> Decimal:
    """Relative half-width of the band (about 95 %), the independent error sources added in quadrature."""
    # An integer level L can be off by half a point: a relative error of 0.5/L on the extrapolation. It is not
    # divided by the number of readings, since a car parked at one level repeats the same rounding.
    rounding = statistics.median([Decimal("0.5") / sample.level_percent for sample in used])
    count = len(implied)
    observed = statistics.variance([value / median for value in implied]) if count > 1 else Decimal(0)
    degrees = count - 1
    pooled = (degrees * observed + PRIOR_DEGREES_OF_FREEDOM * PRIOR_SCATTER**2) / (degrees + PRIOR_DEGREES_OF_FREEDOM)
    scatter = COVERAGE * MEDIAN_EFFICIENCY * pooled.sqrt() / Decimal(count).sqrt()
    model = LFP_MODEL_ERROR if baseline.chemistry == "LFP" else MODEL_ERROR
    rating = baseline.rating_error_percent / _HUNDRED
    return (rounding**2 + scatter**2 + model**2 + rating**2).sqrt()


def _flags(used: Sequence[BatterySample], baseline: PackBaseline, soh: Decimal, now: datetime) -> tuple[str, ...]:
    flags: list[str] = []
    if baseline.chemistry == "LFP":
        flags.append(FLAG_LFP)
    if len({sample.software_version for sample in used if sample.software_version}) > 1:
        flags.append(FLAG_FIRMWARE_CHANGED)
    if len(used) < FEW_SAMPLES:
        flags.append(FLAG_FEW_SAMPLES)
    if max(sample.level_percent for sample in used) < LOW_LEVEL_PERCENT:
        flags.append(FLAG_LOW_STATE_OF_CHARGE)
    if now - max(sample.captured_at for sample in used) > STALE_AFTER:
        flags.append(FLAG_STALE_SAMPLES)
    if soh > ABOVE_NOMINAL_PERCENT:
        flags.append(FLAG_ABOVE_NOMINAL)
    return tuple(flags)


def _round(value: Decimal, rounding: str) -> Decimal:
    return value.quantize(_TENTH, rounding=rounding)


# --- Compared with other cars -------------------------------------------------------------------------------------
#
# Our own cohort (cars of the same model, drive and model year we have read) is the better yardstick once it is
# large enough; until then published fleet figures by distance stand in, and the report names them.

COHORT_MINIMUM = 20
# Individual packs scatter around a fleet curve by a few points (cell lot, climate, charging habits), so a car is
# called better or worse than typical only when its whole band clears the typical value by this much.
TYPICAL_SPREAD = Decimal(2)
# Steinbuch's Dutch-Belgian forum fleet: about 5 % lost over the first ~80,000 km, then about 1 % per 50,000 km
# (about 91 % at 270,000 km); Tesla's Impact Report 2022 (S/X about 88 % after 322,000 km) agrees with its tail.
EARLY_LOSS_PERCENT, EARLY_KM = Decimal(5), Decimal(80_000)
LATER_LOSS_PER_KM = Decimal(1) / Decimal(50_000)
PUBLISHED_SOURCE = "battery.comparison.published_source"

Position = Literal["above", "in_line", "below"]


@dataclass(frozen=True)
class Comparison:
    """How an estimate sits against typical cars: our cohort's median, or the published fleet curve."""

    basis: Literal["cohort", "published"]
    typical_percent: Decimal
    position: Position
    cohort_size: int
    share_lower_percent: Decimal | None = None  # of the cohort, the share with a lower estimate (cohort basis)


def published_typical_percent(odometer_km: Decimal) -> Decimal:
    """The published fleet curve: the typical state of health at a distance driven."""
    km = max(odometer_km, Decimal(0))
    if km <= EARLY_KM:
        return _round(_HUNDRED - EARLY_LOSS_PERCENT * km / EARLY_KM, ROUND_HALF_UP)
    return _round(_HUNDRED - EARLY_LOSS_PERCENT - (km - EARLY_KM) * LATER_LOSS_PER_KM * 100, ROUND_HALF_UP)


def compare(
    health: BatteryHealth,
    cohort: Mapping[str, Sequence[BatterySample]],
    odometer_km: Decimal | None,
    *,
    now: datetime,
) -> Comparison | None:
    """This car against its cohort when at least `COHORT_MINIMUM` of them have an estimate, else the published
    curve at its odometer; None when the car has no estimate (or, for the curve, no odometer)."""
    if health.status != "estimated" or health.soh_percent is None or health.baseline is None:
        return None
    others = [estimate(samples, health.baseline, now=now) for samples in cohort.values()]
    values = sorted(other.soh_percent for other in others if other.soh_percent is not None)
    if len(values) >= COHORT_MINIMUM:
        typical = _round(statistics.median(values), ROUND_HALF_UP)
        lower = sum(1 for value in values if value < health.soh_percent)
        share = _round(Decimal(lower) * _HUNDRED / len(values), ROUND_HALF_UP)
        return Comparison("cohort", typical, _position(health, typical), len(values), share)
    if odometer_km is None:
        return None
    typical = published_typical_percent(odometer_km)
    return Comparison("published", typical, _position(health, typical), len(values))


def _position(health: BatteryHealth, typical: Decimal) -> Position:
    low = health.soh_low_percent or health.soh_percent or typical
    high = health.soh_high_percent or health.soh_percent or typical
    if low > typical + TYPICAL_SPREAD:
        return "above"
    if high < typical - TYPICAL_SPREAD:
        return "below"
    return "in_line"
