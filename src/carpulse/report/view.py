"""The report's view model: every value already formatted for the reader's language and region.

Pure functions of the document inputs (no I/O, no clock): the same inputs give the same document.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency

from carpulse.battery.catalogue import baseline_for
from carpulse.battery.estimator import FLAG_FEW_SAMPLES, BatteryHealth, Comparison, compare, estimate, sources
from carpulse.battery.samples import samples_from_snapshot
from carpulse.charging.schemas import CurrencyTotal
from carpulse.charging.statement import charging_lines, currency_totals, lookback, month_of
from carpulse.kit.i18n import (
    babel_locale,
    format_date,
    format_number,
    resolve_locale,
    say,
    translate,
)
from carpulse.kit.region import RegionContext, format_moment, format_value, zone_label
from carpulse.provider.base import BrandInfo, Capability, CarSettings, Reading, VehicleSnapshot
from carpulse.provider.fields import Section, extract
from carpulse.report.document import DocumentInputs
from carpulse.report.gauge import Gauge, gauge
from carpulse.report.verdict import Verdict, build_verdict, check_odometer
from carpulse.report.zone import car_time_zone

# Sections the report shows as tables of their own (alerts, warranties, charging history, service).
OWN_TABLES = frozenset({Section.alerts, Section.warranty, Section.charging_history})
CHART_WIDTH, CHART_HEIGHT = 520, 150
MAX_ALERTS_BASIC = 10


@dataclass(frozen=True)
class ValueRow:
    label: str
    value: str
    read_at: str  # an absolute time in the report's zone, never "just now": a PDF is read days later
    source: str


@dataclass(frozen=True)
class SectionView:
    """One system's fields in the appendix, with when they were read, once for the group."""

    key: str
    title: str
    rows: list[ValueRow]
    read_at: str = ""


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    empty: str = ""  # what the report says instead of an empty table: none recorded, not read, or never offered


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    title: str
    unit: str
    width: int
    height: int
    bars: list[Bar]
    max_label: str


@dataclass(frozen=True)
class BatteryView:
    status: str
    estimated: bool
    soh: str | None
    band: str | None
    capacity: str | None
    method: str
    samples: str
    baseline: str | None
    baseline_source: str | None
    flags: list[str]
    reason: str | None
    gauge: Gauge | None = None
    # From one or two readings: said so, with how to get a firmer estimate.
    preliminary: str | None = None
    above_nominal: str | None = None


@dataclass(frozen=True)
class ChargingView:
    window: str
    sessions: int
    energy: str
    by_month: Table
    by_site: Table
    by_currency: Table
    chart: BarChart | None
    # The same per-currency totals as the invoice API's `totals` (credits applied, same window).
    totals: list[CurrencyTotal] = field(default_factory=list)


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    text: str


@dataclass
class ReportView:
    locale: str
    lang: str
    package: str
    package_name: str
    reference: str
    generated_at: str
    captured_at: str
    vin: str
    display_name: str
    model_line: str
    summary: list[ValueRow]
    sections: list[SectionView]
    alerts: Table
    warranties: Table
    gaps: list[str]
    time_zone: str = ""
    source: str = ""  # where every value comes from (the brand's API)
    brand: str = ""
    verdict: Verdict | None = None
    battery: BatteryView | None = None
    charging: ChargingView | None = None
    service: list[ValueRow] = field(default_factory=list)
    glossary: list[GlossaryEntry] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)


def _t(locale: str, key: str, **values: object) -> str:
    return translate(locale, key, **values)


def region_for(snapshot: VehicleSnapshot, locale: str) -> RegionContext:
    """The reader's language, with the car's own display units and time zone when it told us them.

    The zone comes from what Basic and Pro both read (the car's clock), never from the charging history only
    Pro reads, so both packages of one car show the same times.
    """
    car = snapshot.settings or CarSettings()
    sessions = snapshot.charging_history.value if snapshot.charging_history else []
    country = next((s.country for s in sessions if s.country), None)
    zone = car_time_zone(snapshot.settings, locale, snapshot.captured_at)
    return RegionContext.build(
        locale,
        country=country,
        distance_units=car.distance_units,
        temperature_units=car.temperature_units,
        pressure_units=car.pressure_units,
        time_zone=zone.zone,
    )


