"""The CSV files: `ledger.csv` in every invoice ZIP (a row per invoice) and the charging history (a row per session).

Both are UTF-8 with a header row and CRLF line ends (RFC 4180), times in ISO 8601 (site-local with its
offset, and UTC with `Z`), numbers with a dot and no grouping. A text cell that a spreadsheet would run
as a formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`
(OWASP's advice): vehicle names are the owner's text, site names the brand's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from carpulse.charging.schemas import ChargingLine

LEDGER_COLUMNS = (
    "vehicle",
    "vin_suffix",
    "start_local",
    "start_utc",
    "end_local",
    "end_utc",
    "site",
    "country",
    "energy_kwh",
    "charging_fee",
    "parking_fee",
    "other_fees",
    "credit",
    "currency",
    "total",
    "invoice_file",
    "invoice_id",
    "invoice_type",
    "session_id",
    "pdf_status",
    "pdf_error",
)
HISTORY_COLUMNS = (
    "vehicle",
    "vin_suffix",
    "session_id",
    "start_local",
    "start_utc",
    "end_local",
    "end_utc",
    "site",
    "country",
    "energy_kwh",
    "charging_fee",
    "parking_fee",
    "other_fees",
    "credit",
    "currency",
    "total",
    "invoice_ids",
    "invoice_files",
)
PDF_INCLUDED = "included"
PDF_MISSING = "missing"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralized(text: str | None) -> str:
    """A text cell no spreadsheet runs as a formula."""
    if not text:
        return ""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _number(value: Decimal) -> str:
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _local(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


@dataclass(frozen=True)
class VehicleLabel:
    """How a vehicle is named in the files: its display name and the last six characters of its VIN."""

    display_name: str
    vin: str

    @property
    def vin_suffix(self) -> str:
        return self.vin[-6:]


def _money_cells(line: ChargingLine) -> dict[str, str]:
    other = sum(
        (amount for fee_type, amount in line.fees_by_type.items() if fee_type not in ("CHARGING", "PARKING")),
        Decimal(0),
    )
    zero = line.total - line.total  # zero with the line's decimals
    return {
        "energy_kwh": _number(line.energy_kwh),
        "charging_fee": _number(line.fees_by_type.get("CHARGING", zero)),
        "parking_fee": _number(line.fees_by_type.get("PARKING", zero)),
        "other_fees": _number(other + zero),
        "credit": _number(line.credit),
        "currency": line.currency or "",
        "total": _number(line.total),
    }


def _session_cells(vehicle: VehicleLabel, line: ChargingLine) -> dict[str, str]:
    return {
        "vehicle": neutralized(vehicle.display_name),
        "vin_suffix": neutralized(vehicle.vin_suffix),
        "session_id": neutralized(line.session_id),
        "start_local": _local(line.started_at_site),
        "start_utc": _utc(line.started_at),
        "end_local": _local(line.stopped_at_site),
        "end_utc": _utc(line.stopped_at),
        "site": neutralized(line.site),
        "country": neutralized(line.country),
    }


def _csv(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class LedgerEntry:
    """One invoice of the archive: the line it bills and where its PDF is in the ZIP.

    `amounts` is False on the second and later invoice of one session, whose amounts are on the
    first invoice's row already (so that a column's sum is the money actually charged).
    """

    vehicle: VehicleLabel
    line: ChargingLine
    invoice_id: str
    invoice_type: str | None
    path: str
    amounts: bool = True


def ledger_csv(entries: Iterable[LedgerEntry], missing: Mapping[str, str]) -> bytes:
    """`ledger.csv`: one row per invoice, in the order given; `missing` maps invoice ids to why their PDF is absent."""
    rows = []
    for entry in entries:
        row = _session_cells(entry.vehicle, entry.line)
        money = _money_cells(entry.line)
        if not entry.amounts:
            money = dict.fromkeys(money, "") | {"currency": money["currency"]}
        reason = missing.get(entry.invoice_id)
        row |= money | {
            "invoice_file": "" if reason is not None else neutralized(entry.path),
            "invoice_id": neutralized(entry.invoice_id),
            "invoice_type": neutralized(entry.invoice_type),
            "pdf_status": PDF_MISSING if reason is not None else PDF_INCLUDED,
            "pdf_error": neutralized(reason),
        }
        rows.append(row)
    return _csv(LEDGER_COLUMNS, rows)


def history_csv(vehicle: VehicleLabel, lines: Iterable[ChargingLine]) -> bytes:
    """Every line of the window, in the order given, with its invoices' ids and file names."""
    rows = [
        _session_cells(vehicle, line)
        | _money_cells(line)
        | {
            "invoice_ids": neutralized(" ".join(invoice.invoice_id for invoice in line.invoices)),
            "invoice_files": neutralized(" ".join(invoice.file_name for invoice in line.invoices)),
        }
        for line in lines
    ]
    return _csv(HISTORY_COLUMNS, rows)
