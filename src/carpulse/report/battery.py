"""Battery state of health from Tesla's rated range: an estimate with an honest uncertainty band, or no number.

Pure domain logic: no I/O and no clock reads (`now` is passed in), so the same samples always give the same answer.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from carpulse.kit.i18n import Joined, Text, message_ids, phrase, say
from carpulse.provider.base import Reading, VehicleIdentity, VehicleSnapshot

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
# The configuration and source of a baseline (`PackBaseline.label`, `.citation`).
BASELINE_KEYS: tuple[str, ...] = (
    "battery.baseline.wheels",
    "battery.baseline.built_in_us",
    "battery.baseline.built_in_china_or_europe",
    "battery.baseline.unrated_wheels",
    "battery.baseline.either",
    "battery.trim.rear_wheel_drive_lfp",
    "battery.trim.all_wheel_drive",
    "battery.source.epa",
    "battery.source.tesla_published",
    "battery.source.usable_kwh",
    "battery.source.current_rating",
    "battery.source.borrowed_us_model_y_rwd",
    "battery.source.between_sr_plus_and_rwd",
    "battery.source.cybertruck",
    "battery.source.us_rating_for_ncm",
    "battery.source.rating_miles",
    "battery.source.rating_miles_span",
)
MESSAGE_KEYS: frozenset[str] = frozenset(
    {
        *BASELINE_KEYS,
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
# energy times a rated-consumption constant, so it inherits the BMS's drift between calibrations (1–2 %), Tesla's
# rounding and voluntary lowering of EPA figures, and how far a new car's 100 % range sits from the label (Edmunds
# saw 296 mi on a new 2024 Model 3 Performance rated 303 mi, -2.3 %). 3 % covers these; it is a floor, not a fit.
MODEL_ERROR = Decimal("0.03")
# LFP's voltage curve is flat between about 20 % and 90 %, so the BMS cannot tell the level from voltage and drifts
# until a charge to 100 % recalibrates it (Tesla asks LFP owners to charge to 100 % at least weekly).
LFP_MODEL_ERROR = Decimal("0.05")
# Scatter of implied full range between readings of one healthy pack (temperature, BMS drift), as a relative
# standard deviation; a prior with a few degrees of freedom, so one reading is not taken as perfectly precise
# and many consistent readings still earn a narrower band.
PRIOR_SCATTER = Decimal("0.015")
PRIOR_DEGREES_OF_FREEDOM = 4
# The median of normally distributed readings has a standard error sqrt(pi/2) times that of the mean.
MEDIAN_EFFICIENCY = Decimal("1.2533")
COVERAGE = Decimal(2)  # two standard errors: about 95 % of a normal distribution
# Tesla does not publish usable capacity; the nominal kWh in the table are owner-reported BMS figures.
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
    car_types: tuple[str, ...] = ()  # empty: any
    factories: tuple[str, ...] = ()  # VIN world manufacturer identifiers; empty: any
    # How far the rating itself may be off for this car, in percent: the half-width of the interval the true
    # rating lies in, with `rated_range_km` its middle.
    rating_error_percent: Decimal = Decimal(0)

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


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _kilometres(reading: Reading[float]) -> Decimal | None:
    value = _decimal(reading.value)
    unit = (reading.unit or "").lower()
    if value is None:
        return None
    if unit == "km":
        return value
    if unit in ("mi", "mile", "miles"):
        return value * MILES_TO_KM
    return None


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


# Larger wheels lower the rating: the published pairs in the table cost 2 % to 7 % per inch (Model X Long Range
# 20 to 22 inches: 2 %; Model 3 Long Range and Model Y RWD 18/19 to 19/20 inches: 7 %). A car on wheels with no
# published rating gets the whole span, up to the steepest of these.
WHEEL_PENALTY_PER_INCH = Decimal("0.07")


# --- Baselines ---------------------------------------------------------------------------------------------------
#
# Rated range at 100 % of a new car, the figure Tesla's `battery_range` starts from. Tesla's firmware rates range
# with the EPA constants outside the US too (an Australian 2019 Model 3 Performance showed 500 km at 100 %, its
# EPA 310 mi, not its 530 km WLTP; techAU 2019), so EPA figures serve every market. The rating depends on the
# wheels the car is configured with (teslamate-org/teslamate#4729, #5000): where Tesla published figures per wheel
# size there is one row per size. When the car does not say enough to pick one rating (a model year re-rated
# midway, wheels without a published figure), the baseline spans every rating it could have, so the band widens
# instead of a guess.


_US = ("5YJ", "7SA")  # Fremont and Austin: Panasonic NCA cells in long-range packs
_CN_EU = ("LRW", "XP7")  # Shanghai and Berlin: LG Energy Solution (later also CATL) NCM cells in long-range packs
_EPA = phrase("battery.source.epa")
_TESLA = phrase("battery.source.tesla_published")
_KWH = phrase("battery.source.usable_kwh")
_CURRENT = phrase("battery.source.current_rating")
_S24 = "InsideEVs 2024-05, 2024 Tesla Model S EPA range"
_X21 = "InsideEVs 2020-10-28, 2021 Tesla Model X EPA range"
_X22 = "InsideEVs 2021-12-22, 2022 Tesla Model X EPA range"
_X24 = "InsideEVs 2024-05-13, 2024 Tesla Model X EPA range"
_M3_22 = "InsideEVs 2021-12-22, 2022 Tesla Model 3 EPA range"
_M3_23 = "InsideEVs 2023-03-28, 2023 Tesla Model 3 EPA range"
_M3_24 = "InsideEVs 2024-05-09, 2024 Tesla Model 3 EPA range"
_Y20 = "InsideEVs 2020-02, Tesla Model Y EPA range"
_Y23 = "InsideEVs 2023, 2023 Tesla Model Y EPA range"
_Y24 = "InsideEVs 2024-05-10, 2024 Tesla Model Y EPA range"
_Y_RWD = phrase("battery.source.borrowed_us_model_y_rwd", citation="telegraph247 2023")
_SR_LFP = phrase("battery.source.between_sr_plus_and_rwd")
_CT = phrase("battery.source.cybertruck", citation="Car and Driver 2023-12")
_RWD_LFP = phrase("battery.trim.rear_wheel_drive_lfp")
_AWD = phrase("battery.trim.all_wheel_drive")
Source = Text | tuple[Text, ...]


def _either(*names: Text) -> Text:
    """`A or B or C`, in the reader's language."""
    said = names[0]
    for name in names[1:]:
        said = phrase("battery.baseline.either", first=said, second=name)
    return said