def _time_zone_note(snapshot: VehicleSnapshot, locale: str) -> str:
    zone = car_time_zone(snapshot.settings, locale, snapshot.captured_at)
    key = "report.time_zone.car" if zone.from_car else "report.time_zone.market"
    return _t(locale, key, zone=zone_label(zone.zone, snapshot.captured_at))


def _read_at(moment: Any, ctx: RegionContext) -> str:
    return format_moment(moment, ctx) if moment is not None else ""


def _source(inputs: DocumentInputs, locale: str) -> str:
    return _t(locale, inputs.brand.catalogue.source_key, brand=inputs.brand.label)


def _reading_row(inputs: DocumentInputs, locale: str, ctx: RegionContext, label_key: str, name: str) -> ValueRow:
    reading: Reading[Any] | None = getattr(inputs.snapshot, name)
    definition = inputs.brand.catalogue.readings.get(name)
    if reading is None or definition is None:
        value = _t(locale, "report.not_available")
        return ValueRow(_t(locale, label_key), value, "", "")
    return ValueRow(
        label=_t(locale, label_key),
        value=format_value(definition, reading.value, ctx, inputs.brand.catalogue.enums),
        read_at=_read_at(reading.captured_at, ctx),
        source=_source(inputs, locale),
    )


def _summary(inputs: DocumentInputs, locale: str, ctx: RegionContext) -> list[ValueRow]:
    s = inputs.snapshot
    rows = [
        _reading_row(inputs, locale, ctx, "report.summary.odometer", "odometer"),
        _reading_row(inputs, locale, ctx, "report.summary.battery_level", "battery_level"),
        _reading_row(inputs, locale, ctx, "report.summary.range", "range"),
        _reading_row(inputs, locale, ctx, "report.summary.software", "software_version"),
        _reading_row(inputs, locale, ctx, "report.summary.charging_state", "charging_state"),
    ]
    warranties = s.warranties.value if s.warranties else []
    active = [w for w in warranties if w.state == "active"]
    rows.append(
        ValueRow(
            _t(locale, "report.summary.warranty"),
            _t(locale, "report.warranty.active_count", count=len(active))
            if s.warranties
            else _t(locale, "report.not_available"),
            _read_at(s.warranties.captured_at, ctx) if s.warranties else "",
            _source(inputs, locale) if s.warranties else "",
        )
    )
    alerts = s.alerts.value if s.alerts else []
    rows.append(
        ValueRow(
            _t(locale, "report.summary.alerts"),
            _t(locale, "report.alerts.count", count=len(alerts)) if s.alerts else _t(locale, "report.not_available"),
            _read_at(s.alerts.captured_at, ctx) if s.alerts else "",
            _source(inputs, locale) if s.alerts else "",
        )
    )
    return rows


def _sections(inputs: DocumentInputs, locale: str, ctx: RegionContext, package: str) -> list[SectionView]:
    """Every field of the map the package shows, by system, with the time the group was read once (a span when
    its parts were read at different times); list items (alerts, warranties) have their own tables."""
    snapshot = inputs.snapshot
    grouped: dict[Section, list[ValueRow]] = defaultdict(list)
    times: dict[Section, set[Any]] = defaultdict(set)
    catalogue = inputs.brand.catalogue
    source = _source(inputs, locale)
    for item in extract(snapshot.raw, catalogue.fields, catalogue.capture_times(snapshot.raw, snapshot.captured_at)):
        definition = item.field
        if not definition.in_package(package) or "[" in item.path or definition.section in OWN_TABLES:
            continue
        grouped[definition.section].append(
            ValueRow(
                label=_t(locale, definition.label_key),
                value=format_value(definition, item.value, ctx, catalogue.enums, unit=item.unit),
                read_at="",
                source=source,
            )
        )
        if item.captured_at is not None:
            times[definition.section].add(item.captured_at)
    return [
        SectionView(
            key=section.value,
            title=_t(locale, f"report.section.{section.value}"),
            rows=grouped[section],
            read_at=_group_time(times[section], locale, ctx),
        )
        for section in Section
        if grouped.get(section)
    ]


