"""Page one's verdict: the buyer's questions (battery, odometer, alerts, warranty) answered in plain words,
and what could not be checked, and why.

Pure functions of the document inputs and the battery estimate, formatted for the reader like the rest of the view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from carpulse.battery.estimator import (
    COHORT_MINIMUM,
    PUBLISHED_SOURCE,
    BatteryHealth,
    BatterySample,
    Comparison,
)
from carpulse.kit.i18n import format_date, format_number, translate
from carpulse.kit.region import RegionContext, format_value
from carpulse.provider.base import Alert, Capability, PublishedWarranty, VehicleSnapshot, Warranty
from carpulse.provider.fields import READINGS, FieldCatalogue, FieldDef

Tone = Literal["good", "note", "warning", "unknown"]

# A car reads a little differently between sources (rounding, miles converted to km): a drop smaller than this is
# not a lower odometer.
ODOMETER_TOLERANCE_KM = Decimal(1)
# Beyond 60,000 km a year is taxi or fleet use; under 2,000 km a year, for a car at least two years old, is rare
# enough to ask for service records (a rolled-back odometer reads low).
HIGH_KM_PER_YEAR = Decimal(60_000)
LOW_KM_PER_YEAR = Decimal(2_000)
LOW_CHECK_AFTER_YEARS = Decimal(2)
SERVICE_AUDIENCES = frozenset({"service", "service-fix"})


@dataclass(frozen=True)
class VerdictLine:
    topic: str
    title: str
    tone: Tone
    text: str


@dataclass(frozen=True)
class Verdict:
    lines: list[VerdictLine]
    unchecked: list[str]


@dataclass(frozen=True)
class OdometerCheck:
    """The odometer against our earlier reads of this VIN and against the car's age."""

    status: Literal["plausible", "lower_than_before", "unusually_high", "unusually_low", "missing"]
    km: Decimal | None
    earlier_reads: int
    latest_earlier: tuple[datetime, Decimal] | None = None
    highest_earlier: tuple[datetime, Decimal] | None = None
    km_per_year: Decimal | None = None


def check_odometer(
    km: Decimal | None, read_at: datetime, earlier: list[BatterySample], model_year: int | None
) -> OdometerCheck:
    """Monotonic against every earlier read of ours, then within km-per-year bounds for the model year's age."""
    if km is None:
        return OdometerCheck("missing", None, 0)
    reads = sorted(
        (sample.captured_at, sample.odometer_km)
        for sample in earlier
        if sample.odometer_km is not None and sample.captured_at < read_at
    )
    highest = max(reads, key=lambda read: read[1], default=None)
    latest = reads[-1] if reads else None
    per_year = None
    # A model year's cars are delivered from about the middle of the year before to the end of the year.
    if model_year is not None:
        oldest = _years(date(model_year - 1, 7, 1), read_at.date())
        youngest = _years(date(model_year, 12, 31), read_at.date())
        per_year = km / max(oldest, Decimal(1))
    check = OdometerCheck("plausible", km, len(reads), latest, highest, per_year)
    if highest is not None and highest[1] - km > ODOMETER_TOLERANCE_KM:
        return replace(check, status="lower_than_before")
    if model_year is not None:
        if km > HIGH_KM_PER_YEAR * max(oldest, Decimal("0.25")):
            return replace(check, status="unusually_high")
        if youngest >= LOW_CHECK_AFTER_YEARS and km < LOW_KM_PER_YEAR * youngest:
            return replace(check, status="unusually_low")
    return check


def _years(start: date, end: date) -> Decimal:
    return max(Decimal(0), Decimal((end - start).days) / Decimal("365.25"))


def build_verdict(
    *,
    locale: str,
    ctx: RegionContext,
    snapshot: VehicleSnapshot,
    package: str,
    health: BatteryHealth | None,
    comparison: Comparison | None,
    cohort_size: int,
    odometer: OdometerCheck,
    now: datetime,
    gaps: list[str],
    catalogue: FieldCatalogue,
    brand: str,
    terms: PublishedWarranty | None,
    capabilities: frozenset[Capability],
) -> Verdict:
    """The four answers and the list of what could not be checked; `health` is None where the package has none."""
    unchecked = list(gaps)
    lines = [
        _battery_line(locale, ctx, package, health, comparison, cohort_size, odometer.km, unchecked, brand),
        _odometer_line(locale, ctx, odometer, snapshot.identity.year, unchecked),
        _alerts_line(locale, snapshot, catalogue, brand, Capability.alerts in capabilities),
        _warranty_line(locale, ctx, snapshot, odometer.km, brand, terms, Capability.warranty in capabilities),
    ]
    if Capability.service in capabilities:  # else the gaps already say the brand gives no service data
        unchecked.append(translate(locale, "verdict.unchecked.service_odometer", brand=brand))
    unchecked.append(translate(locale, "verdict.unchecked.history", brand=brand))
    return Verdict(lines=lines, unchecked=unchecked)