def _row(
    model: str,
    name: str,
    trims: tuple[str, ...],
    years: tuple[int, int | None],
    miles: int | tuple[int, int],
    usable_kwh: str,
    source: Source,
    *,
    title: Text | None = None,
    chemistry: Chemistry = "NCA",
    wheels: int | None = None,
    car_types: tuple[str, ...] = (),
    factories: tuple[str, ...] = (),
    error: int = 0,
) -> PackBaseline:
    """One table row; `miles` is a pair where the model year saw two ratings and the car does not say which."""
    low, high = (miles, miles) if isinstance(miles, int) else miles
    middle = (Decimal(low) + Decimal(high)) / 2
    spread = (Decimal(high) - Decimal(low)) / 2 / middle * _HUNDRED
    rating = (
        phrase("battery.source.rating_miles", miles=str(low))
        if low == high
        else phrase("battery.source.rating_miles_span", low=str(low), high=str(high))
    )
    basis, *more = source if isinstance(source, tuple) else (source,)
    named: Text = Joined((model, title)) if title is not None else f"{model} {name}"
    # An open-ended entry may meet a later model year with a revised rating.
    extra = error + (2 if years[1] is None else 0)
    slug = re.sub(r"[^a-z0-9]+", "_", f"{model} {name} {years[0]}".lower())
    return PackBaseline(
        key=slug + (f"_{wheels}in" if wheels else ""),
        model=model,
        label=phrase("battery.baseline.wheels", baseline=named, inches=str(wheels)) if wheels else named,
        chemistry=chemistry,
        usable_kwh=Decimal(usable_kwh),
        rated_range_km=_round(middle * MILES_TO_KM, ROUND_HALF_UP),
        model_years=years,
        citation=(
            Joined((basis, rating), ": "),
            *more,
            _KWH,
            *((_CURRENT,) if years[1] is None else ()),
        ),
        trims=trims,
        wheel_inches=wheels,
        car_types=car_types,
        factories=factories,
        rating_error_percent=_round(spread + extra, ROUND_CEILING),
    )


