"""Money in integer minor units; rates as `Decimal`; half-up rounding to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(cents: int, percent: Decimal) -> int:
    """`percent` % of `cents`, half-up to the cent."""
    return round_half_up(Decimal(cents) * percent / HUNDRED)


@dataclass(frozen=True)
class VatSplit:
    net_cents: int
    vat_cents: int
    gross_cents: int


def split_inclusive(gross_cents: int, rate_percent: Decimal) -> VatSplit:
    """A VAT-inclusive consumer price → net + VAT = gross exactly (net rounded half up)."""
    if gross_cents < 0:
        raise ValueError("a price cannot be negative")
    net = round_half_up(Decimal(gross_cents) * HUNDRED / (HUNDRED + rate_percent))
    return VatSplit(net_cents=net, vat_cents=gross_cents - net, gross_cents=gross_cents)


def split_lines_inclusive(gross_cents: list[int], rate_percent: Decimal) -> list[VatSplit]:
    """VAT-inclusive lines (a discount is a negative line) split so that they add up to the split of their sum.

    Each line's net is rounded half up on its own; the cent or two that rounding leaves over goes to the
    largest line, so the lines' net and VAT are exactly the totals' (which `split_inclusive` gives).
    """
    if not gross_cents:
        return []
    total = split_inclusive(sum(gross_cents), rate_percent)
    nets = [round_half_up(Decimal(gross) * HUNDRED / (HUNDRED + rate_percent)) for gross in gross_cents]
    largest = max(range(len(gross_cents)), key=lambda index: abs(gross_cents[index]))
    nets[largest] += total.net_cents - sum(nets)
    return [
        VatSplit(net_cents=net, vat_cents=gross - net, gross_cents=gross)
        for net, gross in zip(nets, gross_cents, strict=True)
    ]


def format_minor(cents: int) -> str:
    """`1900` → `"19.00"`: the decimal string payment APIs want (no floats anywhere)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def plain_rate(rate: Decimal) -> Decimal:
    """`Decimal("25.50")` (as a NUMERIC(5,2) column returns it) → `Decimal("25.5")`; `100.00` → `100`."""
    text = format(rate, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)