def _t(locale: str, key: str, **values: object) -> str:
    return translate(locale, key, **values)


_KM: FieldDef = READINGS["odometer"]


def distance(km: Decimal, ctx: RegionContext) -> str:
    return format_value(_KM, km, ctx)


def _percent(value: Decimal, locale: str) -> str:
    return f"{format_number(value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP), locale)} %"


def _battery_line(
    locale: str,
    ctx: RegionContext,
    package: str,
    health: BatteryHealth | None,
    comparison: Comparison | None,
    cohort_size: int,
    km: Decimal | None,
    unchecked: list[str],
    brand: str,
) -> VerdictLine:
    title = _t(locale, "verdict.topic.battery")
    if health is None:
        unchecked.append(_t(locale, "verdict.unchecked.battery_basic"))
        return VerdictLine("battery", title, "unknown", _t(locale, "verdict.battery.basic"))
    if health.status != "estimated" or health.soh_percent is None:
        reason = _t(locale, health.reason) if health.reason else _t(locale, health.status_key)
        unchecked.append(_t(locale, "verdict.unchecked.battery", reason=reason))
        return VerdictLine("battery", title, "unknown", _t(locale, "verdict.battery.none"))
    soh = _percent(health.soh_percent, locale)
    parts: list[str] = []
    if comparison is not None and comparison.basis == "cohort":
        parts.append(
            _t(
                locale,
                "verdict.battery.cohort",
                soh=soh,
                count=comparison.cohort_size,
                share=f"{format_number((comparison.share_lower_percent or Decimal(0)).quantize(Decimal(1)), locale)} %",
                typical=_percent(comparison.typical_percent, locale),
            )
        )
    else:
        parts.append(_t(locale, "verdict.battery.estimate", soh=soh))
        parts.append(_t(locale, "verdict.battery.cohort_too_small", count=cohort_size, minimum=COHORT_MINIMUM))
        if comparison is not None and km is not None:
            parts.append(
                _t(
                    locale,
                    "verdict.battery.published",
                    typical=_percent(comparison.typical_percent, locale),
                    distance=distance(km, ctx),
                    source=_t(locale, PUBLISHED_SOURCE),
                )
            )
        else:
            unchecked.append(_t(locale, "verdict.unchecked.battery_comparison"))
    tone: Tone = "good"
    if comparison is not None:
        parts.append(_t(locale, f"verdict.battery.{comparison.position}", brand=brand))
        tone = "warning" if comparison.position == "below" else "good"
    if len(health.samples_used) <= 2:
        parts.append(_t(locale, "verdict.battery.preliminary", count=len(health.samples_used)))
        tone = "note" if tone == "good" else tone
    return VerdictLine("battery", title, tone, " ".join(parts))


def _odometer_line(
    locale: str, ctx: RegionContext, check: OdometerCheck, year: int | None, unchecked: list[str]
) -> VerdictLine:
    title = _t(locale, "verdict.topic.odometer")
    if check.km is None:
        unchecked.append(_t(locale, "verdict.unchecked.odometer"))
        return VerdictLine("odometer", title, "unknown", _t(locale, "verdict.odometer.missing"))
    parts = [
        _t(
            locale,
            "verdict.odometer.reading",
            distance=distance(check.km, ctx),
            per_year=distance(check.km_per_year, ctx),
            year=str(year),
        )
        if check.km_per_year is not None
        else distance(check.km, ctx) + "."
    ]
    tone: Tone = "good"
    if check.status == "lower_than_before" and check.highest_earlier is not None:
        when, km = check.highest_earlier
        parts.append(
            _t(
                locale,
                "verdict.odometer.lower",
                earlier=distance(km, ctx),
                date=format_date(when, locale, style="medium", tz=ctx.time_zone),
            )
        )
        tone = "warning"
    elif check.latest_earlier is not None:
        when, _ = check.latest_earlier
        parts.append(
            _t(
                locale,
                "verdict.odometer.monotonic",
                count=check.earlier_reads,
                date=format_date(when, locale, style="medium", tz=ctx.time_zone),
            )
        )
    else:
        unchecked.append(_t(locale, "verdict.unchecked.earlier_odometer"))
    if check.status == "unusually_high":
        parts.append(_t(locale, "verdict.odometer.high", limit=distance(HIGH_KM_PER_YEAR, ctx)))
        tone = "note"
    elif check.status == "unusually_low":
        parts.append(_t(locale, "verdict.odometer.low", limit=distance(LOW_KM_PER_YEAR, ctx)))
        tone = "note"
    if year is None:
        unchecked.append(_t(locale, "verdict.unchecked.age"))
    return VerdictLine("odometer", title, tone, " ".join(parts))