def _by_factory(entry: PackBaseline) -> tuple[PackBaseline, PackBaseline]:
    """The US-built (NCA) entry and its Shanghai/Berlin-built (NCM) twin, which borrows the US rating with doubt."""
    twin = replace(
        entry,
        key=f"{entry.key}_ncm",
        label=phrase("battery.baseline.built_in_china_or_europe", baseline=entry.label),
        chemistry="NCM",
        factories=_CN_EU,
        citation=(*entry.citation, phrase("battery.source.us_rating_for_ncm")),
        rating_error_percent=entry.rating_error_percent + 2,
    )
    return replace(entry, label=phrase("battery.baseline.built_in_us", baseline=entry.label), factories=_US), twin


_S, _X, _M3, _Y = "Model S", "Model X", "Model 3", "Model Y"
_100D_OR_LR = _either("100D", "Long Range")
_LR_OR = _either("Long Range", "Long Range Plus")
_LR, _P = ("74d",), ("p74d",)

BASELINES: tuple[PackBaseline, ...] = (
    # Model S and Model X: Panasonic 18650 NCA throughout. A year with a mid-year re-rating spans both ratings.
    _row(_S, "75D", ("75d",), (2017, 2019), 259, "72.5", _EPA, error=1),
    _row(_S, "100D", ("100d",), (2017, 2018), 335, "98", _EPA, error=1),
    _row(_S, "100D or Long Range", ("100d",), (2019, 2019), (335, 370), "98", _EPA, error=1, title=_100D_OR_LR),
    _row(_S, "Long Range or Long Range Plus", ("100d",), (2020, 2020), (370, 402), "98", _EPA, error=1, title=_LR_OR),
    # Model year 2021 was built both before and after the refresh; car_type tells them apart.
    _row(_S, "Long Range Plus", ("100d",), (2021, 2021), 402, "98", _EPA, car_types=("models2",), error=1),
    _row(_S, "Long Range", ("100d",), (2021, 2023), 405, "95", (_EPA, _S24), wheels=19, car_types=("models",)),
    _row(_S, "Long Range", ("100d",), (2024, None), 402, "95", (_EPA, _S24), wheels=19),
    _row(_S, "Long Range", ("100d",), (2024, None), 380, "95", (_TESLA, _S24), wheels=21, error=2),
    _row(_S, "Plaid", ("plaid",), (2021, 2023), 396, "95", (_EPA, _S24), wheels=19),
    _row(_S, "Plaid", ("plaid",), (2024, None), 359, "95", (_EPA, _S24), wheels=19),
    _row(_S, "Plaid", ("plaid",), (2024, None), 320, "95", (_TESLA, _S24), wheels=21, error=2),
    _row(_X, "75D", ("75d",), (2017, 2019), 238, "72.5", _EPA, error=1),
    _row(_X, "100D", ("100d",), (2017, 2018), 295, "98", _EPA, error=1),
    _row(_X, "100D or Long Range", ("100d",), (2019, 2019), (295, 325), "98", _EPA, error=1, title=_100D_OR_LR),
    _row(_X, "Long Range or Long Range Plus", ("100d",), (2020, 2020), (325, 351), "98", _EPA, error=1, title=_LR_OR),
    _row(_X, "Long Range Plus", ("100d",), (2021, 2021), 371, "98", (_EPA, _X21), wheels=20),
    _row(_X, "Long Range", ("100d",), (2022, 2023), 348, "95", (_EPA, _X22), wheels=20),
    _row(_X, "Long Range", ("100d",), (2022, 2022), 332, "95", (_TESLA, _X22), wheels=22, error=2),
    _row(_X, "Long Range", ("100d",), (2023, 2023), 330, "95", (_TESLA, _X24), wheels=22, error=2),
    _row(_X, "Long Range", ("100d",), (2024, None), 335, "95", (_EPA, _X24), wheels=20),
    _row(_X, "Long Range", ("100d",), (2024, None), 322, "95", (_TESLA, _X24), wheels=22, error=2),
    _row(_X, "Plaid", ("plaid",), (2022, 2023), 333, "95", (_EPA, _X22), wheels=20),
    _row(_X, "Plaid", ("plaid",), (2022, 2023), 311, "95", (_EPA, _X24), wheels=22),
    _row(_X, "Plaid", ("plaid",), (2024, None), 326, "95", (_EPA, _X24), wheels=20),
    _row(_X, "Plaid", ("plaid",), (2024, None), 300, "95", (_TESLA, _X24), wheels=22, error=2),
    # Model 3 Standard Range Plus / Rear-Wheel Drive: NCA in the US until 2021, CATL LFP from model year 2022
    # (19-inch wheels: 267 mi instead of 272, within the model error, so one row for all wheels).
    _row(_M3, "Standard Range Plus (NCA)", ("50",), (2019, 2019), 240, "50", _EPA, factories=_US, error=1),
    _row(_M3, "Standard Range Plus (NCA)", ("50",), (2020, 2020), 250, "50", _EPA, factories=_US, error=1),
    _row(_M3, "Standard Range Plus (NCA)", ("50",), (2021, 2021), 263, "52.5", _EPA, factories=_US, error=1),
    # No EPA label exists for the Shanghai-built LFP Standard Range Plus: assumed between its neighbours.
    _row(
        _M3,
        "Standard Range Plus (LFP)",
        ("50",),
        (2021, 2021),
        (263, 272),
        "55",
        _SR_LFP,
        chemistry="LFP",
        factories=("LRW",),
        error=3,
    ),
    _row(
        _M3,
        "Rear-Wheel Drive (LFP)",
        ("50",),
        (2022, None),
        272,
        "57.5",
        (_EPA, _M3_22, _M3_24),
        chemistry="LFP",
        title=_RWD_LFP,
    ),
    # Model 3 Long Range AWD; the 19-inch option costs 7 %, so the splits matter.
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2018, 2019), 310, "75", _EPA, error=1)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2020, 2020), 322, "75", _EPA, error=1)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2021, 2021), 353, "75", _EPA, wheels=18, error=1)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2022, 2022), 358, "75", (_EPA, _M3_24), wheels=18)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2022, 2022), 334, "75", (_TESLA, _M3_23), wheels=19, error=2)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2023, 2023), (333, 358), "75", (_EPA, _M3_24), wheels=18)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2024, None), 342, "75", (_EPA, _M3_24), wheels=18)),
    # Model 3 Performance came on its own 20-inch wheels only.
    *_by_factory(_row(_M3, "Performance", _P, (2018, 2019), 310, "75", _EPA, error=1)),
    *_by_factory(_row(_M3, "Performance", _P, (2020, 2020), 299, "75", (_EPA, _Y20))),
    *_by_factory(_row(_M3, "Performance", _P, (2021, 2023), 315, "75", (_EPA, _M3_22, _M3_24))),
    # Edmunds quotes 303 mi (EPA); Tesla first published 296 mi.
    *_by_factory(_row(_M3, "Performance", _P, (2024, None), (296, 303), "75", (_EPA, "Edmunds 2024", _M3_24))),
    # Model Y Long Range AWD and Performance.
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2020, 2020), 316, "75", _EPA, wheels=19, error=1)),
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2021, 2021), 326, "75", _EPA, wheels=19, error=1)),
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2022, 2023), 330, "75", (_EPA, _Y23), wheels=19)),
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2022, 2023), 318, "75", (_TESLA, _Y23), wheels=20, error=2)),
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2024, None), 310, "75", (_EPA, _Y24), wheels=19)),
    *_by_factory(_row(_Y, "Performance", _P, (2020, 2020), 315, "75", (_EPA, _Y20), wheels=19, error=1)),
    *_by_factory(_row(_Y, "Performance", _P, (2020, 2020), 280, "75", (_TESLA, _Y20), wheels=21, error=2)),
    *_by_factory(_row(_Y, "Performance", _P, (2021, 2023), 303, "75", (_EPA, _Y23))),
    *_by_factory(_row(_Y, "Performance", _P, (2024, None), 279, "75", (_EPA, _Y24))),
    # Model Y RWD from Shanghai (CATL) and Berlin (BYD) is LFP, with no EPA label: the US RWD figures are borrowed
    # with a wide error. The US-built RWD pack's chemistry is not established here, so those cars get no baseline.
    _row(
        _Y,
        "Rear-Wheel Drive (LFP)",
        ("74",),
        (2021, None),
        260,
        "57.5",
        _Y_RWD,
        chemistry="LFP",
        title=_RWD_LFP,
        factories=_CN_EU,
        wheels=19,
        error=5,
    ),
    _row(
        _Y,
        "Rear-Wheel Drive (LFP)",
        ("74",),
        (2021, None),
        242,
        "57.5",
        _Y_RWD,
        chemistry="LFP",
        title=_RWD_LFP,
        factories=_CN_EU,
        wheels=20,
        error=5,
    ),
    # Cybertruck: 4680 NCM cells; heavy-duty by weight, so no EPA label (Tesla ran the EPA method itself).
    _row(
        "Cybertruck",
        "All-Wheel Drive",
        ("awd",),
        (2024, None),
        318,
        "122.4",
        (_TESLA, _CT),
        title=_AWD,
        chemistry="NCM",
        error=2,
    ),
    _row(
        "Cybertruck",
        "Cyberbeast",
        ("cyberbeast",),
        (2024, None),
        301,
        "122.4",
        (_TESLA, _CT),
        chemistry="NCM",
        error=2,
    ),
)

