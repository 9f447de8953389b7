"""`/orders/{order_id}`: the order page, its live progress fragment, and the files it opens.

An order id is the customer's capability (unguessable): it opens the order after the connect session
has expired, through the order-keyed services the API uses. Another id answers 404, never 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from carpulse.charging.dependencies import ChargingHistoryDep
from carpulse.charging.names import content_disposition
from carpulse.charging.schemas import MAX_MONTHS, ChargingInvoices
from carpulse.charging.service import Download, charging
from carpulse.connect.dependencies import connect_context
from carpulse.connect.schemas import Locale
from carpulse.database import SessionDep
from carpulse.errors import CarPulseError
from carpulse.models import DataSharing
from carpulse.order.service import orders
from carpulse.rate_limit import limit_by_ip_and_owner, request_client_ip
from carpulse.receipt.document import render_credit_note_pdf, render_receipt_pdf
from carpulse.receipt.errors import CreditNoteNotFound, ReceiptNotFound
from carpulse.receipt.service import receipt as receipts
from carpulse.report.errors import (
    PhotoDimensionsTooLarge,
    PhotoLimitReached,
    PhotoNotFound,
    PhotoTooLarge,
    PhotoTypeUnsupported,
    PhotoUnreadable,
    ReportNotFound,
)
from carpulse.report.repository import ReportRepository
from carpulse.report.schemas import ReportRequest
from carpulse.report.service import PHOTO_LIMITS, reports
from carpulse.state import get_state
from carpulse.vehicle.service import VehicleAccess, vehicle_access
from carpulse.web.csrf import verify_csrf
from carpulse.web.orders.view import order_page, order_read, progress_of
from carpulse.web.pages import PageError, page_router, redirect, render_page

router = page_router(prefix="/orders")

OrderId = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
TaskId = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Vin = Annotated[str, Path(min_length=17, max_length=17, pattern=r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")]
PhotoId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
InvoiceId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
CSRF = [Depends(verify_csrf)]
# The report page is the document the API renders: self-contained, no scripts, its images inline.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
# Each upload error, explained in the reader's language with the limit it broke.
PHOTO_ERRORS: dict[type[CarPulseError], str] = {
    PhotoTypeUnsupported: "web.order.photos.error.type",
    PhotoTooLarge: "web.order.photos.error.size",
    PhotoDimensionsTooLarge: "web.order.photos.error.dimensions",
    PhotoUnreadable: "web.order.photos.error.unreadable",
    PhotoLimitReached: "web.order.photos.error.count",
}


def _download(download: Download) -> Response:
    """A file as the API serves it: its safe name as an attachment, never cached on the way."""
    headers = {"Content-Disposition": content_disposition(download.file_name), "Cache-Control": "private, no-store"}
    if isinstance(download.content, bytes):
        return Response(download.content, media_type=download.media_type, headers=headers)
    headers["X-Accel-Buffering"] = "no"
    return StreamingResponse(download.content, media_type=download.media_type, headers=headers)


async def _access(request: Request, db: SessionDep, order_id: str) -> VehicleAccess:
    """The order's vehicles while it opens their data; else the order page explains why not (404 for a stranger)."""
    await order_read(db, get_state(request), order_id)
    try:
        return await vehicle_access.for_order(db, connect_context(get_state(request)), order_id)
    except CarPulseError:
        raise PageError(404, "web.order.closed", action=("web.order.action.back", f"/orders/{order_id}")) from None


async def _page(request: Request, db: SessionDep, order_id: str, status_code: int = 200, **extra: object) -> Response:
    page = await order_page(db, get_state(request), order_id)
    return render_page(request, "pages/orders/order.html", status_code=status_code, page=page, **extra)


@router.get("/{order_id}")
async def order(request: Request, order_id: OrderId, db: SessionDep) -> Response:
    return await _page(request, db, order_id)


@router.get("/{order_id}/progress")
async def progress(request: Request, order_id: OrderId, db: SessionDep) -> Response:
    """The progress block alone, polled by the page (htmx) until every report is final."""
    state = get_state(request)
    await order_read(db, state, order_id)
    response = render_page(
        request,
        "pages/orders/progress.html",
        progress=await progress_of(db, state, order_id),
        order_id=order_id,
        fragment=True,
    )
    return response


# --- reports ---


async def _report(request: Request, db: SessionDep, order_id: str, task_id: str) -> None:
    """404 unless the task is one of this order's reports (a task id of another order opens nothing here)."""
    await order_read(db, get_state(request), order_id)
    report = await ReportRepository(db).get(task_id)
    if report is None or report.order_id != order_id:
        raise PageError(404, "web.order.report.not_found", action=("web.order.action.back", f"/orders/{order_id}"))


