"""Vehicle reports, each brand's mount: `/api/v1/{brand}/reports/*`, `/vehicle-report/*`, `/report/{id}`, photos.

No `from __future__ import annotations`: the photo endpoints are defined per scope (session, order)
and FastAPI must see their `Annotated` parameters as objects.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from carpulse.auth.dependencies import AdminAccount
from carpulse.auth.errors import AdminRequired, InvalidToken
from carpulse.connect.dependencies import ConnectContextDep
from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.database import SessionDep
from carpulse.errors import CarPulseError, PayloadTooLarge, RateLimited, ValidationFailed, problem_responses
from carpulse.provider.base import BrandInfo
from carpulse.provider.errors import ProviderError, ProviderUnavailable, VehicleAsleep
from carpulse.rate_limit import limit_by_ip_and_owner, request_client_ip
from carpulse.report.errors import (
    PackageNotPaid,
    PhotoDimensionsTooLarge,
    PhotoLimitReached,
    PhotoNotFound,
    PhotoTooLarge,
    PhotoTypeUnsupported,
    PhotoUnreadable,
    ReportNotFound,
    ReportNotRerunnable,
    ReportNotWaiting,
    ReportRequestConflict,
    VehicleNotRead,
)
from carpulse.report.schemas import (
    AdminReport,
    AdminReportList,
    GenerateReports,
    Photos,
    ReportRequest,
    ReportTask,
    SessionReports,
    TaskQueued,
)
from carpulse.report.service import PHOTO_LIMITS, reports
from carpulse.state import get_state
from carpulse.vehicle.dependencies import get_order_access, get_session_access
from carpulse.vehicle.errors import PaidOrderNotFound, VehicleNotFound
from carpulse.vehicle.service import VehicleAccess

API_V1 = "/api/v1"
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


def report_router(info: BrandInfo) -> APIRouter:
    """One brand's mount of the report routes, `/api/v1/{brand}/...`."""
    router = APIRouter(prefix=f"/{info.name}", tags=["reports"])
    mount = f"{API_V1}/{info.name}"
    vendor_errors = (info.problem(ProviderUnavailable), info.problem(ProviderError))

    @router.post(
        "/reports/generate",
        response_model=SessionReports,
        responses=problem_responses(PaidOrderNotFound, ValidationFailed),
        summary="Start the paid-for reports now (idempotent; payment starts them too)",
    )
    async def generate(
        request: Request, body: GenerateReports, db: SessionDep, context: ConnectContextDep
    ) -> SessionReports:
        return await reports.generate(db, get_state(request), context, body)

    @router.get(
        "/report/{target_id}",
        response_model=SessionReports,
        responses=problem_responses(PaidOrderNotFound, ValidationFailed),
        summary="A session's (or order's) reports: status, vehicles, signed links",
    )
    async def session_reports(
        request: Request, target_id: TargetId, db: SessionDep, context: ConnectContextDep
    ) -> SessionReports:
        return await reports.listing_by_id(db, get_state(request), context, target_id)

    @router.post(
        "/vehicle-report/pdf",
        response_class=Response,
        responses={
            **PDF_RESPONSE,
            **problem_responses(*_ACCESS_ERRORS, RateLimited, VehicleAsleep, VehicleNotRead, *vendor_errors),
        },
        summary="A vehicle report as PDF, rendered while you wait (render budget: `render`, `render_ip`)",
    )
    async def report_pdf(request: Request, body: ReportRequest, db: SessionDep, context: ConnectContextDep) -> Response:
        rendered = await reports.render_now(db, get_state(request), context, body, request_client_ip(request))
        headers = {
            "Content-Disposition": f'attachment; filename="{rendered.filename}"',
            "Cache-Control": "private, no-store",
        }
        if rendered.rate_limit is not None:
            headers.update(rendered.rate_limit.headers())
        return Response(rendered.pdf, media_type="application/pdf", headers=headers)

    @router.post(
        "/vehicle-report/pdf/async",
        response_model=TaskQueued,
        status_code=202,
        responses=problem_responses(*_ACCESS_ERRORS, RateLimited, ReportRequestConflict),
        summary="Queue a vehicle report (one language per task; the same request again returns the same task)",
    )
    async def report_pdf_async(
        request: Request, response: Response, body: ReportRequest, db: SessionDep, context: ConnectContextDep
    ) -> TaskQueued:
        state = get_state(request)
        requested = await reports.request(db, state, context, body, request_client_ip(request))
        if requested.rate_limit is not None:
            response.headers.update(requested.rate_limit.headers())
        report = requested.report
        return TaskQueued(
            task_id=report.id,
            status=report.status,
            status_url=f"{state.settings.base_url}{mount}/reports/status/{report.id}",
        )

    @router.get(
        "/reports/status/{task_id}",
        response_model=ReportTask,
        responses=problem_responses(ReportNotFound, ValidationFailed),
        summary="A report task: queued 0 → processing 10 → uploading 70 → complete 100, waiting_for_vehicle while "
        "its car is asleep, or failed with a reason",
    )
    async def report_status(request: Request, task_id: TaskId, db: SessionDep) -> ReportTask:
        return await reports.status(db, get_state(request), task_id)

    @router.post(
        "/reports/{task_id}/deliver-partial",
        response_model=ReportTask,
        responses=problem_responses(ReportNotFound, ReportNotWaiting, ValidationFailed),
        summary="Take a report that waits for its car now, with what was readable (gaps listed; no refund then)",
    )
    async def deliver_partial(request: Request, task_id: TaskId, db: SessionDep) -> ReportTask:
        return await reports.deliver_partial(db, get_state(request), task_id)

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

    _mount_photos(router, "session/{session_id}", get_session_access, ConnectSessionNotFound)
    _mount_photos(router, "orders/{order_id}", get_order_access, PaidOrderNotFound)
    return router