_CAR_TYPES = {
    "models": "Model S",
    "models2": "Model S",
    "modelx": "Model X",
    "model3": "Model 3",
    "modely": "Model Y",
    "cybertruck": "Cybertruck",
}
_WHEEL_SIZE = re.compile(r"(?<!\d)(1[5-9]|2[0-4])(?!\d)")


def baseline_for(identity: VehicleIdentity, raw_vehicle_config: dict[str, Any] | None) -> PackBaseline | None:
    """The configuration this car was sold with, from model, trim badge, year, wheels and factory; None if unknown.

    Where the car does not say enough to pick one rating (a model year with two, wheels without a published
    figure), the baseline spans every rating it could have, and its rating error widens the estimate's band.
    """
    config = raw_vehicle_config or {}
    car_type = _text(config.get("car_type"))
    model = identity.model or _CAR_TYPES.get(car_type or "")
    if car_type in _CAR_TYPES and _CAR_TYPES[car_type] != model:
        return None
    trim = (_text(config.get("trim_badging")) or identity.trim or "").lower()
    wheels = _wheel_inches(_text(config.get("wheel_type")) or identity.wheels)
    vin = identity.vin.upper()
    factory = vin[:3] if len(vin) == 17 else None
    family = [entry for entry in BASELINES if entry.model == model and trim in entry.trims]
    candidates = [
        entry
        for entry in family
        if (car_type is None or not entry.car_types or car_type in entry.car_types)
        and (factory is None or not entry.factories or factory in entry.factories)
    ]
    # VIN position 7 is the battery type; F is lithium iron phosphate.
    if len(vin) == 17 and vin[6] == "F":
        candidates = [entry for entry in candidates if entry.chemistry == "LFP"]
    candidates = _by_year(candidates, family, identity.year)
    if not candidates or len({entry.chemistry for entry in candidates}) > 1:
        return None
    return _by_wheels(candidates, wheels)


