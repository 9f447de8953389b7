"""Charging invoices and history of the vehicles a connect session (or a paid order) may read.

Everything is read from the vehicle's brand when asked (through its `ChargingHistoryReader`); we
store none of it durably, and the history is reused for a few minutes (`history.py`). A download's
preparation (access, VIN, the history) happens before its response starts, so those failures are
problem documents; the ZIP itself is then streamed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.charging.archive import (
    ACCOUNT_WIDE,
    ERRORS_NAME,
    LEDGER_NAME,
    ArchivedInvoice,
    reason_for,
    stream_invoices,
)
from carpulse.charging.errors import InvoiceNotFound
from carpulse.charging.history import ChargingHistory
from carpulse.charging.ledger import LedgerEntry, VehicleLabel, history_csv, ledger_csv
from carpulse.charging.names import FolderNames, safe_name
from carpulse.charging.schemas import MAX_MONTHS, ChargingInvoices, ChargingLine, LookbackWindow
from carpulse.charging.statement import charging_lines, currency_totals, lookback, monthly_totals
from carpulse.database import release_read
from carpulse.errors import CarPulseError
from carpulse.kit.logs import get_logger
from carpulse.kit.privacy import mask_vin
from carpulse.provider.base import BrandInfo, Capability, ChargingHistoryReader, VehicleSummary
from carpulse.provider.errors import ProviderVehicleNotFound
from carpulse.vehicle.errors import VehicleNotFound
from carpulse.vehicle.service import VehicleAccess

log = get_logger("carpulse.charging")

# Invoices fetched from the brand at a time for one archive, and vehicles whose history is read at a
# time for a session archive: polite to a brand that publishes no per-minute limit (reference §8.2),
# and still ~10× faster than one by one.
INVOICE_CONCURRENCY = 10
VEHICLE_CONCURRENCY = 2


@dataclass(frozen=True)
class Download:
    file_name: str
    media_type: str
    content: bytes | AsyncIterator[bytes]


def _label(vehicle: VehicleSummary) -> VehicleLabel:
    return VehicleLabel(display_name=vehicle.display_name or vehicle.model or "", vin=vehicle.vin)


def _folder(vehicle: VehicleSummary) -> str:
    """`{vehicle-name}-{vin-suffix}`: the name is the owner's free text, so it is made safe first."""
    name = safe_name(vehicle.display_name, fallback=safe_name(vehicle.model, fallback="vehicle"), max_bytes=60)
    return f"{name}-{safe_name(vehicle.vin[-6:], fallback='vin')}"


def _dates(window: LookbackWindow) -> str:
    return f"{window.start:%Y-%m-%d}-{window.end:%Y-%m-%d}"


def _describe(line: ChargingLine) -> str:
    site = safe_name(line.site, fallback="unknown site").replace("-", " ")
    return f"session {line.session_id}, {line.started_at_site:%Y-%m-%d %H:%M} at {site}"


def _reader(access: VehicleAccess, *needed: Capability) -> ChargingHistoryReader:
    """The connection's provider as a reader of charging history; a brand without one has none to show."""
    provider = access.provider
    if isinstance(provider, ChargingHistoryReader) and {Capability.charging_history, *needed} <= provider.capabilities:
        return provider
    raise VehicleNotFound("This vehicle's brand shares no charging history here.")