@router.get("/{order_id}/reports/{task_id}")
async def report_page(request: Request, order_id: OrderId, task_id: TaskId, db: SessionDep) -> Response:
    await _report(request, db, order_id, task_id)
    try:
        html = await reports.html(db, get_state(request), task_id)
    except ReportNotFound:
        raise PageError(
            404, "web.order.report.not_ready", action=("web.order.action.back", f"/orders/{order_id}")
        ) from None
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "private, no-store"})


@router.get("/{order_id}/reports/{task_id}/pdf")
async def report_pdf(request: Request, order_id: OrderId, task_id: TaskId, db: SessionDep) -> Response:
    await _report(request, db, order_id, task_id)
    state = get_state(request)
    task = await reports.status(db, state, task_id)
    report = await ReportRepository(db).get(task_id)
    data = await state.storage.get(report.pdf_key) if report is not None and report.pdf_key else None
    if task.download_url is None or data is None:
        raise PageError(404, "web.order.report.not_ready", action=("web.order.action.back", f"/orders/{order_id}"))
    return _download(Download(f"carpulse-{task.vin}-{task.locale}-{task.package}.pdf", "application/pdf", data))


@router.post("/{order_id}/reports", dependencies=CSRF)
async def request_report(
    request: Request,
    order_id: OrderId,
    db: SessionDep,
    vin: Annotated[str, Form(min_length=11, max_length=17, pattern=r"^[A-HJ-NPR-Za-hj-npr-z0-9]+$")],
    locale: Annotated[Locale, Form()],
) -> Response:
    """Another language of a vehicle's report: queued as its own task, followed live on the order page."""
    state = get_state(request)
    await _access(request, db, order_id)
    body = ReportRequest(order_id=order_id, vin=vin, locale=locale)
    requested = await reports.request(db, state, connect_context(state), body, request_client_ip(request))
    return redirect(request, f"/orders/{order_id}#report-{requested.report.id}")


@router.post("/{order_id}/reports/{task_id}/partial", dependencies=CSRF)
async def deliver_partial(request: Request, order_id: OrderId, task_id: TaskId, db: SessionDep) -> Response:
    """Take a report that waits for its car now, with what was readable."""
    await _report(request, db, order_id, task_id)
    await reports.deliver_partial(db, get_state(request), task_id)
    return redirect(request, f"/orders/{order_id}#report-{task_id}")


# --- receipt and credit note ---


@router.get("/{order_id}/receipt")
async def receipt_page(request: Request, order_id: OrderId, db: SessionDep) -> Response:
    await order_read(db, get_state(request), order_id)
    try:
        document = await receipts.get(db, order_id)
    except ReceiptNotFound:
        raise PageError(
            404, "web.order.receipt.none", action=("web.order.action.back", f"/orders/{order_id}")
        ) from None
    try:
        note = await receipts.get_credit_note(db, order_id)
    except CreditNoteNotFound:
        note = None
    return render_page(request, "pages/orders/receipt.html", receipt=document, credit_note=note, order_id=order_id)


@router.get("/{order_id}/receipt/pdf", dependencies=[Depends(limit_by_ip_and_owner("pdf", "order_id"))])
async def receipt_pdf(request: Request, order_id: OrderId, db: SessionDep) -> Response:
    await order_read(db, get_state(request), order_id)
    try:
        document = await receipts.get(db, order_id)
    except ReceiptNotFound:
        raise PageError(
            404, "web.order.receipt.none", action=("web.order.action.back", f"/orders/{order_id}")
        ) from None
    return _download(Download(f"receipt-{document.number}.pdf", "application/pdf", await render_receipt_pdf(document)))


@router.get("/{order_id}/credit-note/pdf", dependencies=[Depends(limit_by_ip_and_owner("pdf", "order_id"))])
async def credit_note_pdf(request: Request, order_id: OrderId, db: SessionDep) -> Response:
    await order_read(db, get_state(request), order_id)
    try:
        note = await receipts.get_credit_note(db, order_id)
    except CreditNoteNotFound:
        raise PageError(
            404, "web.order.credit_note.none", action=("web.order.action.back", f"/orders/{order_id}")
        ) from None
    pdf = await render_credit_note_pdf(note)
    return _download(Download(f"credit-note-{note.number}.pdf", "application/pdf", pdf))


# --- charging invoices ---


