"""The report's view model: every value already formatted for the reader's language and region.

Pure functions of the document inputs (no I/O, no clock): the same inputs give the same document.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency

from carpulse.charging.schemas import CurrencyTotal
from carpulse.charging.statement import charging_lines, currency_totals, lookback, month_of
from carpulse.kit.i18n import (
    babel_locale,
    format_date,
    format_datetime,
    format_number,
    resolve_locale,
    say,
    translate,
)
from carpulse.provider.base import Reading, VehicleSnapshot
from carpulse.provider.fields import FieldDef, Section, extract
from carpulse.provider.tesla.codes import alert_wording, coded
from carpulse.provider.tesla.fields import TESLA_ENUMS, TESLA_FIELDS, tesla_capture_times
from carpulse.report.battery import BatteryHealth, baseline_for, estimate, samples_from_snapshot, sources
from carpulse.report.document import DocumentInputs
from carpulse.report.region import RegionContext, format_freshness, format_value

# Sections the report shows as tables of their own (alerts, warranties, charging history, service).
OWN_TABLES = frozenset({Section.alerts, Section.warranty, Section.charging_history})
CHART_WIDTH, CHART_HEIGHT = 520, 150
MAX_ALERTS_BASIC = 10


@dataclass(frozen=True)
class ValueRow:
    label: str
    value: str
    freshness: str
    source: str


@dataclass(frozen=True)
class SectionView:
    key: str
    title: str
    rows: list[ValueRow]


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]


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
    # The gauge: where the estimate and its band sit on a 70–105 % scale, in percent of the bar.
    gauge_low: float = 0.0
    gauge_high: float = 0.0
    gauge_mark: float = 0.0


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
    battery: BatteryView | None = None
    charging: ChargingView | None = None
    service: list[ValueRow] = field(default_factory=list)
    glossary: list[GlossaryEntry] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)


def _t(locale: str, key: str, **values: object) -> str:
    return translate(locale, key, **values)


def region_for(snapshot: VehicleSnapshot, locale: str) -> RegionContext:
    """The reader's language, with the car's own display units when it told us them."""
    data = snapshot.raw.get("vehicle_data") or {}
    gui = data.get("gui_settings") or {}
    sessions = snapshot.charging_history.value if snapshot.charging_history else []
    country = next((s.country for s in sessions if s.country), None)
    return RegionContext.build(
        locale,
        country=country,
        distance_units=gui.get("gui_distance_units"),
        temperature_units=gui.get("gui_temperature_units"),
        pressure_units=gui.get("gui_tire_pressure_units"),
    )


def _reading_row(
    locale: str, ctx: RegionContext, label_key: str, definition: FieldDef | None, reading: Reading[Any] | None, now: Any
) -> ValueRow:
    if reading is None or definition is None:
        value = _t(locale, "report.not_available")
        return ValueRow(_t(locale, label_key), value, "", "")
    return ValueRow(
        label=_t(locale, label_key),
        value=format_value(definition, reading.value, ctx, TESLA_ENUMS),
        freshness=format_freshness(reading.captured_at, now, ctx) if reading.captured_at else "",
        source=_t(locale, f"report.source.{reading.source}"),
    )


def _field(path: str) -> FieldDef | None:
    return TESLA_FIELDS.get(path)


def _summary(inputs: DocumentInputs, locale: str, ctx: RegionContext) -> list[ValueRow]:
    s, now = inputs.snapshot, inputs.generated_at
    # Normalized readings are already in km; the raw Tesla fields say miles. Format our readings with
    # their own unit through the field of the same kind.
    rows = [
        _reading_row(locale, ctx, "report.summary.odometer", _km_field("odometer"), s.odometer, now),
        _reading_row(
            locale, ctx, "report.summary.battery_level", _field(_CHARGE + "battery_level"), s.battery_level, now
        ),
        _reading_row(locale, ctx, "report.summary.range", _km_field("range"), s.range, now),
        _reading_row(locale, ctx, "report.summary.software", _field(_STATE + "car_version"), s.software_version, now),
        _reading_row(
            locale, ctx, "report.summary.charging_state", _field(_CHARGE + "charging_state"), s.charging_state, now
        ),
    ]
    warranties = s.warranties.value if s.warranties else []
    active = [w for w in warranties if w.state == "active"]
    rows.append(
        ValueRow(
            _t(locale, "report.summary.warranty"),
            _t(locale, "report.warranty.active_count", count=len(active))
            if s.warranties
            else _t(locale, "report.not_available"),
            format_freshness(s.warranties.captured_at, now, ctx) if s.warranties and s.warranties.captured_at else "",
            _t(locale, "report.source.tesla_fleet") if s.warranties else "",
        )
    )
    alerts = s.alerts.value if s.alerts else []
    rows.append(
        ValueRow(
            _t(locale, "report.summary.alerts"),
            _t(locale, "report.alerts.count", count=len(alerts)) if s.alerts else _t(locale, "report.not_available"),
            format_freshness(s.alerts.captured_at, now, ctx) if s.alerts and s.alerts.captured_at else "",
            _t(locale, "report.source.tesla_fleet") if s.alerts else "",
        )
    )
    return rows


_CHARGE = "vehicle_data.charge_state."
_STATE = "vehicle_data.vehicle_state."


def _km_field(kind: str) -> FieldDef | None:
    path = _STATE + "odometer" if kind == "odometer" else _CHARGE + "battery_range"
    definition = _field(path)
    return replace(definition, unit="km") if definition is not None else None


def _sections(inputs: DocumentInputs, locale: str, ctx: RegionContext, package: str) -> list[SectionView]:
    """Every field of the map the package shows, by section; list items (alerts, warranties) have their own tables."""
    snapshot, now = inputs.snapshot, inputs.generated_at
    grouped: dict[Section, list[ValueRow]] = defaultdict(list)
    for item in extract(snapshot.raw, TESLA_FIELDS, tesla_capture_times(snapshot.raw, snapshot.captured_at)):
        definition = item.field
        if not definition.in_package(package) or "[" in item.path or definition.section in OWN_TABLES:
            continue
        grouped[definition.section].append(
            ValueRow(
                label=_t(locale, definition.label_key),
                value=format_value(definition, item.value, ctx, TESLA_ENUMS, unit=item.unit),
                freshness=format_freshness(item.captured_at, now, ctx) if item.captured_at else "",
                source=_t(locale, "report.source.tesla_fleet"),
            )
        )
    return [
        SectionView(key=section.value, title=_t(locale, f"report.section.{section.value}"), rows=grouped[section])
        for section in Section
        if grouped.get(section)
    ]


def _alerts(inputs: DocumentInputs, locale: str, ctx: RegionContext, package: str) -> Table:
    alerts = inputs.snapshot.alerts.value if inputs.snapshot.alerts else []
    if package == "basic":
        alerts = alerts[:MAX_ALERTS_BASIC]
    return Table(
        columns=[_t(locale, "report.alerts.when"), _t(locale, "report.alerts.name"), _t(locale, "report.alerts.text")],
        rows=[
            [
                format_datetime(alert.occurred_at, locale, style="short", tz=ctx.time_zone),
                *alert_wording(alert.name, alert.user_text, locale),
            ]
            for alert in alerts
        ],
    )


def _warranties(inputs: DocumentInputs, locale: str, ctx: RegionContext) -> Table:
    warranties = inputs.snapshot.warranties.value if inputs.snapshot.warranties else []
    distance = _km_field("odometer")
    rows = []
    for warranty in warranties:
        rows.append(
            [
                coded("warranty.active.type", warranty.kind, locale, warranty.display_name),
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


GAUGE_LOW, GAUGE_HIGH = Decimal(70), Decimal(105)


def _gauge(value: Decimal | None) -> float:
    if value is None:
        return 0.0
    clamped = min(max(value, GAUGE_LOW), GAUGE_HIGH)
    return float((clamped - GAUGE_LOW) / (GAUGE_HIGH - GAUGE_LOW) * 100)


def _battery(inputs: DocumentInputs, locale: str) -> BatteryView:
    snapshot = inputs.snapshot
    samples = [*samples_from_snapshot(snapshot), *inputs.history_samples]
    raw_config = (snapshot.raw.get("vehicle_data") or {}).get("vehicle_config")
    baseline = baseline_for(snapshot.identity, raw_config if isinstance(raw_config, dict) else None)
    health: BatteryHealth = estimate(samples, baseline, now=inputs.generated_at)
    estimated = health.status == "estimated" and health.soh_percent is not None
    pct = Decimal("0.1")

    def percent(value: Decimal | None) -> str:
        return f"{format_number(value.quantize(pct), locale)} %" if value is not None else "—"

    def kwh(value: Decimal | None) -> str:
        return _kwh(value, locale) if value is not None else "—"

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
        flags=[_t(locale, flag) for flag in health.flags],
        reason=_t(locale, health.reason) if health.reason else None,
        gauge_low=_gauge(health.soh_low_percent) if estimated else 0.0,
        gauge_high=_gauge(health.soh_high_percent) if estimated else 0.0,
        gauge_mark=_gauge(health.soh_percent) if estimated else 0.0,
    )


def _service(inputs: DocumentInputs, locale: str, ctx: RegionContext) -> list[ValueRow]:
    reading = inputs.snapshot.service
    if reading is None:
        return []
    status = reading.value
    source = _t(locale, "report.source.tesla_fleet")
    fresh = format_freshness(reading.captured_at, inputs.generated_at, ctx) if reading.captured_at else ""
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
                format_datetime(status.estimated_completion, locale, style="medium", tz=ctx.time_zone),
                fresh,
                source,
            )
        )
    return rows


def _glossary(sections: list[SectionView], locale: str) -> list[GlossaryEntry]:
    shown = {row.label for section in sections for row in section.rows}
    # One entry per term as the reader sees it: the report's own definitions first, then the fields'.
    entries: dict[str, GlossaryEntry] = {}
    for key in ("report.glossary.state_of_health", "report.glossary.rated_range", "report.glossary.captured_at"):
        term = _t(locale, f"{key}.term")
        entries.setdefault(term.casefold(), GlossaryEntry(term, _t(locale, key)))
    for definition in TESLA_FIELDS.values():
        if definition.glossary_key and _t(locale, definition.label_key) in shown:
            term = _t(locale, definition.label_key)
            entries.setdefault(term.casefold(), GlossaryEntry(term, _t(locale, definition.glossary_key)))
    return sorted(entries.values(), key=lambda entry: entry.term.casefold())


def build_view(inputs: DocumentInputs) -> ReportView:
    locale = resolve_locale(inputs.locale)
    package = "basic" if inputs.package == "basic" else "pro"
    snapshot = inputs.snapshot
    ctx = region_for(snapshot, locale)
    identity = snapshot.identity
    sections = _sections(inputs, locale, ctx, package)
    trim = coded("config.trim_badging", identity.trim, locale)
    model_line = " · ".join(str(part) for part in (identity.model, trim, identity.year) if part)
    view = ReportView(
        locale=locale,
        lang=locale if locale != "no" else "nb",
        package=package,
        package_name=_t(locale, f"report.package.{package}"),
        reference=inputs.reference,
        generated_at=format_datetime(inputs.generated_at, locale, style="medium", tz=ctx.time_zone),
        captured_at=format_datetime(snapshot.captured_at, locale, style="medium", tz=ctx.time_zone),
        vin=identity.vin,
        display_name=inputs.display_name or identity.display_name or identity.model or identity.vin,
        model_line=model_line,
        summary=_summary(inputs, locale, ctx),
        sections=sections,
        alerts=_alerts(inputs, locale, ctx, package),
        warranties=_warranties(inputs, locale, ctx),
        gaps=[_t(locale, "report.gap", part=_t(locale, f"report.part.{name}")) for name in sorted(snapshot.gaps)],
        photos=[photo.data_uri() for photo in inputs.photos],
    )
    if package == "pro":
        view.battery = _battery(inputs, locale)
        view.charging = _charging(inputs, locale)
        view.service = _service(inputs, locale, ctx)
        view.glossary = _glossary(sections, locale)
    return view
