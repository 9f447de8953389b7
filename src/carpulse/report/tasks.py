"""Report jobs, and the reconciler that finds reports whose job was lost."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import transaction
from carpulse.kit.logs import get_logger
from carpulse.models import Order
from carpulse.observation.service import observations
from carpulse.order.service import orders
from carpulse.report.pipeline import REFUND_JOB, RENDER_JOB, run_render
from carpulse.report.repository import KeptDataRepository, PhotoRepository, ReportRepository, SnapshotRepository
from carpulse.worker import RENDER_LANE, enqueue_after_commit, job, scheduled

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.report")


@job("report.order_paid")
async def order_paid(state: State, order_id: str) -> None:
    """Create the reports an order paid for (once, however often the payment is reported) and start them."""
    from carpulse.report.service import reports

    if not state.settings.report.start_on_payment:
        return
    async with state.sessionmaker() as db:
        queued = await reports.create_for_order(db, state, order_id)
        await db.commit()
    for report_id in queued:
        await state.jobs.enqueue(RENDER_JOB, report_id=report_id)


@job(RENDER_JOB, lane=RENDER_LANE)
async def render(state: State, report_id: str) -> None:
    await run_render(state, report_id)


@job(REFUND_JOB)
async def order_undelivered(state: State, order_id: str) -> None:
    """A paid order whose every report failed gets its money back (the reports' reasons on the credit note)."""
    async with transaction(state.sessionmaker, state.jobs) as db:
        reason = await ReportRepository(db).undelivered_reason(order_id)
        if reason is None or not await orders.request_refund(db, order_id, reason, state.clock.now()):
            return
    # Committed first: the provider's webhook may record the refund before our call returns.
    async with transaction(state.sessionmaker, state.jobs) as db:
        result = await orders.refund_undelivered(db, state.payments, order_id, reason, state.clock.now())
    log.info("report.order_undelivered_handled", order=order_id[:8], result=result)


@orders.on_paid
async def start_on_payment(db: AsyncSession, order: Order) -> None:
    enqueue_after_commit(db, "report.order_paid", order_id=order.id)


@orders.on_refunded
async def revoke_on_refund(db: AsyncSession, order: Order) -> None:
    enqueue_after_commit(db, "report.order_refunded", order_id=order.id)


@scheduled("report.requeue_lost")
async def requeue_lost(state: State) -> int:
    """Paid orders without reports, queued reports nobody took, renders whose worker died, and paid
    orders that delivered nothing and were not refunded yet: queue again."""
    settings = state.settings.report
    now = state.clock.now()
    async with state.sessionmaker() as db:
        repository = ReportRepository(db)
        orders = (
            await repository.paid_orders_without_reports(now - timedelta(seconds=settings.reconcile_after_seconds))
            if settings.start_on_payment
            else []
        )
        stale = await repository.stale(now, now - timedelta(seconds=settings.reconcile_after_seconds))
        undelivered = await repository.undelivered_orders()
    for order_id in undelivered:
        await state.jobs.enqueue(REFUND_JOB, order_id=order_id)
    for order_id in orders:
        await state.jobs.enqueue("report.order_paid", order_id=order_id)
    for report_id in stale:
        await state.jobs.enqueue(RENDER_JOB, report_id=report_id)
    if orders or stale or undelivered:
        log.warning("report.requeued", orders=len(orders), reports=len(stale), refunds=len(undelivered))
    return len(orders) + len(stale) + len(undelivered)


# Hourly: a retention of days needs no finer grain.
@scheduled("report.delete_expired", every_seconds=3600.0)
async def delete_expired(state: State) -> int:
    """The retention job: reports, photos and acquired data (snapshots, observations) older than the retention
    period go, files first."""
    before = state.clock.now() - timedelta(days=state.settings.report.retention_days)
    async with state.sessionmaker() as db:
        old_reports = await ReportRepository(db).expired(before)
        old_photos = await PhotoRepository(db).expired(before)
        for report in old_reports:
            for key in (report.pdf_key, report.html_key):
                if key:
                    await state.storage.delete(key)
        for photo in old_photos:
            await state.storage.delete(photo.storage_key)
            await db.delete(photo)
        await ReportRepository(db).delete(report.id for report in old_reports)
        await SnapshotRepository(db).delete_before(before)
        await observations.forget_before(db, before)
        await db.commit()
    # Files a crash left without a row (stored, then the transaction was lost) go by age too.
    for prefix in ("reports", "photos"):
        async for stored in state.storage.list(prefix):
            if stored.last_modified < before:
                await state.storage.delete(stored.key)
    if old_reports or old_photos:
        log.info("report.retention_deleted", reports=len(old_reports), photos=len(old_photos))
    return len(old_reports) + len(old_photos)


@job("report.order_refunded")
async def order_refunded(state: State, order_id: str) -> None:
    """A refunded order loses its report files and its kept tokens at once."""
    await revoke_refunded(state, order_id)


@scheduled("report.revoke_refunded")
async def revoke_refunded(state: State, order_id: str | None = None) -> int:
    """Delete the report files of refunded orders (so links already handed out stop working), then forget
    the connections nobody needs; the sweep runs it for every order, in case a refund's job was lost."""
    async with state.sessionmaker() as db:
        revoked = await KeptDataRepository(db).revoked_report_files(order_id)
        for report in revoked:
            for key in (report.pdf_key, report.html_key):
                if key:
                    await state.storage.delete(key)
            report.pdf_key = None
            report.html_key = None
        await db.commit()
    if revoked:
        log.info("report.refunded_files_deleted", reports=len(revoked))
    await forget_connections(state)
    return len(revoked)


async def forget_connections(state: State) -> int:
    """Delete kept connections (encrypted brand tokens) and their photos once no order needs them.

    Needed means: an order that can still be paid, an order paid within `connect.connection_days`, or a
    render still open. A brand may have no token revocation for third parties, so deleting is what we can do.
    """
    now = state.clock.now()
    paid_after = now - timedelta(days=state.settings.connect.connection_days)
    async with state.sessionmaker() as db:
        repository = KeptDataRepository(db)
        forgotten = await repository.connections_no_longer_needed(now, paid_after)
        if not forgotten:
            return 0
        photos = await repository.forget_connections(forgotten)
        await db.commit()
    # Files after the commit: a crash in between leaves files that the retention job deletes by age.
    for photo in photos:
        await state.storage.delete(photo.storage_key)
    log.info("report.connections_forgotten", connections=len(forgotten), photos=len(photos))
    return len(forgotten)