def _group_time(moments: set[Any], locale: str, ctx: RegionContext) -> str:
    if not moments:
        return ""
    first, last = format_moment(min(moments), ctx), format_moment(max(moments), ctx)
    if first == last:
        return _t(locale, "report.appendix.read_at", time=first)
    return _t(locale, "report.appendix.read_between", start=first, end=last)


def _empty(inputs: DocumentInputs, locale: str, capability: Capability, part: str, read: bool, none: str) -> str:
    """Why a list part has no rows: its brand never gives it, this car did not give it now, or it holds nothing."""
    if capability not in inputs.brand.capabilities:
        return _t(locale, "report.gap.not_offered", brand=inputs.brand.label, part=_t(locale, f"report.part.{part}"))
    if not read:
        return _t(locale, "report.gap", part=_t(locale, f"report.part.{part}"))
    return _t(locale, none)


def _alerts(inputs: DocumentInputs, locale: str, ctx: RegionContext, package: str) -> Table:
    alerts = inputs.snapshot.alerts.value if inputs.snapshot.alerts else []
    if package == "basic":
        alerts = alerts[:MAX_ALERTS_BASIC]
    return Table(
        columns=[_t(locale, "report.alerts.when"), _t(locale, "report.alerts.name"), _t(locale, "report.alerts.text")],
        rows=[
            [
                format_moment(alert.occurred_at, ctx),
                *inputs.brand.catalogue.alert_wording(alert.name, alert.user_text, locale),
            ]
            for alert in alerts
        ],
        empty=_empty(
            inputs, locale, Capability.alerts, "recent_alerts", inputs.snapshot.alerts is not None, "report.alerts.none"
        ),
    )


def _warranties(inputs: DocumentInputs, locale: str, ctx: RegionContext) -> Table:
    warranties = inputs.snapshot.warranties.value if inputs.snapshot.warranties else []
    distance = inputs.brand.catalogue.readings.get("odometer")
    rows = []
    for warranty in warranties:
        rows.append(
            [
                inputs.brand.catalogue.coded("warranty.active.type", warranty.kind, locale, warranty.display_name),
                _t(locale, f"report.warranty.state.{warranty.state}"),
                format_date(warranty.expires_on, locale, style="medium") if warranty.expires_on else "—",
                format_value(distance, warranty.expires_at_km, ctx)
                if distance is not None and warranty.expires_at_km is not None
                else "—",
            ]
        )
    return Table(
        columns=[
            _t(locale, "report.warranty.name"),
            _t(locale, "report.warranty.status"),
            _t(locale, "report.warranty.until_date"),
            _t(locale, "report.warranty.until_distance"),
        ],
        rows=rows,
        empty=_empty(
            inputs, locale, Capability.warranty, "warranty", inputs.snapshot.warranties is not None, "report.none"
        ),
    )


def _money(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=babel_locale(locale))


def _kwh(value: Decimal, locale: str) -> str:
    return f"{format_number(value.quantize(Decimal('0.1')), locale)} kWh"


