"""A ZIP of invoice PDFs, streamed while the PDFs are still being fetched.

A few workers fetch invoices concurrently and hand each PDF over through a queue of the same size, so
at most about twice `concurrency` PDFs are in memory however many the archive holds, and a slow
reader slows the fetching down instead of piling PDFs up. Each PDF is written to the archive as it
arrives (zipstream-ng: local header, data, data descriptor; the central directory at the end). An
invoice that cannot be fetched does not stop the archive: it is named in `errors.txt`, and the
ledger, written last, marks its row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zipstream import ZIP_DEFLATED, ZIP_STORED, ZipStream  # type: ignore[import-untyped]

from carpulse.errors import CarPulseError
from carpulse.kit.logs import get_logger
from carpulse.provider.errors import (
    MissingScopes,
    ProviderNotRegistered,
    ProviderRateLimited,
    ReauthorizationRequired,
)

log = get_logger("carpulse.charging")

LEDGER_NAME = "ledger.csv"
ERRORS_NAME = "errors.txt"
# Failures that every further call for this account would meet as well: stop asking the brand.
ACCOUNT_WIDE = (ProviderRateLimited, ReauthorizationRequired, MissingScopes, ProviderNotRegistered)


@dataclass(frozen=True)
class ArchivedInvoice:
    invoice_id: str
    path: str  # inside the archive, folder included
    description: str  # for errors.txt: session, date, site


def reason_for(error: CarPulseError) -> str:
    detail = error.detail if error.detail and error.detail != error.title else ""
    return f"{error.title}: {detail}" if detail else error.title


def _errors_text(
    invoices: Sequence[ArchivedInvoice], missing: Mapping[str, str], notes: Sequence[str], source: str
) -> str:
    lines = [*notes, ""] if notes else []
    if missing:
        lines += [
            f"{len(missing)} of {len(invoices)} invoices could not be fetched from {source} "
            "and are not in this archive.",
            f"Their rows in {LEDGER_NAME} say pdf_status=missing. "
            "Download them one by one later, or the archive again.",
            "",
        ]
    lines += [
        f"{invoice.path} (invoice {invoice.invoice_id}, {invoice.description}): {missing[invoice.invoice_id]}"
        for invoice in invoices
        if invoice.invoice_id in missing
    ]
    return "\r\n".join(lines) + "\r\n"


def _written(archive: ZipStream) -> bytes:
    """The bytes of the entries queued since the last call (one chunk per entry, not one per header)."""
    return b"".join(archive.all_files())


async def stream_invoices(
    invoices: Sequence[ArchivedInvoice],
    fetch: Callable[[str], Awaitable[bytes]],
    ledger: Callable[[Mapping[str, str]], bytes],
    *,
    source: str,
    folders: Sequence[str] = (),
    notes: Sequence[str] = (),
    concurrency: int = 8,
    log_context: Mapping[str, Any] | None = None,
) -> AsyncGenerator[bytes, None]:
    """The archive's bytes: `folders` (empty directory entries first), each PDF as it arrives, then the
    ledger (built from the invoice ids found missing and why), `errors.txt` if any are (or there are
    `notes` on what else is missing), and the central directory. `source` names who serves the invoices
    (the brand's label), for people reading `errors.txt`."""
    started = time.perf_counter()
    context = dict(log_context or {})
    archive = ZipStream(compress_type=ZIP_DEFLATED)
    for folder in folders:
        archive.mkdir(folder)
    if folders:
        yield _written(archive)
    arrived: asyncio.Queue[tuple[ArchivedInvoice, bytes | None, str | None]] = asyncio.Queue(maxsize=concurrency)
    queued = iter(invoices)  # shared by the workers: each invoice is taken once
    stopped: list[str] = []

    async def worker() -> None:
        for invoice in queued:
            if stopped:
                await arrived.put((invoice, None, f"not fetched after an earlier failure: {stopped[0]}"))
                continue
            pdf: bytes | None = None
            reason: str | None = None
            try:
                pdf = await fetch(invoice.invoice_id)
            except CarPulseError as exc:
                reason = reason_for(exc)
                if isinstance(exc, ACCOUNT_WIDE):
                    stopped.append(reason)
            except Exception:
                # One broken invoice must not cost the customer the other hundreds.
                log.exception("charging.invoice_fetch_crashed", invoice_id=invoice.invoice_id, **context)
                reason = "an unexpected error on our side; it has been logged"
            await arrived.put((invoice, pdf, reason))

    workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(invoices)))]
    missing: dict[str, str] = {}
    size = 0
    try:
        for _ in range(len(invoices)):
            invoice, pdf, reason = await arrived.get()
            if pdf is None:
                missing[invoice.invoice_id] = reason or "unknown"
                log.warning("charging.invoice_missing", invoice_id=invoice.invoice_id, reason=reason, **context)
                continue
            archive.add(pdf, invoice.path, compress_type=ZIP_STORED)  # PDFs are compressed already
            del pdf
            chunk = _written(archive)
            size += len(chunk)
            yield chunk
        archive.add(ledger(missing), LEDGER_NAME)
        if missing or notes:
            archive.add(_errors_text(invoices, missing, notes, source), ERRORS_NAME)
        tail = _written(archive) + b"".join(archive.footer())
        size += len(tail)
        yield tail
        log.info(
            "charging.archive_streamed",
            invoices=len(invoices) - len(missing),
            missing=len(missing),
            bytes=size,
            seconds=round(time.perf_counter() - started, 3),
            **context,
        )
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