@router.get("/{order_id}/charging", dependencies=[Depends(limit_by_ip_and_owner("charging_history", "order_id"))])
async def charging_page(request: Request, order_id: OrderId, db: SessionDep, history: ChargingHistoryDep) -> Response:
    access = await _access(request, db, order_id)
    now = get_state(request).clock.now()
    tables: list[tuple[str, ChargingInvoices | None, str | None]] = []
    vins = [vehicle.vin for vehicle in access.vehicles]
    for vin in vins:
        try:
            tables.append((vin, await charging.invoices(db, access, history, vin, MAX_MONTHS, now), None))
        except CarPulseError as exc:
            tables.append((vin, None, exc.detail or exc.title))
    return render_page(
        request, "pages/orders/charging.html", order_id=order_id, tables=tables, brand=access.brand.label
    )


@router.get(
    "/{order_id}/charging/{vin}/invoices/{invoice_id}.pdf",
    dependencies=[Depends(limit_by_ip_and_owner("invoice", "order_id"))],
)
async def invoice_pdf(
    request: Request, order_id: OrderId, vin: Vin, invoice_id: InvoiceId, db: SessionDep, history: ChargingHistoryDep
) -> Response:
    access = await _access(request, db, order_id)
    now = get_state(request).clock.now()
    return _download(await charging.invoice_pdf(db, access, access.brand, history, vin, invoice_id, now))


@router.get("/{order_id}/charging/{vin}.zip", dependencies=[Depends(limit_by_ip_and_owner("invoice_zip", "order_id"))])
async def vehicle_zip(
    request: Request, order_id: OrderId, vin: Vin, db: SessionDep, history: ChargingHistoryDep
) -> Response:
    access = await _access(request, db, order_id)
    now = get_state(request).clock.now()
    return _download(await charging.vehicle_archive(db, access, access.brand, history, vin, MAX_MONTHS, now))


@router.get(
    "/{order_id}/charging/{vin}.csv", dependencies=[Depends(limit_by_ip_and_owner("charging_history", "order_id"))]
)
async def vehicle_csv(
    request: Request, order_id: OrderId, vin: Vin, db: SessionDep, history: ChargingHistoryDep
) -> Response:
    access = await _access(request, db, order_id)
    now = get_state(request).clock.now()
    return _download(await charging.history_csv(db, access, history, vin, MAX_MONTHS, now))


@router.get("/{order_id}/charging.zip", dependencies=[Depends(limit_by_ip_and_owner("invoice_zip", "order_id"))])
async def all_zip(request: Request, order_id: OrderId, db: SessionDep, history: ChargingHistoryDep) -> Response:
    access = await _access(request, db, order_id)
    now = get_state(request).clock.now()
    return _download(await charging.session_archive(db, access, access.brand, history, MAX_MONTHS, now))


# --- photos ---


@router.post(
    "/{order_id}/photos",
    dependencies=[*CSRF, Depends(limit_by_ip_and_owner("photo_upload", "order_id"))],
)
async def upload_photos(
    request: Request, order_id: OrderId, db: SessionDep, files: Annotated[list[UploadFile], File()]
) -> Response:
    access = await _access(request, db, order_id)
    uploads = [await upload.read(PHOTO_LIMITS.max_bytes + 1) for upload in files if upload.filename or upload.size]
    uploads = [data for data in uploads if data]
    if not uploads:
        return await _page(request, db, order_id, 422, photo_error="web.order.photos.error.empty")
    try:
        await reports.add_photos(db, get_state(request), access, uploads)
    except tuple(PHOTO_ERRORS) as exc:
        await db.rollback()
        return await _page(request, db, order_id, exc.status, photo_error=PHOTO_ERRORS[type(exc)])
    return redirect(request, f"/orders/{order_id}#photos")


@router.post("/{order_id}/photos/{photo_id}/delete", dependencies=CSRF)
async def delete_photo(request: Request, order_id: OrderId, photo_id: PhotoId, db: SessionDep) -> Response:
    access = await _access(request, db, order_id)
    try:
        await reports.delete_photo(db, get_state(request), access, photo_id)
    except PhotoNotFound:
        raise PageError(
            404, "web.order.photos.not_found", action=("web.order.action.back", f"/orders/{order_id}")
        ) from None
    return redirect(request, f"/orders/{order_id}#photos")


# --- data sharing ---


@router.post("/{order_id}/data-sharing", dependencies=CSRF)
async def data_sharing(
    request: Request, order_id: OrderId, db: SessionDep, sharing: Annotated[DataSharing, Form()]
) -> Response:
    await order_read(db, get_state(request), order_id)
    await orders.share_data(db, order_id, sharing)
    return redirect(request, f"/orders/{order_id}?saved=sharing#data-sharing")
