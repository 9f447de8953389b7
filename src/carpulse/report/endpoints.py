"""Vehicle reports: `/api/v1/tesla/reports/*`, `/vehicle-report/*`, `/report/{id}`, and report photos."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from carpulse.connect.dependencies import ConnectContextDep
from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.database import SessionDep
from carpulse.errors import PayloadTooLarge, RateLimited, ValidationFailed, problem_responses
from carpulse.provider.tesla.errors import TeslaError, TeslaUnavailable, VehicleAsleep
from carpulse.rate_limit import limit_by_ip
from carpulse.report.errors import (
    PackageNotPaid,
    PhotoDimensionsTooLarge,
    PhotoLimitReached,
    PhotoNotFound,
    PhotoTooLarge,
    PhotoTypeUnsupported,
    PhotoUnreadable,
    ReportNotFound,
)
from carpulse.report.schemas import (
    GenerateReports,
    Photos,
    ReportRequest,
    ReportTask,
    SessionReports,
    TaskQueued,
)
from carpulse.report.service import PHOTO_LIMITS, reports
from carpulse.state import get_state
from carpulse.vehicle.dependencies import OrderAccess, SessionAccess
from carpulse.vehicle.errors import PaidOrderNotFound, VehicleNotFound
from carpulse.vehicle.service import VehicleAccess

router = APIRouter(prefix="/tesla", tags=["reports"])

TaskId = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
TargetId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
PhotoId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
_ACCESS_ERRORS = (PaidOrderNotFound, VehicleNotFound, PackageNotPaid, ValidationFailed)
_PHOTO_ERRORS = (
    PhotoTypeUnsupported,
    PhotoTooLarge,
    PhotoDimensionsTooLarge,
    PhotoUnreadable,
    PhotoLimitReached,
    PayloadTooLarge,
    ValidationFailed,
)
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
}


@router.post(
    "/reports/generate",
    response_model=SessionReports,
    responses=problem_responses(PaidOrderNotFound, ValidationFailed),
    summary="Start the paid-for reports now (idempotent; payment starts them too)",
)
async def generate(request: Request, body: GenerateReports, db: SessionDep) -> SessionReports:
    return await reports.generate(db, get_state(request), body)


@router.get(
    "/report/{target_id}",
    response_model=SessionReports,
    responses=problem_responses(PaidOrderNotFound, ValidationFailed),
    summary="A session's (or order's) reports: status, vehicles, signed links",
)
async def session_reports(request: Request, target_id: TargetId, db: SessionDep) -> SessionReports:
    return await reports.listing_by_id(db, get_state(request), target_id)


@router.post(
    "/vehicle-report/pdf",
    response_class=Response,
    dependencies=[Depends(limit_by_ip("pdf"))],
    responses={
        **PDF_RESPONSE,
        **problem_responses(*_ACCESS_ERRORS, RateLimited, VehicleAsleep, TeslaUnavailable, TeslaError),
    },
    summary="A vehicle report as PDF, rendered while you wait",
)
async def report_pdf(request: Request, body: ReportRequest, db: SessionDep, context: ConnectContextDep) -> Response:
    pdf, filename = await reports.render_now(db, get_state(request), context, body)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


@router.post(
    "/vehicle-report/pdf/async",
    response_model=TaskQueued,
    status_code=202,
    responses=problem_responses(*_ACCESS_ERRORS),
    summary="Queue a vehicle report (one language per task); poll its status",
)
async def report_pdf_async(
    request: Request, body: ReportRequest, db: SessionDep, context: ConnectContextDep
) -> TaskQueued:
    state = get_state(request)
    report = await reports.request(db, state, context, body)
    return TaskQueued(
        task_id=report.id, status_url=f"{state.settings.base_url}/api/v1/tesla/reports/status/{report.id}"
    )


@router.get(
    "/reports/status/{task_id}",
    response_model=ReportTask,
    responses=problem_responses(ReportNotFound, ValidationFailed),
    summary="A report task: queued 0 → processing 10 → uploading 70 → complete 100, or failed with a reason",
)
async def report_status(request: Request, task_id: TaskId, db: SessionDep) -> ReportTask:
    return await reports.status(db, get_state(request), task_id)


@router.get(
    "/reports/{task_id}/html",
    response_class=HTMLResponse,
    responses=problem_responses(ReportNotFound, ValidationFailed),
    summary="A finished report as a web page",
)
async def report_html(request: Request, task_id: TaskId, db: SessionDep) -> HTMLResponse:
    page = await reports.html(db, get_state(request), task_id)
    # The page is self-contained: no scripts, images inline; forbid everything else.
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
    return HTMLResponse(page, headers={"Content-Security-Policy": policy, "Cache-Control": "private, no-store"})


# --- photos: under the session and under the order ---


async def _list_photos(request: Request, access: VehicleAccess, db: SessionDep) -> Photos:
    return await reports.photos(db, get_state(request), access)


async def _upload_photos(request: Request, access: VehicleAccess, db: SessionDep, files: list[UploadFile]) -> Photos:
    uploads = []
    for upload in files:
        uploads.append(await upload.read(PHOTO_LIMITS.max_bytes + 1))
    return await reports.add_photos(db, get_state(request), access, uploads)


Files = Annotated[list[UploadFile], File(description="up to 10 JPEG or PNG images per session")]
_PHOTO_SUMMARY = "Upload vehicle photos (JPEG/PNG, validated by content, EXIF removed); shown at the end of reports"


@router.get(
    "/session/{session_id}/photos",
    response_model=Photos,
    responses=problem_responses(ConnectSessionNotFound, ValidationFailed),
    summary="The session's vehicle photos",
)
async def session_photos(request: Request, access: SessionAccess, db: SessionDep) -> Photos:
    return await _list_photos(request, access, db)


@router.post(
    "/session/{session_id}/photos",
    response_model=Photos,
    status_code=201,
    responses=problem_responses(ConnectSessionNotFound, *_PHOTO_ERRORS),
    summary=_PHOTO_SUMMARY,
)
async def upload_session_photos(request: Request, access: SessionAccess, db: SessionDep, files: Files) -> Photos:
    return await _upload_photos(request, access, db, files)


@router.delete(
    "/session/{session_id}/photos/{photo_id}",
    status_code=204,
    responses=problem_responses(ConnectSessionNotFound, PhotoNotFound, ValidationFailed),
    summary="Delete one of the session's photos",
)
async def delete_session_photo(request: Request, access: SessionAccess, photo_id: PhotoId, db: SessionDep) -> Response:
    await reports.delete_photo(db, get_state(request), access, photo_id)
    return Response(status_code=204)


@router.get(
    "/orders/{order_id}/photos",
    response_model=Photos,
    responses=problem_responses(PaidOrderNotFound, ValidationFailed),
    summary="The order's vehicle photos",
)
async def order_photos(request: Request, access: OrderAccess, db: SessionDep) -> Photos:
    return await _list_photos(request, access, db)


@router.post(
    "/orders/{order_id}/photos",
    response_model=Photos,
    status_code=201,
    responses=problem_responses(PaidOrderNotFound, *_PHOTO_ERRORS),
    summary=_PHOTO_SUMMARY,
)
async def upload_order_photos(request: Request, access: OrderAccess, db: SessionDep, files: Files) -> Photos:
    return await _upload_photos(request, access, db, files)


@router.delete(
    "/orders/{order_id}/photos/{photo_id}",
    status_code=204,
    responses=problem_responses(PaidOrderNotFound, PhotoNotFound, ValidationFailed),
    summary="Delete one of the order's photos",
)
async def delete_order_photo(request: Request, access: OrderAccess, photo_id: PhotoId, db: SessionDep) -> Response:
    await reports.delete_photo(db, get_state(request), access, photo_id)
    return Response(status_code=204)