def _charging(inputs: DocumentInputs, locale: str) -> ChargingView | None:
    """The charging section, from the same lines, window and totals as the invoice API and its CSV."""
    reading = inputs.snapshot.charging_history
    if reading is None:
        return None
    window = lookback(inputs.history_months, inputs.snapshot.captured_at)
    sessions = [s for s in reading.value if s.started_at is not None and window.start <= s.started_at <= window.end]
    lines = charging_lines(sessions, inputs.snapshot.identity.vin.strip().upper())
    months: dict[str, dict[str, Any]] = {}
    sites: dict[str, dict[str, Any]] = {}
    for line in lines:
        for bucket, key in ((months, month_of(line)), (sites, line.site or "—")):
            entry = bucket.setdefault(key, {"sessions": set(), "energy": Decimal(0), "lines": []})
            entry["sessions"].add(line.session_id)
            entry["energy"] += line.energy_kwh
            entry["lines"].append(line)

    def amount(value: Decimal, currency: str | None) -> str:
        return _money(value, currency, locale) if currency else format_number(value, locale)

    def costs(entry: dict[str, Any]) -> str:
        return ", ".join(amount(total.total, total.currency) for total in currency_totals(entry["lines"]))

    month_rows = [
        [_month_label(key, locale), str(len(v["sessions"])), _kwh(v["energy"], locale), costs(v)]
        for key, v in sorted(months.items(), reverse=True)
    ]
    top_sites = sorted(sites.items(), key=lambda item: (-len(item[1]["sessions"]), item[0]))[:15]
    site_rows = [[name, str(len(v["sessions"])), _kwh(v["energy"], locale), costs(v)] for name, v in top_sites]
    totals = currency_totals(lines)
    currency_rows = [
        [
            total.currency or "—",
            str(total.sessions),
            amount(total.credit, total.currency),
            amount(total.total, total.currency),
        ]
        for total in totals
    ]
    head = [
        _t(locale, "report.charging.sessions"),
        _t(locale, "report.charging.energy"),
        _t(locale, "report.charging.cost"),
    ]
    return ChargingView(
        window=_t(locale, "report.charging.window", months=window.months),
        sessions=len({line.session_id for line in lines}),
        energy=_kwh(sum((line.energy_kwh for line in lines), Decimal(0)), locale),
        by_month=Table([_t(locale, "report.charging.month"), *head], month_rows),
        by_site=Table([_t(locale, "report.charging.site"), *head], site_rows),
        by_currency=Table(
            [
                _t(locale, "report.charging.currency"),
                _t(locale, "report.charging.sessions"),
                _t(locale, "report.charging.credit"),
                _t(locale, "report.charging.cost"),
            ],
            currency_rows,
        ),
        chart=_energy_chart(months, locale),
        totals=totals,
    )


def _month_start(key: str) -> Any:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def _month_label(key: str, locale: str) -> str:
    return babel_format_date(_month_start(key), format="MMM y", locale=babel_locale(locale))