# --- photos: under the session and under the order (which outlives the session) ---

Files = Annotated[list[UploadFile], File(description="up to 10 JPEG or PNG images per session")]


def _mount_photos(
    router: APIRouter,
    scope: str,
    access_of: Callable[..., Awaitable[VehicleAccess]],
    missing: type[CarPulseError],
) -> None:
    Access = Annotated[VehicleAccess, Depends(access_of)]  # noqa: N806 - a type alias
    path = f"/{scope}/photos"
    name = scope.split("/")[0].removesuffix("s")

    @router.get(
        path,
        response_model=Photos,
        responses=problem_responses(missing, ValidationFailed),
        summary=f"The {name}'s vehicle photos",
    )
    async def list_photos(request: Request, access: Access, db: SessionDep) -> Photos:
        return await reports.photos(db, get_state(request), access)

    @router.post(
        path,
        response_model=Photos,
        status_code=201,
        # Each photo costs a decode: per client IP and per session (or order).
        dependencies=[Depends(limit_by_ip_and_owner("photo_upload", scope[scope.index("{") + 1 : -1]))],
        responses=problem_responses(missing, RateLimited, *_PHOTO_ERRORS),
        summary="Upload vehicle photos (JPEG/PNG, judged by content, EXIF removed); shown at the end of reports",
    )
    async def upload_photos(request: Request, access: Access, db: SessionDep, files: Files) -> Photos:
        # One byte over the limit is enough to know a file is too large.
        uploads = [await upload.read(PHOTO_LIMITS.max_bytes + 1) for upload in files]
        return await reports.add_photos(db, get_state(request), access, uploads)

    @router.delete(
        f"{path}/{{photo_id}}",
        status_code=204,
        responses=problem_responses(missing, PhotoNotFound, ValidationFailed),
        summary=f"Delete one of the {name}'s photos",
    )
    async def delete_photo(request: Request, access: Access, photo_id: PhotoId, db: SessionDep) -> Response:
        await reports.delete_photo(db, get_state(request), access, photo_id)
        return Response(status_code=204)


admin_router = APIRouter(prefix="/admin", tags=["orders-admin"])
AdminId = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@admin_router.get(
    "/orders/{order_id}/reports",
    response_model=AdminReportList,
    responses=problem_responses(InvalidToken, AdminRequired, ReportNotFound),
    summary="Every report of an order: state, stage, attempts, why it failed (admin)",
)
async def admin_order_reports(db: SessionDep, _: AdminAccount, order_id: AdminId) -> AdminReportList:
    return await reports.admin_for_order(db, order_id)


@admin_router.post(
    "/reports/{report_id}/rerun",
    response_model=AdminReport,
    responses=problem_responses(InvalidToken, AdminRequired, ReportNotFound, ReportNotRerunnable),
    summary="Render a failed report of a paid order again, from its first step (admin)",
)
async def rerun_report(request: Request, db: SessionDep, _: AdminAccount, report_id: AdminId) -> AdminReport:
    return await reports.rerun(db, report_id, get_state(request).clock.now())
