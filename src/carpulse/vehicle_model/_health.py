"""Battery health as the Data API tells it: the baseline a vehicle is measured against, and the estimator's
outcome as plain fields with English texts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from carpulse.battery.catalogue import spanning
from carpulse.battery.estimator import BatteryHealth, PackBaseline
from carpulse.kit.i18n import translate
from carpulse.vehicle_model.catalogue import WLTP, CatalogueEntry
from carpulse.vehicle_model.schemas import Baseline, Note, Rejection, StateOfHealth

REASON_NO_MODEL = "vehicle_model.reason.no_model"
REASON_RANGE_NOT_RATED = "vehicle_model.reason.range_not_rated"
REASON_NO_BATTERY_BASELINE = "vehicle_model.reason.no_battery_baseline"
REASON_VERSIONS_DIFFER = "vehicle_model.reason.versions_differ"
METHOD_DISTANCE_OVER_RANGE = "vehicle_model.method.distance_over_range"

# The Data API answers in English; the estimator's own ids have their text in the battery catalogue.
_TEXTS = {
    REASON_NO_MODEL: "The VIN matches no model in our catalogue, so there is no battery baseline to compare with.",
    REASON_RANGE_NOT_RATED: (
        "No battery baseline for this model: its catalogue range is a WLTP figure and the car shows a range "
        "estimated from recent consumption, not a rated range, so its range readings cannot be extrapolated "
        "into a state of health."
    ),
    REASON_NO_BATTERY_BASELINE: "No battery baseline for this model: no published rated range of its pack new.",
    REASON_VERSIONS_DIFFER: (
        "The VIN does not tell apart versions with different battery chemistries, so no single baseline applies."
    ),
    METHOD_DISTANCE_OVER_RANGE: (
        "Odometer distance divided by the range of one full charge when new: full-charge equivalents, ignoring "
        "energy spent parked, on climate and in charging losses, and the range lost with age."
    ),
}


def note(code: str) -> Note:
    return Note(code=code, text=_TEXTS.get(code) or translate("en", code))


@dataclass(frozen=True)
class BaselineChoice:
    baseline: PackBaseline | None
    reason: str | None = None


def baseline_of(entries: Sequence[CatalogueEntry]) -> BaselineChoice:
    """The baseline the catalogue versions a vehicle may be share (spanned when they differ), or why none."""
    if not entries:
        return BaselineChoice(None, REASON_NO_MODEL)
    baselines = [entry.baseline for entry in entries if entry.baseline is not None]
    if len(baselines) < len(entries):
        # Only a range the car shows as a rated figure extrapolates to a full pack; a WLTP figure beside a
        # consumption-based display does not. Every rated-range model we carry already has a battery baseline.
        unrated = all(entry.range_rating == WLTP for entry in entries if entry.baseline is None)
        return BaselineChoice(None, REASON_RANGE_NOT_RATED if unrated else REASON_NO_BATTERY_BASELINE)
    if len({baseline.chemistry for baseline in baselines}) > 1:
        return BaselineChoice(None, REASON_VERSIONS_DIFFER)
    return BaselineChoice(spanning(baselines))


def baseline_out(baseline: PackBaseline | None) -> Baseline | None:
    if baseline is None:
        return None
    return Baseline(
        description=baseline.description,
        chemistry=baseline.chemistry,
        usable_kwh=float(baseline.usable_kwh),
        rated_range_km=float(baseline.rated_range_km),
        rated_range_error_percent=float(baseline.rating_error_percent),
        source=baseline.source,
    )


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def health_out(health: BatteryHealth, *, reason: str | None, sources: Sequence[str]) -> StateOfHealth:
    """The estimator's outcome; `reason` replaces its generic one when the baseline is missing for a known cause."""
    used = health.samples_used
    rejections = Counter(rejected.reason for rejected in health.samples_rejected)
    why = reason if health.status == "no_baseline" and reason is not None else health.reason
    return StateOfHealth(
        status=health.status,
        method=note(health.method),
        soh_percent=_number(health.soh_percent),
        soh_low_percent=_number(health.soh_low_percent),
        soh_high_percent=_number(health.soh_high_percent),
        usable_capacity_kwh=_number(health.usable_capacity_kwh),
        usable_capacity_low_kwh=_number(health.usable_capacity_low_kwh),
        usable_capacity_high_kwh=_number(health.usable_capacity_high_kwh),
        implied_full_range_km=_number(health.implied_full_range_km),
        samples_used=len(used),
        samples_rejected=len(health.samples_rejected),
        rejections=[Rejection(reason=note(code), count=count) for code, count in sorted(rejections.items())],
        first_sample_at=used[0].captured_at if used else None,
        last_sample_at=used[-1].captured_at if used else None,
        baseline=baseline_out(health.baseline),
        flags=[note(flag) for flag in health.flags],
        reason=note(why) if why is not None else None,
        captured_at=used[-1].captured_at if used else None,
        source=", ".join(sorted(set(sources))) if used and sources else None,
    )
