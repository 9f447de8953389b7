"""The console's usage charts as numbers a template draws: SVG bars by UTC day, relative bars by endpoint.

Positions are computed here so the template only writes SVG attributes (the page CSP allows no inline
style), and every bar has its figure in the table beside it for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from carpulse.usage.schemas import UsageReport

# The day chart's drawing box (viewBox units); the SVG scales to its container's width.
WIDTH = 600
HEIGHT = 160
GAP = 2


@dataclass(frozen=True)
class DayBar:
    day: date
    units: int
    calls: int
    amount_minor: int
    x: float
    y: float
    width: float
    height: float
    today: bool


@dataclass(frozen=True)
class DayChart:
    bars: list[DayBar]
    peak: int
    total_units: int
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return self.total_units == 0


@dataclass(frozen=True)
class EndpointBar:
    endpoint: str
    calls: int
    units: int
    amount_minor: int
    currency: str
    share: float  # of the busiest endpoint's units, 0–100: the bar's length


def _nice_peak(value: int) -> int:
    """A round top for the scale (1, 2, 5 × 10ⁿ), so the axis reads well."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def by_day(report: UsageReport, first: date, last: date, today: date) -> DayChart:
    """One bar per UTC day from `first` to `last`, days without calls included (as empty bars)."""
    found = {group.group: group for group in report.groups}
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    rows = []
    for day in days:
        group = found.get(day.isoformat())
        rows.append((day, group.units if group else 0, group.calls if group else 0, group.amount_minor if group else 0))
    peak = _nice_peak(max((units for _, units, _, _ in rows), default=0))
    slot = WIDTH / max(1, len(days))
    bars = []
    for index, (day, units, calls, amount) in enumerate(rows):
        height = HEIGHT * units / peak
        bars.append(
            DayBar(
                day=day,
                units=units,
                calls=calls,
                amount_minor=amount,
                x=round(index * slot + GAP / 2, 2),
                y=round(HEIGHT - height, 2),
                width=round(max(1.0, slot - GAP), 2),
                height=round(height, 2),
                today=day == today,
            )
        )
    return DayChart(bars=bars, peak=peak, total_units=sum(units for _, units, _, _ in rows))


def by_endpoint(report: UsageReport) -> list[EndpointBar]:
    """The endpoints, busiest first, each with its bar's length relative to the busiest."""
    groups = sorted(report.groups, key=lambda group: (-group.units, group.group))
    top = max((group.units for group in groups), default=0) or 1
    return [
        EndpointBar(
            endpoint=group.group,
            calls=group.calls,
            units=group.units,
            amount_minor=group.amount_minor,
            currency=group.currency,
            share=round(100 * group.units / top, 1),
        )
        for group in groups
    ]