def _by_year(candidates: list[PackBaseline], family: list[PackBaseline], year: int | None) -> list[PackBaseline]:
    if year is None:
        return candidates if len({entry.model_years for entry in candidates}) == 1 else []
    matching = [entry for entry in candidates if entry.covers(year)]
    if matching or not candidates:
        return matching
    # The badge says which configuration it is; a year outside every rating of that badge (a VIN year before the
    # badge was sold) takes the nearest generation. A year between two ratings of one badge has no baseline.
    if year < min(entry.model_years[0] for entry in family):
        first = min(entry.model_years[0] for entry in candidates)
        return [entry for entry in candidates if entry.model_years[0] == first]
    if all(entry.model_years[1] is not None and year > entry.model_years[1] for entry in family):
        last = max(entry.model_years[1] or 0 for entry in candidates)
        return [entry for entry in candidates if entry.model_years[1] == last]
    return []


def _by_wheels(candidates: list[PackBaseline], wheels: int | None) -> PackBaseline:
    exact = [entry for entry in candidates if entry.wheel_inches is not None and entry.wheel_inches == wheels]
    unsplit = [entry for entry in candidates if entry.wheel_inches is None]
    if exact or unsplit:
        return _spanning(exact or unsplit)
    if wheels is None:
        return _spanning(candidates)
    distance = min(abs((entry.wheel_inches or 0) - wheels) for entry in candidates)
    nearest = [entry for entry in candidates if abs((entry.wheel_inches or 0) - wheels) == distance]
    if len({entry.wheel_inches for entry in nearest}) > 1:
        # A size between two published ones: its rating lies between theirs.
        return _spanning(nearest)
    return _unrated_wheels(_spanning(nearest), wheels)


