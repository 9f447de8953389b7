"""The battery gauge's geometry: one linear scale places the ticks, their labels, the band and the marker.

Pure and unit-free: values are percent of the new pack, positions are SVG user units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

NOMINAL = Decimal(100)
# The battery warranty's retention threshold (70 %) is always on the scale, so every gauge shows where it sits.
WARRANTY_FLOOR = Decimal(70)
_TEN = Decimal(10)
_FIVE = Decimal(5)
WIDTH, HEIGHT = 520, 64
_PAD = 24  # room for the end labels, which are centred on their ticks


@dataclass(frozen=True)
class Scale:
    """Percent → x: the axis runs from `low` at `x0` to `high` at `x0 + width`."""

    low: Decimal
    high: Decimal
    x0: float
    width: float

    def x(self, value: Decimal) -> float:
        clamped = min(max(value, self.low), self.high)
        return round(self.x0 + float((clamped - self.low) / (self.high - self.low)) * self.width, 2)

    @property
    def x1(self) -> float:
        return self.x(self.high)


@dataclass(frozen=True)
class Tick:
    value: Decimal
    x: float
    label: str


@dataclass(frozen=True)
class Gauge:
    scale: Scale
    width: int
    height: int
    ticks: list[Tick]
    band_x: float
    band_width: float
    mark_x: float
    mark_label: str
    nominal_x: float
    above_nominal: bool  # the estimate is beyond 100 %: the zone past the nominal line is drawn and explained


def scale_for(low: Decimal, high: Decimal, value: Decimal) -> Scale:
    """An axis from a round ten at or below both the band and the warranty floor to at least 105 %, in steps of 5."""
    start = min(WARRANTY_FLOOR, (min(low, value) / _TEN).to_integral_value(ROUND_FLOOR) * _TEN)
    end = max(NOMINAL + _FIVE, (max(high, value) / _FIVE).to_integral_value(ROUND_CEILING) * _FIVE)
    return Scale(low=start, high=end, x0=_PAD, width=WIDTH - 2 * _PAD)


def gauge(value: Decimal, low: Decimal, high: Decimal, percent: Callable[[Decimal], str]) -> Gauge:
    """The estimate `value` with its band `low`–`high`; the band is drawn only up to 100 % (a pack holds no more
    than new: a reading above it is the rating's or the reading's error), the marker where the estimate is."""
    scale = scale_for(low, high, value)
    values = [scale.low + _TEN * step for step in range(int((NOMINAL - scale.low) / _TEN) + 1)]
    ticks = [Tick(tick, scale.x(tick), percent(tick)) for tick in values]
    band_low, band_high = max(low, scale.low), min(high, NOMINAL)
    band_x = scale.x(band_low)
    return Gauge(
        scale=scale,
        width=WIDTH,
        height=HEIGHT,
        ticks=ticks,
        band_x=band_x,
        band_width=max(0.0, round(scale.x(band_high) - band_x, 2)) if band_high > band_low else 0.0,
        mark_x=scale.x(value),
        mark_label=percent(value),
        nominal_x=scale.x(NOMINAL),
        above_nominal=value > NOMINAL,
    )