class ChargingService:
    async def _lines(
        self,
        reader: ChargingHistoryReader,
        access: VehicleAccess,
        history: ChargingHistory,
        vehicle: VehicleSummary,
        window: LookbackWindow,
        download_base: str | None = None,
    ) -> list[ChargingLine]:
        sessions = await history.sessions(reader, access.connection_id, vehicle.vin, window)
        return charging_lines(sessions, vehicle.vin, download_base=download_base)

    async def invoices(
        self,
        db: AsyncSession,
        access: VehicleAccess,
        history: ChargingHistory,
        vin: str,
        months: int,
        now: datetime,
        *,
        download_base: str | None = None,
    ) -> ChargingInvoices:
        """The vehicle's sessions in the window with their fees and invoices, and totals per month and currency."""
        vehicle = access.vehicle(vin)
        await release_read(db)
        window = lookback(months, now)
        lines = await self._lines(_reader(access), access, history, vehicle, window, download_base)
        return ChargingInvoices(
            vin=vehicle.vin,
            display_name=vehicle.display_name,
            window=window,
            session_count=len({line.session_id for line in lines}),
            invoice_count=len({invoice.invoice_id for line in lines for invoice in line.invoices}),
            sessions=lines,
            monthly=monthly_totals(lines, window),
            totals=currency_totals(lines),
        )

    async def history_csv(
        self, db: AsyncSession, access: VehicleAccess, history: ChargingHistory, vin: str, months: int, now: datetime
    ) -> Download:
        vehicle = access.vehicle(vin)
        await release_read(db)
        window = lookback(months, now)
        lines = await self._lines(_reader(access), access, history, vehicle, window)
        lines.reverse()  # oldest first, as a ledger reads
        content = history_csv(_label(vehicle), lines)
        log.info("charging.history_exported", vin=mask_vin(vehicle.vin), sessions=len(lines), months=months)
        return Download(f"charging-history-{_folder(vehicle)}-{_dates(window)}.csv", "text/csv; charset=utf-8", content)

    async def invoice_pdf(
        self,
        db: AsyncSession,
        access: VehicleAccess,
        brand: BrandInfo,
        history: ChargingHistory,
        vin: str,
        invoice_id: str,
        now: datetime,
    ) -> Download:
        """One invoice, only if it is in this vehicle's (cached) history of the last 24 months (else 404)."""
        vehicle = access.vehicle(vin)
        await release_read(db)
        reader = _reader(access, Capability.charging_invoices)
        lines = await self._lines(reader, access, history, vehicle, lookback(MAX_MONTHS, now))
        found = next(
            (invoice.file_name for line in lines for invoice in line.invoices if invoice.invoice_id == invoice_id),
            None,
        )
        if found is None:
            raise InvoiceNotFound("This vehicle has no charging invoice with this id in the last 24 months.")
        try:
            pdf = await reader.charging_invoice(invoice_id)
        except ProviderVehicleNotFound:
            raise InvoiceNotFound(f"{brand.label} no longer serves this invoice.") from None
        log.info("charging.invoice_downloaded", vin=mask_vin(vehicle.vin), invoice_id=invoice_id)
        return Download(found, "application/pdf", pdf)

    async def vehicle_archive(
        self,
        db: AsyncSession,
        access: VehicleAccess,
        brand: BrandInfo,
        history: ChargingHistory,
        vin: str,
        months: int,
        now: datetime,
    ) -> Download:
        """A ZIP of the vehicle's invoices and `ledger.csv`, streamed; the history is read before it starts."""
        vehicle = access.vehicle(vin)
        await release_read(db)
        reader = _reader(access, Capability.charging_invoices)
        window = lookback(months, now)
        lines = await self._lines(reader, access, history, vehicle, window)
        # The history may come from the cache: check the tokens once, not in every concurrent invoice fetch.
        await reader.check_authorized()
        return self._archive(
            reader,
            brand,
            [(vehicle, lines)],
            window,
            f"charging-invoices-{_folder(vehicle)}-{_dates(window)}.zip",
            folders=False,
        )

    async def session_archive(
        self,
        db: AsyncSession,
        access: VehicleAccess,
        brand: BrandInfo,
        history: ChargingHistory,
        months: int,
        now: datetime,
    ) -> Download:
        """A ZIP of every readable vehicle's invoices, one folder `{vehicle-name}-{vin-suffix}/` each."""
        vehicles = list(access.vehicles)
        await release_read(db)
        reader = _reader(access, Capability.charging_invoices)
        window = lookback(months, now)
        # One token check (or refresh) before the concurrent reads, rather than one each racing.
        await reader.check_authorized()
        gate = asyncio.Semaphore(VEHICLE_CONCURRENCY)

        async def read(vehicle: VehicleSummary) -> list[ChargingLine]:
            async with gate:
                return await self._lines(reader, access, history, vehicle, window)

        results = await asyncio.gather(*(read(vehicle) for vehicle in vehicles), return_exceptions=True)
        failed = [result for result in results if isinstance(result, BaseException)]
        for error in failed:
            if not isinstance(error, CarPulseError) or isinstance(error, ACCOUNT_WIDE) or len(failed) == len(results):
                raise error
        # One car its brand no longer lists (sold, say) must not cost the others their invoices.
        unread = {
            vehicle.vin: reason_for(result)
            for vehicle, result in zip(vehicles, results, strict=True)
            if isinstance(result, CarPulseError)
        }
        histories = [
            (vehicle, [] if isinstance(result, BaseException) else result)
            for vehicle, result in zip(vehicles, results, strict=True)
        ]
        return self._archive(
            reader, brand, histories, window, f"charging-invoices-{_dates(window)}.zip", folders=True, unread=unread
        )

    def _archive(
        self,
        reader: ChargingHistoryReader,
        brand: BrandInfo,
        histories: list[tuple[VehicleSummary, list[ChargingLine]]],
        window: LookbackWindow,
        file_name: str,
        *,
        folders: bool,
        unread: Mapping[str, str] | None = None,
    ) -> Download:
        root = FolderNames()
        root.claim(LEDGER_NAME)
        root.claim(ERRORS_NAME)
        entries: list[LedgerEntry] = []
        invoices: list[ArchivedInvoice] = []
        directories: list[str] = []
        notes: list[str] = []
        for vehicle, lines in histories:
            names, prefix = root, ""
            if folders:
                names, prefix = FolderNames(), f"{root.claim(_folder(vehicle))}/"
                directories.append(prefix)
            if unread and vehicle.vin in unread:
                notes.append(f"{prefix} is empty: its charging history could not be read ({unread[vehicle.vin]}).")
            paths: dict[str, str] = {}
            for line in reversed(lines):  # oldest first, so that the numbering of clashing names follows time
                for position, invoice in enumerate(line.invoices):
                    if invoice.invoice_id not in paths:
                        paths[invoice.invoice_id] = prefix + names.claim(invoice.file_name)
                        invoices.append(ArchivedInvoice(invoice.invoice_id, paths[invoice.invoice_id], _describe(line)))
                    entries.append(
                        LedgerEntry(
                            _label(vehicle),
                            line,
                            invoice.invoice_id,
                            invoice.invoice_type,
                            paths[invoice.invoice_id],
                            amounts=position == 0,
                        )
                    )
        context: dict[str, object] = {"vehicles": len(histories), "months": window.months}
        if len(histories) == 1:
            context["vin"] = mask_vin(histories[0][0].vin)
        log.info("charging.archive_started", invoices=len(invoices), **context)

        def ledger(missing: Mapping[str, str]) -> bytes:
            return ledger_csv(entries, missing)

        chunks = stream_invoices(
            invoices,
            reader.charging_invoice,
            ledger,
            source=brand.label,
            folders=directories,
            notes=notes,
            concurrency=INVOICE_CONCURRENCY,
            log_context=context,
        )
        return Download(file_name, "application/zip", chunks)


charging = ChargingService()