def _spanning(entries: Sequence[PackBaseline]) -> PackBaseline:
    """One entry as it is; several as one baseline whose rating interval covers all of theirs."""
    if len(entries) == 1:
        return entries[0]
    low = min(entry.rated_range_interval_km[0] for entry in entries)
    high = max(entry.rated_range_interval_km[1] for entry in entries)
    first = entries[0]
    rated, error = _interval(low, high)
    return replace(
        first,
        key="|".join(entry.key for entry in entries),
        label=_either(*dict.fromkeys(entry.label for entry in entries)),
        usable_kwh=statistics.median(entry.usable_kwh for entry in entries),
        citation=tuple(dict.fromkeys(part for entry in entries for part in entry.citation)),
        wheel_inches=None if len({entry.wheel_inches for entry in entries}) > 1 else first.wheel_inches,
        rated_range_km=rated,
        rating_error_percent=error,
    )


def _unrated_wheels(entry: PackBaseline, wheels: int) -> PackBaseline:
    """The entry for the nearest published wheel size, its rating interval stretched towards the car's wheels."""
    inches = wheels - (entry.wheel_inches or wheels)
    low, high = entry.rated_range_interval_km
    if inches > 0:
        low = low * (1 - WHEEL_PENALTY_PER_INCH * inches)
    else:
        high = high * (1 - WHEEL_PENALTY_PER_INCH * inches)
    rated, error = _interval(low, high)
    return replace(
        entry,
        key=f"{entry.key}@{wheels}in",
        label=phrase("battery.baseline.unrated_wheels", baseline=entry.label, inches=str(wheels)),
        wheel_inches=wheels,
        rated_range_km=rated,
        rating_error_percent=error,
    )


def _interval(low: Decimal, high: Decimal) -> tuple[Decimal, Decimal]:
    """The middle of a rating interval and its half-width in percent."""
    middle = (low + high) / 2
    return _round(middle, ROUND_HALF_UP), _round((high - low) / 2 / middle * _HUNDRED, ROUND_CEILING)


def _wheel_inches(wheel_type: str | None) -> int | None:
    match = _WHEEL_SIZE.search(wheel_type or "")
    return int(match.group(1)) if match else None


def _text(value: Any) -> str | None:
    # Tesla sends "<invalid>" for values it does not know.
    return value if isinstance(value, str) and value and value != "<invalid>" else None
