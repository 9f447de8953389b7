"""Reports: created when an order is paid, or asked for in another language; polled; downloaded by signed link."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.repository import VehicleConnectionRepository
from carpulse.connect.service import ConnectContext, connect
from carpulse.database import release_read
from carpulse.kit.logs import get_logger
from carpulse.kit.privacy import mask_vin
from carpulse.models import Order, Report, ReportPhoto, ReportStatus, VehicleConnection
from carpulse.order.repository import OrderRepository
from carpulse.rate_limit import RateLimitDecision
from carpulse.receipt.repository import ReceiptRepository
from carpulse.report.errors import (
    PackageNotPaid,
    PhotoNotFound,
    ReportNotFound,
    ReportNotRerunnable,
    ReportNotWaiting,
    ReportRequestConflict,
)
from carpulse.report.photo import PhotoLimits, check_photo_count, prepare_photo_off_loop
from carpulse.report.pipeline import RENDER_JOB, content_package, document_inputs, render_off_loop
from carpulse.report.repository import PhotoRepository, ReportRepository, SnapshotRepository
from carpulse.report.schemas import (
    AdminReport,
    AdminReportList,
    Photo,
    Photos,
    ReportRequest,
    ReportTarget,
    ReportTask,
    SessionReports,
    VehicleFacts,
    VehicleReports,
)
from carpulse.state import State
from carpulse.vehicle.errors import PaidOrderNotFound
from carpulse.vehicle.service import READABLE_ORDER_STATES, VehicleAccess, order_opens_data, vehicle_access
from carpulse.worker import enqueue_after_commit

log = get_logger("carpulse.report")

PHOTO_LIMITS = PhotoLimits()
WAITING_MESSAGE = (
    "Your car is asleep or offline, so we could not read its odometer, battery, range and software version. "
    "Open the {brand} app to wake the car; we try again automatically until {until}.{refund} "
    "You can also ask for the report with what was readable."
)
REFUND_PROMISE = " If it cannot be read by then, the payment is refunded in full."


@dataclass(frozen=True)
class RequestedReport:
    report: Report
    rate_limit: RateLimitDecision | None = None  # None when nothing was counted (a task reused, limits off)


@dataclass(frozen=True)
class RenderedNow:
    pdf: bytes
    filename: str
    rate_limit: RateLimitDecision | None = None


class ReportService:
    async def paid_order(self, db: AsyncSession, context: ConnectContext, target: ReportTarget) -> Order:
        """The paid order behind an order id, or a live session's; anything else is 404 (no existence oracle)."""
        if target.order_id is not None:
            order = await OrderRepository(db).get(target.order_id)
        else:
            assert target.session_id is not None
            order = await self._paid_order_of_session(db, context, target.session_id)
        if order is None or not order_opens_data(order, context.clock.now(), context.connection_days):
            raise PaidOrderNotFound("No paid order for this session or order id.")
        return order

    async def _paid_order_of_session(self, db: AsyncSession, context: ConnectContext, session_id: str) -> Order | None:
        """A session id leads to its order only while the session lives (30 minutes, never longer)."""
        if await connect.live(context, session_id) is None:
            return None
        candidates = await OrderRepository(db).for_session(session_id)
        return next((order for order in candidates if order.status in READABLE_ORDER_STATES), None)

    async def listing_by_id(
        self, db: AsyncSession, state: State, context: ConnectContext, target_id: str
    ) -> SessionReports:
        """`/report/{id}` takes an order id or a live session's id."""
        order = await OrderRepository(db).get(target_id)
        if order is None:
            order = await self._paid_order_of_session(db, context, target_id)
        if order is None or not order_opens_data(order, context.clock.now(), context.connection_days):
            raise PaidOrderNotFound("No paid order for this session or order id.")
        return await self._listing(db, state, order)

    async def create_for_order(self, db: AsyncSession, state: State, order_id: str) -> list[str]:
        """One report per vehicle paid for, in the order's language; returns those still to render."""
        order = await OrderRepository(db).get(order_id)
        if order is None or order.status not in READABLE_ORDER_STATES:
            return []
        now = state.clock.now()
        repository = ReportRepository(db)
        for vin in order.vins:
            await repository.add_for_order(
                {
                    "id": secrets.token_urlsafe(32),
                    "order_id": order.id,
                    "connection_id": order.session_id,
                    "vin": vin,
                    "locale": order.locale,
                    "package": content_package(order.package),
                    "origin": "order",
                    "dedupe_key": f"{order.id}:{vin}",
                    "status": ReportStatus.queued,
                    "progress": 0,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        return [report.id for report in await repository.for_order(order.id) if report.status is ReportStatus.queued]

    async def generate(
        self, db: AsyncSession, state: State, context: ConnectContext, target: ReportTarget
    ) -> SessionReports:
        """Start the paid-for reports now (idempotent: a second call starts nothing new)."""
        order = await self.paid_order(db, context, target)
        for report_id in await self.create_for_order(db, state, order.id):
            enqueue_after_commit(db, RENDER_JOB, report_id=report_id)
        await db.flush()
        return await self._listing(db, state, order)

    async def _listing(self, db: AsyncSession, state: State, order: Order) -> SessionReports:
        reports = await ReportRepository(db).for_order(order.id)
        receipt = await ReceiptRepository(db).for_order(order.id)
        connection = await VehicleConnectionRepository(db).get(order.session_id)
        names = {v.get("vin"): v for v in (connection.vehicles if connection else [])}
        brand = self._label(state, connection)
        vehicles = []
        for vin in order.vins:
            rows = [report for report in reports if report.vin == vin]
            paid_for = next((report for report in rows if report.origin == "order"), None)
            info = names.get(vin, {})
            vehicles.append(
                VehicleReports(
                    vin=vin,
                    display_name=info.get("display_name"),
                    model=info.get("model"),
                    status=paid_for.status if paid_for else ReportStatus.queued,
                    facts=await self._facts(db, order.session_id, vin),
                    reports=[self.task(state, report, brand) for report in rows],
                )
            )
        statuses = {vehicle.status for vehicle in vehicles}
        overall = (
            "failed"
            if ReportStatus.failed in statuses
            else "waiting_for_vehicle"
            if ReportStatus.waiting_for_vehicle in statuses
            else "complete"
            if statuses == {ReportStatus.complete}
            else "processing"
            if any(r.status is not ReportStatus.queued for r in reports)
            else "pending"
        )
        return SessionReports(
            order_id=order.id,
            order_status=order.status.value,
            package=order.package,
            status=overall,
            vehicles=vehicles,
            # The receipt's own id: a receipt handed to an accountant opens the receipt, not the order.
            receipt_url=f"{state.settings.base_url}/api/v1/payment/receipt/{receipt.id}" if receipt else None,
        )

    async def _facts(self, db: AsyncSession, connection_id: str, vin: str) -> VehicleFacts | None:
        record = await SnapshotRepository(db).latest(connection_id, vin)
        if record is None:
            return None
        data = record.data

        def value(name: str) -> Any:
            reading = data.get(name)
            return reading.get("value") if isinstance(reading, dict) else None

        return VehicleFacts(
            captured_at=record.captured_at,
            odometer_km=value("odometer"),
            battery_level_percent=value("battery_level"),
            range_km=value("range"),
            software_version=value("software_version"),
            online_state=str(data.get("online_state", "unknown")),
            gaps=sorted(data.get("gaps") or {}),
        )

    def task(self, state: State, report: Report, brand: str) -> ReportTask:
        """One report's task as its customer sees it; `brand` names the car's brand in its message."""
        ttl = state.settings.storage.signed_url_ttl_seconds
        complete = report.status is ReportStatus.complete and report.pdf_key is not None
        waiting = report.status is ReportStatus.waiting_for_vehicle
        until = report.created_at + timedelta(seconds=state.settings.report.retry_window_seconds)
        name = f"carpulse-{report.vin}-{report.locale}-{report.package}"
        return ReportTask(
            task_id=report.id,
            status=report.status,
            progress=report.progress,
            vin=report.vin,
            locale=report.locale,
            package="basic" if report.package == "basic" else "pro",
            failure_reason=report.failure_reason,
            message=WAITING_MESSAGE.format(
                brand=brand,
                until=until.strftime("%Y-%m-%d %H:%M UTC"),
                refund=REFUND_PROMISE if report.origin == "order" else "",
            )
            if waiting
            else None,
            retry_at=report.retry_at
            if report.status in (ReportStatus.queued, ReportStatus.waiting_for_vehicle)
            else None,
            waiting_until=until if waiting else None,
            unread_facts=list(report.unread_facts or []),
            partial=report.partial_accepted_at is not None,
            created_at=report.created_at,
            completed_at=report.completed_at,
            download_url=state.storage.signed_url(report.pdf_key, ttl, f"{name}.pdf")
            if complete and report.pdf_key
            else None,
            html_url=state.storage.signed_url(report.html_key, ttl) if complete and report.html_key else None,
            expires_at=state.clock.now() + timedelta(seconds=ttl) if complete else None,
        )

    async def _access(
        self, db: AsyncSession, context: ConnectContext, body: ReportRequest
    ) -> tuple[Order, VehicleAccess, str]:
        order = await self.paid_order(db, context, body)
        access = await vehicle_access.for_order(db, context, order.id)
        access.vehicle(body.vin)  # 404 for a VIN the order did not pay for
        paid = content_package(order.package)
        package = body.package or paid
        if package == "pro" and paid != "pro":
            raise PackageNotPaid("This order paid for Basic reports; a Pro report needs a Pro order.")
        return order, access, package

    async def request(
        self, db: AsyncSession, state: State, context: ConnectContext, body: ReportRequest, client_ip: str
    ) -> RequestedReport:
        """Queue one report (one language); each language is its own task, so nine run side by side.

        Asking again for a report that is queued or rendering returns that task; so does asking for
        a finished one while its vehicle data is fresh (`report.snapshot_max_age_seconds`), since a
        new render would show the same data. Neither costs render budget.
        """
        order, access, package = await self._access(db, context, body)
        vin, locale = access.vehicle(body.vin).vin, body.locale.value
        repository = ReportRepository(db)
        existing = await self._existing(repository, state, order.id, vin, locale, package)
        if existing is not None:
            log.info("report.request_reused", report=existing.id[:8], status=existing.status.value)
            return RequestedReport(existing, None)
        decision = await self._spend_render_budget(state, order.id, client_ip)
        now = state.clock.now()
        report_id = secrets.token_urlsafe(32)
        values = {
            "id": report_id,
            "order_id": order.id,
            "connection_id": access.connection_id,
            "vin": vin,
            "locale": locale,
            "package": package,
            "origin": "request",
            "status": ReportStatus.queued,
            "progress": 0,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        if not await repository.add_request(values):
            # An identical request committed first (the partial unique index refused this one): its task.
            existing = await self._existing(repository, state, order.id, vin, locale, package)
            if existing is None:
                raise ReportRequestConflict("An identical report request just finished or failed; ask again.")
            return RequestedReport(existing, decision)
        report = await repository.get(report_id)
        assert report is not None
        enqueue_after_commit(db, RENDER_JOB, report_id=report.id)
        log.info("report.requested", report=report.id[:8], vin=mask_vin(report.vin), locale=report.locale)
        return RequestedReport(report, decision)

    async def _existing(
        self, repository: ReportRepository, state: State, order_id: str, vin: str, locale: str, package: str
    ) -> Report | None:
        open_report = await repository.same_request(order_id, vin, locale, package)
        if open_report is not None:
            return open_report
        return await self._fresh_finished(repository, state, order_id, vin, locale, package)

    async def _fresh_finished(
        self, repository: ReportRepository, state: State, order_id: str, vin: str, locale: str, package: str
    ) -> Report | None:
        max_age = state.settings.report.snapshot_max_age_seconds
        if max_age == 0:
            return None
        since = state.clock.now() - timedelta(seconds=max_age)
        return await repository.finished(order_id, vin, locale, package, since)

    async def _spend_render_budget(self, state: State, order_id: str, client_ip: str) -> RateLimitDecision | None:
        """Count one render against the client's IP and the order (`render_ip`, `render`); the tighter one
        is what the response's RateLimit-* headers show."""
        by_ip = await state.rate_limiter.hit("render_ip", client_ip)
        by_order = await state.rate_limiter.hit("render", order_id)
        decisions = [decision for decision in (by_order, by_ip) if decision is not None]
        return min(decisions, key=lambda decision: decision.remaining, default=None)

    async def render_now(
        self, db: AsyncSession, state: State, context: ConnectContext, body: ReportRequest, client_ip: str
    ) -> RenderedNow:
        """The PDF, rendered while the caller waits (in the document pool, never on the event loop).

        A finished report of the same kind on fresh data is sent as stored, without a render or budget.
        """
        order, access, package = await self._access(db, context, body)
        vin, locale = access.vehicle(body.vin).vin, body.locale.value
        filename = f"carpulse-{vin}-{locale}-{package}.pdf"
        finished = await self._fresh_finished(ReportRepository(db), state, order.id, vin, locale, package)
        if finished is not None and finished.pdf_key is not None:
            stored = await state.storage.get(finished.pdf_key)
            if stored is not None:
                return RenderedNow(stored, filename, None)
        decision = await self._spend_render_budget(state, order.id, client_ip)
        inputs, _ = await document_inputs(db, state, access, vin, package, locale, order.id[:12])
        await db.commit()  # keep the acquired data for the next language, and hold no lock while rendering
        rendered = await render_off_loop(inputs)
        return RenderedNow(rendered.pdf, filename, decision)

    async def _open_report(self, db: AsyncSession, state: State, task_id: str) -> Report | None:
        """A task id opens its report while its order opens its data (paid, not refunded, in its window)."""
        report = await ReportRepository(db).get(task_id)
        if report is None:
            return None
        order = await OrderRepository(db).get(report.order_id)
        days = state.settings.connect.connection_days
        return report if order is not None and order_opens_data(order, state.clock.now(), days) else None

    @staticmethod
    def _label(state: State, connection: VehicleConnection | None) -> str:
        """The brand of an order's connection by name; a connection already deleted names none."""
        if connection is None or connection.provider not in state.providers:
            return "car's"
        return state.providers.get(connection.provider).info.label

    async def _brand_of(self, db: AsyncSession, state: State, report: Report) -> str:
        order = await OrderRepository(db).get(report.order_id)
        connection = await VehicleConnectionRepository(db).get(order.session_id) if order is not None else None
        return self._label(state, connection)

    async def status(self, db: AsyncSession, state: State, task_id: str) -> ReportTask:
        report = await self._open_report(db, state, task_id)
        if report is None:
            raise ReportNotFound("No report task with this id.")
        return self.task(state, report, await self._brand_of(db, state, report))

    async def deliver_partial(self, db: AsyncSession, state: State, task_id: str) -> ReportTask:
        """The customer takes the report with what was readable: rendered now with the gaps listed, no refund."""
        report = await self._open_report(db, state, task_id)
        if report is None:
            raise ReportNotFound("No report task with this id.")
        if report.status is not ReportStatus.waiting_for_vehicle and report.partial_accepted_at is None:
            raise ReportNotWaiting(
                f"This report is {report.status.value}; only a report waiting for its car can be delivered "
                "with what was readable."
            )
        if report.status is ReportStatus.waiting_for_vehicle:
            now = state.clock.now()
            # Conditional on the status: a render that claimed it meanwhile finishes or puts it back itself.
            if await ReportRepository(db).accept_partial(report.id, now):
                enqueue_after_commit(db, RENDER_JOB, report_id=report.id)
                log.info("report.partial_accepted", report=report.id[:8])
            await db.refresh(report)
        return self.task(state, report, await self._brand_of(db, state, report))

    async def html(self, db: AsyncSession, state: State, task_id: str) -> str:
        report = await self._open_report(db, state, task_id)
        if report is None or report.status is not ReportStatus.complete or report.html_key is None:
            raise ReportNotFound("No finished report with this id.")
        data = await state.storage.get(report.html_key)
        if data is None:
            raise ReportNotFound("This report's files are past their retention period.")
        return data.decode()

    # --- photos ---

    def _photo(self, state: State, photo: ReportPhoto) -> Photo:
        return Photo(
            id=photo.id,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size=photo.size,
            created_at=photo.created_at,
            url=state.storage.signed_url(photo.storage_key, state.settings.storage.signed_url_ttl_seconds),
        )

    async def photos(self, db: AsyncSession, state: State, access: VehicleAccess) -> Photos:
        rows = await PhotoRepository(db).for_connection(access.connection_id)
        return Photos(photos=[self._photo(state, row) for row in rows], limit=PHOTO_LIMITS.max_photos_per_session)

    async def add_photos(self, db: AsyncSession, state: State, access: VehicleAccess, uploads: list[bytes]) -> Photos:
        """Validate every upload first (all or nothing), then store them re-encoded without metadata."""
        repository = PhotoRepository(db)
        existing = await repository.count(access.connection_id)
        check_photo_count(existing + len(uploads) - 1, PHOTO_LIMITS)
        await release_read(db)
        prepared = [await prepare_photo_off_loop(data, PHOTO_LIMITS) for data in uploads]
        now = state.clock.now()
        seen: set[str] = set()
        for photo in prepared:
            if photo.sha256 in seen or await repository.by_hash(access.connection_id, photo.sha256) is not None:
                continue  # the same picture twice is one picture
            seen.add(photo.sha256)
            # Named by content: a racing upload of the same picture writes the same file, and its row is ignored.
            key = f"photos/{access.connection_id[:16]}/{photo.sha256[:40]}.{photo.extension}"
            await state.storage.put(key, photo.data, photo.content_type)
            await repository.add(
                {
                    "id": secrets.token_urlsafe(16),
                    "connection_id": access.connection_id,
                    "storage_key": key,
                    "content_type": photo.content_type,
                    "width": photo.width,
                    "height": photo.height,
                    "size": len(photo.data),
                    "sha256": photo.sha256,
                    "created_at": now,
                }
            )
        if await repository.count(access.connection_id) > PHOTO_LIMITS.max_photos_per_session:
            # A concurrent upload got in first; this request's transaction rolls back.
            check_photo_count(PHOTO_LIMITS.max_photos_per_session, PHOTO_LIMITS)
        return await self.photos(db, state, access)

    async def delete_photo(self, db: AsyncSession, state: State, access: VehicleAccess, photo_id: str) -> None:
        photo = await PhotoRepository(db).get(access.connection_id, photo_id)
        if photo is None:
            raise PhotoNotFound("No photo with this id here.")
        await db.delete(photo)
        await db.flush()
        await state.storage.delete(photo.storage_key)

    async def admin_for_order(self, db: AsyncSession, order_id: str) -> AdminReportList:
        """Every report of any order (admin), oldest first; 404 for an unknown order."""
        order = await OrderRepository(db).get(order_id)
        if order is None:
            raise ReportNotFound("No such order.")
        rows = await ReportRepository(db).for_order(order.id)
        return AdminReportList(reports=[admin_report(row, order) for row in rows])

    async def rerun(self, db: AsyncSession, report_id: str, now: datetime) -> AdminReport:
        """Render a failed report again from its first step (admin); its job starts once this commits."""
        repository = ReportRepository(db)
        report = await repository.get(report_id)
        if report is None:
            raise ReportNotFound("No such report.")
        order = await OrderRepository(db).get(report.order_id)
        if order is None or not rerunnable(report, order):
            raise ReportNotRerunnable(
                "Only a failed report of a paid order can run again "
                f"(the report is {report.status.value}, its order {order.status.value if order else 'gone'})."
            )
        try:
            async with db.begin_nested():
                changed = await repository.rerun(report.id, now)
        except IntegrityError as exc:  # the same language and package was asked for again meanwhile
            raise ReportNotRerunnable("An identical report is already being rendered for this order.") from exc
        if not changed:
            raise ReportNotRerunnable("The report is no longer failed.")
        await db.refresh(report)
        enqueue_after_commit(db, RENDER_JOB, report_id=report.id)
        log.info("report.rerun_requested", report=report.id[:8], order=order.id[:8])
        return admin_report(report, order)

    async def count_by_status(self, db: AsyncSession) -> dict[ReportStatus, int]:
        return await ReportRepository(db).count_by_status()


def rerunnable(report: Report, order: Order) -> bool:
    return report.status is ReportStatus.failed and order.status in READABLE_ORDER_STATES


def admin_report(report: Report, order: Order) -> AdminReport:
    return AdminReport(
        id=report.id,
        order_id=report.order_id,
        vin=report.vin,
        locale=report.locale,
        package=report.package,
        origin=report.origin,
        status=report.status.value,
        progress=report.progress,
        attempts=report.attempts,
        deferrals=report.deferrals,
        failure_reason=report.failure_reason,
        unread_facts=report.unread_facts,
        retry_at=report.retry_at,
        created_at=report.created_at,
        updated_at=report.updated_at,
        completed_at=report.completed_at,
        rerunnable=rerunnable(report, order),
    )


reports = ReportService()