def _energy_chart(months: dict[str, dict[str, Any]], locale: str) -> BarChart | None:
    """kWh per month, the last 24 months, as bar geometry for an inline SVG."""
    keys = sorted(months)[-24:]
    if not keys:
        return None
    peak = max(months[key]["energy"] for key in keys) or Decimal(1)
    slot = CHART_WIDTH / len(keys)
    plot_height = CHART_HEIGHT - 24
    bars = []
    for index, key in enumerate(keys):
        energy = months[key]["energy"]
        height = float(energy / peak) * plot_height
        bars.append(
            Bar(
                label=_month_label(key, locale),
                value=_kwh(energy, locale),
                x=round(index * slot + slot * 0.15, 2),
                y=round(plot_height - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
            )
        )
    return BarChart(
        title=_t(locale, "report.charging.chart_title"),
        unit="kWh",
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        bars=bars,
        max_label=_kwh(peak, locale),
    )


def _health(inputs: DocumentInputs) -> BatteryHealth:
    snapshot = inputs.snapshot
    samples = [*samples_from_snapshot(snapshot), *inputs.history_samples]
    baseline = baseline_for(snapshot.identity)
    return estimate(samples, baseline, now=inputs.generated_at)


def _odometer_km(inputs: DocumentInputs) -> Decimal | None:
    samples = samples_from_snapshot(inputs.snapshot)
    if samples and samples[0].odometer_km is not None:
        return samples[0].odometer_km
    reading = inputs.snapshot.odometer
    if reading is None or (reading.unit or "km").lower() != "km":
        return None
    return Decimal(str(reading.value))


def _battery(inputs: DocumentInputs, locale: str, health: BatteryHealth) -> BatteryView:
    estimated = health.status == "estimated" and health.soh_percent is not None
    pct = Decimal("0.1")

    def percent(value: Decimal | None) -> str:
        return f"{format_number(value.quantize(pct), locale)} %" if value is not None else "—"

    def kwh(value: Decimal | None) -> str:
        return _kwh(value, locale) if value is not None else "—"

    drawn = None
    if estimated:
        assert health.soh_percent is not None
        drawn = gauge(
            health.soh_percent,
            health.soh_low_percent or health.soh_percent,
            health.soh_high_percent or health.soh_percent,
            lambda value: f"{format_number(value.normalize() if value == value.to_integral() else value, locale)} %",
        )
    preliminary = None
    if estimated and len(health.samples_used) <= 2:
        advice = (
            _t(locale, "report.gauge.firmer_reread", days=inputs.reread_days)
            if inputs.reread_days
            else _t(locale, "report.gauge.firmer_new")
        )
        preliminary = f"{_t(locale, 'report.gauge.preliminary', count=len(health.samples_used))} {advice}"
    return BatteryView(
        status=_t(locale, health.status_key),
        estimated=estimated,
        soh=percent(health.soh_percent) if estimated else None,
        band=f"{percent(health.soh_low_percent)} – {percent(health.soh_high_percent)}" if estimated else None,
        capacity=f"{kwh(health.usable_capacity_kwh)} ({kwh(health.usable_capacity_low_kwh)} – "
        f"{kwh(health.usable_capacity_high_kwh)})"
        if estimated and health.usable_capacity_kwh is not None
        else None,
        method=_t(locale, health.method),
        samples=_t(
            locale, "report.battery.samples", used=len(health.samples_used), rejected=len(health.samples_rejected)
        ),
        baseline=f"{say(health.baseline.label, locale)} · {_kwh(health.baseline.usable_kwh, locale)}"
        if health.baseline
        else None,
        baseline_source=sources(health.baseline.citation, locale) if health.baseline else None,
        # The preliminary note says what the few-samples flag says, and how to do better.
        flags=[_t(locale, flag) for flag in health.flags if not (preliminary and flag == FLAG_FEW_SAMPLES)],
        reason=_t(locale, health.reason) if health.reason else None,
        gauge=drawn,
        preliminary=preliminary,
        above_nominal=_t(locale, "report.gauge.above_nominal") if drawn is not None and drawn.above_nominal else None,
    )


def _service(inputs: DocumentInputs, locale: str, ctx: RegionContext) -> list[ValueRow]:
    reading = inputs.snapshot.service
    if reading is None:
        return []
    status = reading.value
    source = _source(inputs, locale)
    fresh = _read_at(reading.captured_at, ctx)
    rows = [
        ValueRow(
            _t(locale, "report.service.in_service"),
            _t(locale, "report.yes") if status.in_service else _t(locale, "report.no"),
            fresh,
            source,
        )
    ]
    if status.estimated_completion:
        rows.append(
            ValueRow(
                _t(locale, "report.service.estimated_completion"),
                format_moment(status.estimated_completion, ctx),
                fresh,
                source,
            )
        )
    return rows


def _glossary(sections: list[SectionView], locale: str, brand: BrandInfo) -> list[GlossaryEntry]:
    shown = {row.label for section in sections for row in section.rows}
    # One entry per term as the reader sees it: the report's own definitions first, then the fields'.
    entries: dict[str, GlossaryEntry] = {}
    for key in ("report.glossary.state_of_health", "report.glossary.rated_range", "report.glossary.captured_at"):
        term = _t(locale, f"{key}.term")
        entries.setdefault(term.casefold(), GlossaryEntry(term, _t(locale, key, brand=brand.label)))
    for definition in brand.catalogue.fields.values():
        if definition.glossary_key and _t(locale, definition.label_key) in shown:
            term = _t(locale, definition.label_key)
            entries.setdefault(term.casefold(), GlossaryEntry(term, _t(locale, definition.glossary_key)))
    return sorted(entries.values(), key=lambda entry: entry.term.casefold())


def _cohort_size(inputs: DocumentInputs, health: BatteryHealth | None) -> int:
    if health is None or health.baseline is None:
        return 0
    baseline = health.baseline
    return sum(
        1
        for samples in inputs.cohort_samples.values()
        if estimate(samples, baseline, now=inputs.generated_at).soh_percent is not None
    )


# The parts of a report a brand may not offer at all, by the capability that gives them; charging history is Pro's.
_OFFERED_PARTS: tuple[tuple[Capability, str, frozenset[str]], ...] = (
    (Capability.service, "service_data", frozenset({"basic", "pro"})),
    (Capability.alerts, "recent_alerts", frozenset({"basic", "pro"})),
    (Capability.warranty, "warranty", frozenset({"basic", "pro"})),
    (Capability.charging_history, "charging_history", frozenset({"pro"})),
)


def _gaps(inputs: DocumentInputs, locale: str, package: str) -> list[str]:
    """What the car did not give this time, then what its brand never gives: said, never left blank."""
    said = [_t(locale, "report.gap", part=_t(locale, f"report.part.{name}")) for name in sorted(inputs.snapshot.gaps)]
    for capability, part, packages in _OFFERED_PARTS:
        if package in packages and capability not in inputs.brand.capabilities and part not in inputs.snapshot.gaps:
            said.append(
                _t(locale, "report.gap.not_offered", brand=inputs.brand.label, part=_t(locale, f"report.part.{part}"))
            )
    return said


def build_view(inputs: DocumentInputs) -> ReportView:
    locale = resolve_locale(inputs.locale)
    package = "basic" if inputs.package == "basic" else "pro"
    snapshot = inputs.snapshot
    ctx = region_for(snapshot, locale)
    identity = snapshot.identity
    sections = _sections(inputs, locale, ctx, package)
    trim = inputs.brand.catalogue.coded("config.trim_badging", identity.trim, locale, None)
    model_line = " · ".join(str(part) for part in (identity.model, trim, identity.year) if part)
    view = ReportView(
        locale=locale,
        lang=locale if locale != "no" else "nb",
        package=package,
        package_name=_t(locale, f"report.package.{package}"),
        reference=inputs.reference,
        generated_at=format_moment(inputs.generated_at, ctx),
        captured_at=format_moment(snapshot.captured_at, ctx),
        vin=identity.vin,
        display_name=inputs.display_name or identity.display_name or identity.model or identity.vin,
        model_line=model_line,
        summary=_summary(inputs, locale, ctx),
        sections=sections,
        alerts=_alerts(inputs, locale, ctx, package),
        warranties=_warranties(inputs, locale, ctx),
        gaps=_gaps(inputs, locale, package),
        source=_source(inputs, locale),
        brand=inputs.brand.label,
        photos=[photo.data_uri() for photo in inputs.photos],
        time_zone=_time_zone_note(snapshot, locale),
    )
    health = _health(inputs) if package == "pro" else None
    comparison: Comparison | None = None
    odometer_km = _odometer_km(inputs)
    if health is not None:
        comparison = compare(health, inputs.cohort_samples, odometer_km, now=inputs.generated_at)
    view.verdict = build_verdict(
        locale=locale,
        ctx=ctx,
        snapshot=snapshot,
        package=package,
        health=health,
        comparison=comparison,
        cohort_size=comparison.cohort_size if comparison else _cohort_size(inputs, health),
        odometer=check_odometer(odometer_km, snapshot.captured_at, inputs.history_samples, identity.year),
        now=inputs.generated_at,
        gaps=view.gaps,
        catalogue=inputs.brand.catalogue,
        brand=inputs.brand.label,
        terms=inputs.brand.warranty,
        capabilities=inputs.brand.capabilities,
    )
    if health is not None:
        view.battery = _battery(inputs, locale, health)
        view.charging = _charging(inputs, locale)
        view.service = _service(inputs, locale, ctx)
        view.glossary = _glossary(sections, locale, inputs.brand)
    return view
