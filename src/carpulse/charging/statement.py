"""A vehicle's charging in a lookback window: one line per session, totals per month and per currency.

Brands send amounts as decimals. Each fee is rounded half up to its currency's minor unit before
anything is added, so every total is exactly the sum of the lines it covers, and amounts in
different currencies are never added together: a session whose fees carried two currencies (never
seen, but nothing in the brand's schema forbids it) becomes one line per currency.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import get_currency_precision

from carpulse.charging.names import safe_file_name, safe_name
from carpulse.charging.schemas import (
    ChargingLine,
    CurrencyTotal,
    Fee,
    InvoiceRef,
    LookbackWindow,
    MonthTotal,
)
from carpulse.kit.logs import get_logger
from carpulse.provider.base import ChargingFee, ChargingInvoiceRef, ChargingSession

log = get_logger("carpulse.charging")

_FIRST_FEE_TYPES = ("CHARGING", "PARKING")


def lookback(months: int, now: datetime) -> LookbackWindow:
    """From the same moment `months` calendar months ago (the day clamped to the month's end) until now."""
    end = now.astimezone(UTC)
    index = end.year * 12 + end.month - 1 - months
    year, month = index // 12, index % 12 + 1
    start = end.replace(year=year, month=month, day=min(end.day, calendar.monthrange(year, month)[1]))
    return LookbackWindow(months=months, start=start, end=end)


@cache
def _digits(currency: str | None) -> int:
    return get_currency_precision(currency) if currency else 2


def money(amount: Decimal, currency: str | None) -> Decimal:
    """`amount` rounded half up to the currency's minor unit (two decimals when the currency is unknown)."""
    return amount.quantize(Decimal(1).scaleb(-_digits(currency)), rounding=ROUND_HALF_UP)


def minor_units(amount: Decimal, currency: str | None) -> int:
    return int(money(amount, currency).scaleb(_digits(currency)))


def _fee_order(fee_type: str) -> tuple[int, str]:
    return (_FIRST_FEE_TYPES.index(fee_type), "") if fee_type in _FIRST_FEE_TYPES else (len(_FIRST_FEE_TYPES), fee_type)


def _by_type(pairs: Iterable[tuple[str, Decimal]], currency: str | None) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for fee_type, amount in pairs:
        sums[fee_type] = sums.get(fee_type, Decimal(0)) + amount
    return {fee_type: money(sums[fee_type], currency) for fee_type in sorted(sums, key=_fee_order)}


def invoice_file_name(started_at_site: datetime, invoice: ChargingInvoiceRef) -> str:
    """`YYYY-MM-DD_<the brand's name>.pdf`, dated in the site's time (as the invoice is), safe to write anywhere."""
    given = invoice.file_name or ""
    if given.lower().endswith(".pdf"):
        given = given[:-4]
    stem = safe_name(given, fallback=safe_name(invoice.content_id, fallback="invoice"))
    return safe_file_name(f"{started_at_site:%Y-%m-%d}_{stem}", "pdf", fallback="invoice")


def _fee(fee: ChargingFee, currency: str | None) -> Fee:
    return Fee(
        fee_type=fee.fee_type,
        pricing_type=fee.pricing_type,
        usage=fee.usage,
        unit=fee.unit,
        amount=money(fee.total_due, currency),
        net_amount=money(fee.net_due, currency),
    )


def _lines_of(session: ChargingSession, download_base: str | None) -> list[ChargingLine]:
    started = session.started_at
    if started is None:
        # Histories are read by start time, so every session they hold has one.
        log.warning("charging.session_without_start", session_id=session.session_id)
        return []
    known = next((fee.currency for fee in session.fees if fee.currency), None)
    groups: dict[str | None, list[ChargingFee]] = {known: []}
    for fee in session.fees:
        groups.setdefault(fee.currency or known, []).append(fee)
    invoices = [
        InvoiceRef(
            invoice_id=invoice.content_id,
            file_name=invoice_file_name(started, invoice),
            tesla_file_name=invoice.file_name,  # the published field's name; the brand's own file name
            invoice_type=invoice.invoice_type,
            download_path=f"{download_base}/{invoice.content_id}" if download_base else None,
        )
        for invoice in session.invoices
    ]
    lines = []
    for currency, fees in groups.items():
        normalized = [_fee(fee, currency) for fee in fees]
        charged = money(sum((fee.amount for fee in normalized), Decimal(0)), currency)
        total = money(sum((fee.net_amount for fee in normalized), Decimal(0)), currency)
        lines.append(
            ChargingLine(
                session_id=session.session_id,
                site=session.site,
                country=session.country,
                started_at=started.astimezone(UTC),
                stopped_at=session.stopped_at.astimezone(UTC) if session.stopped_at else None,
                started_at_site=started,
                stopped_at_site=session.stopped_at,
                energy_kwh=sum((fee.usage for fee in fees if (fee.unit or "").lower() == "kwh"), Decimal(0)),
                currency=currency,
                fees=normalized,
                fees_by_type=_by_type(((fee.fee_type, fee.amount) for fee in normalized), currency),
                credit=charged - total,
                total=total,
                total_minor=minor_units(total, currency),
                invoices=invoices,
            )
        )
    return lines


def charging_lines(
    sessions: Iterable[ChargingSession], vin: str, *, download_base: str | None = None
) -> list[ChargingLine]:
    """The vehicle's lines, newest first; sessions of another vehicle are dropped, whatever the brand sent."""
    lines = [
        line
        for session in sessions
        if session.vin is None or session.vin.strip().upper() == vin
        for line in _lines_of(session, download_base)
    ]
    lines.sort(key=lambda line: (line.started_at, line.session_id), reverse=True)
    return lines


def _currency_key(currency: str | None) -> tuple[bool, str]:
    return currency is None, currency or ""


def currency_totals(lines: Sequence[ChargingLine]) -> list[CurrencyTotal]:
    groups: dict[str | None, list[ChargingLine]] = {}
    for line in lines:
        groups.setdefault(line.currency, []).append(line)
    totals = []
    for currency in sorted(groups, key=_currency_key):
        members = groups[currency]
        total = money(sum((line.total for line in members), Decimal(0)), currency)
        totals.append(
            CurrencyTotal(
                currency=currency,
                sessions=len({line.session_id for line in members}),
                invoices=len({invoice.invoice_id for line in members for invoice in line.invoices}),
                energy_kwh=sum((line.energy_kwh for line in members), Decimal(0)),
                fees_by_type=_by_type(
                    ((fee_type, amount) for line in members for fee_type, amount in line.fees_by_type.items()),
                    currency,
                ),
                credit=money(sum((line.credit for line in members), Decimal(0)), currency),
                total=total,
                total_minor=minor_units(total, currency),
            )
        )
    return totals


def month_of(line: ChargingLine) -> str:
    return f"{line.started_at_site:%Y-%m}"


def monthly_totals(lines: Sequence[ChargingLine], window: LookbackWindow) -> list[MonthTotal]:
    """Every month of the window, quiet ones included, by the site-local date each session started."""
    by_month: dict[str, list[ChargingLine]] = {}
    cursor = (window.start.year, window.start.month)
    while cursor <= (window.end.year, window.end.month):
        by_month[f"{cursor[0]:04d}-{cursor[1]:02d}"] = []
        cursor = (cursor[0] + cursor[1] // 12, cursor[1] % 12 + 1)
    for line in lines:
        # A site ahead of UTC can put a session of the window's last instant into the next month.
        by_month.setdefault(month_of(line), []).append(line)
    return [
        MonthTotal(
            month=month,
            sessions=len({line.session_id for line in by_month[month]}),
            energy_kwh=sum((line.energy_kwh for line in by_month[month]), Decimal(0)),
            totals=currency_totals(by_month[month]),
        )
        for month in sorted(by_month)
    ]