def alert_name(alert: Alert, locale: str, catalogue: FieldCatalogue) -> str:
    """What the report calls an alert: its translated name from the brand's code table (an unknown code marked)."""
    return catalogue.alert_wording(alert.name, alert.user_text, locale)[0]


def _alerts_line(
    locale: str, snapshot: VehicleSnapshot, catalogue: FieldCatalogue, brand: str, offered: bool
) -> VerdictLine:
    title = _t(locale, "verdict.topic.alerts")
    service = snapshot.service.value if snapshot.service else None
    in_service = (
        [_t(locale, "verdict.alerts.in_service", brand=brand)] if service is not None and service.in_service else []
    )
    if snapshot.alerts is None:
        missing = (
            _t(locale, "verdict.alerts.missing") if offered else _t(locale, "verdict.alerts.not_offered", brand=brand)
        )
        return VerdictLine("alerts", title, "unknown", " ".join([missing, *in_service]))
    alerts = snapshot.alerts.value
    serious = [alert for alert in alerts if SERVICE_AUDIENCES & set(alert.audience)]
    if serious:
        names = "; ".join(dict.fromkeys(alert_name(alert, locale, catalogue) for alert in serious))
        text = _t(locale, "verdict.alerts.service", names=names)
        return VerdictLine("alerts", title, "warning", " ".join([text, *in_service]))
    key = "verdict.alerts.driver_only" if alerts else "verdict.alerts.none"
    text = _t(locale, key, count=len(alerts))
    return VerdictLine("alerts", title, "note" if in_service else "good", " ".join([text, *in_service]))


def _warranty_line(
    locale: str,
    ctx: RegionContext,
    snapshot: VehicleSnapshot,
    km: Decimal | None,
    brand: str,
    terms: PublishedWarranty | None,
    offered: bool,
) -> VerdictLine:
    """The car's own warranty records where it gave them, else its brand's published terms, else unknown."""
    title = _t(locale, "verdict.topic.warranty")
    identity = snapshot.identity
    if terms is not None and snapshot.warranties is not None and snapshot.warranties.value:
        warranties = snapshot.warranties.value
        parts = []
        for name, kinds in (("battery", terms.battery_kinds), ("basic", terms.basic_kinds)):
            found = next((w for w in warranties if w.kind in kinds), None)
            if found is not None:
                parts.append(_recorded_warranty(locale, ctx, name, found, km))
        if parts:
            battery_active = any(w.kind in terms.battery_kinds and w.state == "active" for w in warranties)
            return VerdictLine("warranty", title, "good" if battery_active else "note", " ".join(parts))
    limit = terms.battery_km(identity.model, identity.trim) if terms is not None else None
    if terms is None or limit is None or km is None:
        unknown = (
            _t(locale, "verdict.warranty.unknown")
            if offered
            else _t(locale, "verdict.warranty.not_offered", brand=brand)
        )
        return VerdictLine("warranty", title, "unknown", unknown)
    parts = [
        _published_warranty(locale, ctx, "battery", terms.battery_years, limit, km, brand),
        _published_warranty(locale, ctx, "basic", terms.basic_years, terms.basic_km, km, brand),
    ]
    return VerdictLine("warranty", title, "note", " ".join(parts))


def _recorded_warranty(locale: str, ctx: RegionContext, name: str, warranty: Warranty, km: Decimal | None) -> str:
    label = _t(locale, f"verdict.warranty.{name}")
    if warranty.state == "expired":
        return _t(locale, "verdict.warranty.expired", name=label)
    limit = Decimal(str(warranty.expires_at_km)) if warranty.expires_at_km is not None else None
    until = format_date(warranty.expires_on, locale, style="medium") if warranty.expires_on else "—"
    if limit is None:
        return _t(locale, "verdict.warranty.active_date", name=label, date=until)
    left = max(Decimal(0), limit - km) if km is not None else None
    return _t(
        locale,
        "verdict.warranty.active",
        name=label,
        date=until,
        distance=distance(limit, ctx),
        left=distance(left, ctx) if left is not None else "—",
    )


def _published_warranty(
    locale: str, ctx: RegionContext, name: str, years: int, limit: Decimal, km: Decimal, brand: str
) -> str:
    label = _t(locale, f"verdict.warranty.{name}")
    if km >= limit:
        return _t(locale, "verdict.warranty.published_ended", name=label, distance=distance(limit, ctx), brand=brand)
    return _t(
        locale,
        "verdict.warranty.published",
        name=label,
        brand=brand,
        years=years,
        distance=distance(limit, ctx),
        left=distance(limit - km, ctx),
    )
