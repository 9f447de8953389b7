"""Report tasks, acquired snapshots and photos: every query, scoped to the caller's order or connection."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import (
    Order,
    OrderStatus,
    Report,
    ReportPhoto,
    ReportStatus,
    VehicleConnection,
    VehicleSnapshotRecord,
)

OPEN_STATES = (ReportStatus.queued, ReportStatus.processing, ReportStatus.uploading, ReportStatus.waiting_for_vehicle)
# Waiting for its car or queued: due again at `retry_at`.
DUE_STATES = (ReportStatus.queued, ReportStatus.waiting_for_vehicle)
# An unpaid order may still be paid until it expires (its provider checkout expires with it).
UNPAID_STATES = (OrderStatus.pending_payment, OrderStatus.failed, OrderStatus.expired)
READABLE_STATES = (OrderStatus.paid, OrderStatus.fulfilled)
LEASED_STATES = (ReportStatus.processing, ReportStatus.uploading)
# Bounds the claim loop; each lost race means another worker took a report, so this is never reached in practice.
_CLAIM_TRIES = 50


class ReportRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, report_id: str) -> Report | None:
        return await self.db.get(Report, report_id)

    async def for_order(self, order_id: str) -> list[Report]:
        statement = select(Report).where(Report.order_id == order_id).order_by(Report.created_at, Report.vin)
        return list((await self.db.execute(statement)).scalars())

    async def rerun(self, report_id: str, now: datetime) -> bool:
        """A failed report queued again from the start (attempts, its retry window, its reason); False if it
        is no longer failed. The window restarts: `created_at` is when this render was asked for."""
        statement = (
            update(Report)
            .where(Report.id == report_id, Report.status == ReportStatus.failed)
            .values(
                status=ReportStatus.queued,
                progress=0,
                attempts=0,
                deferrals=0,
                retry_at=None,
                lease_until=None,
                failure_reason=None,
                unread_facts=None,
                created_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(await self.db.execute(statement), "rowcount", 0))

    async def count_by_status(self) -> dict[ReportStatus, int]:
        rows = await self.db.execute(select(Report.status, func.count()).group_by(Report.status))
        return {ReportStatus(status): int(count) for status, count in rows.all()}

    async def add_for_order(self, values: dict[str, Any]) -> None:
        """Insert the paid-for report unless it exists (dedupe key): payment events arrive more than once."""
        await self.db.execute(insert_ignoring_conflicts(self.db, Report.__table__, values))

    async def same_request(self, order_id: str, vin: str, locale: str, package: str) -> Report | None:
        """The order's report of this vehicle, language and package still queued or rendering, if any."""
        statement = (
            select(Report)
            .where(
                Report.order_id == order_id,
                Report.vin == vin,
                Report.locale == locale,
                Report.package == package,
                Report.status.in_(OPEN_STATES),
            )
            .order_by(Report.created_at, Report.id)
            .limit(1)
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def finished(self, order_id: str, vin: str, locale: str, package: str, data_since: datetime) -> Report | None:
        """The latest complete report of this kind whose vehicle data was read at or after `data_since`."""
        statement = (
            select(Report)
            .join(VehicleSnapshotRecord, VehicleSnapshotRecord.id == Report.snapshot_id)
            .where(
                Report.order_id == order_id,
                Report.vin == vin,
                Report.locale == locale,
                Report.package == package,
                Report.status == ReportStatus.complete,
                Report.pdf_key.is_not(None),
                VehicleSnapshotRecord.captured_at >= data_since,
            )
            .order_by(Report.completed_at.desc(), Report.id)
            .limit(1)
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def add_request(self, values: dict[str, Any]) -> bool:
        """Insert a requested report unless an identical one is open (partial unique index); True if inserted."""
        result = await self.db.execute(insert_ignoring_conflicts(self.db, Report.__table__, values))
        return bool(getattr(result, "rowcount", 0))

    @staticmethod
    def _due(now: datetime) -> Any:
        # A report put back after a failed or throttled attempt waits until its retry time: no hot loop
        # on a vendor that is down or asks us to slow down.
        return Report.status.in_(DUE_STATES) & (Report.retry_at.is_(None) | (Report.retry_at <= now))

    def _claimable(self, now: datetime) -> Any:
        # One whose worker's lease ran out is taken over.
        return or_(self._due(now), Report.status.in_(LEASED_STATES) & (Report.lease_until < now))

    def _fair_next(self, now: datetime, idle_orders_only: bool) -> Any:
        """The next report to render, fair across orders: the order with the fewest renders running, then
        the one served longest ago (never first), then its oldest report. Round-robin under a flood."""
        other = aliased(Report)
        running = (
            select(func.count())
            .where(other.order_id == Report.order_id, other.status.in_(LEASED_STATES), other.lease_until >= now)
            .correlate(Report)
            .scalar_subquery()
        )
        served = (
            select(func.max(other.claimed_at))
            .where(other.order_id == Report.order_id)
            .correlate(Report)
            .scalar_subquery()
        )
        statement = select(Report.id).where(self._claimable(now))
        if idle_orders_only:
            statement = statement.where(running == 0)
        return statement.order_by(running, served.asc().nulls_first(), Report.created_at, Report.id).limit(1)

    async def claim_next(self, now: datetime, lease_until: datetime, *, idle_orders_only: bool = False) -> str | None:
        """Take the fairest claimable report with a lease (of an order with nothing rendering, if asked);
        None when nothing waits.

        The choice is a read, the take a conditional UPDATE: of several workers choosing the same report
        one UPDATE wins and the others choose again, on PostgreSQL and SQLite alike.
        """
        for _ in range(_CLAIM_TRIES):
            statement = self._fair_next(now, idle_orders_only)
            report_id = (await self.db.execute(statement)).scalar_one_or_none()
            if report_id is None:
                return None
            statement = (
                update(Report)
                .where(Report.id == report_id, self._claimable(now))
                .values(
                    status=ReportStatus.processing,
                    progress=10,
                    lease_until=lease_until,
                    attempts=Report.attempts + 1,
                    retry_at=None,
                    claimed_at=now,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(await self.db.execute(statement), "rowcount", 0):
                return str(report_id)
        return None

    async def renew_lease(self, report_id: str, now: datetime, lease_until: datetime) -> None:
        statement = (
            update(Report)
            .where(Report.id == report_id, Report.status.in_((ReportStatus.processing, ReportStatus.uploading)))
            .values(lease_until=lease_until, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.db.execute(statement)

    async def advance(self, report_id: str, now: datetime, **values: Any) -> None:
        statement = (
            update(Report)
            .where(Report.id == report_id)
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        await self.db.execute(statement)

    async def accept_partial(self, report_id: str, now: datetime) -> bool:
        """A waiting report is queued at once to be rendered with what was readable; False if it no longer waits."""
        statement = (
            update(Report)
            .where(Report.id == report_id, Report.status == ReportStatus.waiting_for_vehicle)
            .values(status=ReportStatus.queued, partial_accepted_at=now, retry_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(await self.db.execute(statement), "rowcount", 0))

    async def stale(self, now: datetime, queued_before: datetime) -> list[str]:
        """Open reports whose job may be lost: due and queued for long, or leased by a worker that died.
        (Their job is sent again only if no message for it is live.)"""
        statement = select(Report.id).where(
            or_(
                self._due(now) & (Report.updated_at < queued_before),
                Report.status.in_(LEASED_STATES) & (Report.lease_until < now),
            )
        )
        return list((await self.db.execute(statement)).scalars())

    async def paid_orders_without_reports(self, paid_before: datetime) -> list[str]:
        has_reports = select(Report.id).where(Report.order_id == Order.id, Report.origin == "order").exists()
        statement = select(Order.id).where(Order.status == OrderStatus.paid, Order.paid_at < paid_before, ~has_reports)
        return list((await self.db.execute(statement)).scalars())

    async def order_done(self, order_id: str) -> bool:
        """Every report the order paid for is complete."""
        statement = select(func.count()).where(
            Report.order_id == order_id, Report.origin == "order", Report.status != ReportStatus.complete
        )
        remaining = (await self.db.execute(statement)).scalar_one()
        return remaining == 0

    async def undelivered_reason(self, order_id: str) -> str | None:
        """Why a paid order delivered nothing (its paid-for reports' failure reasons), or None when it did
        deliver, or may still: a report complete, open, or none at all."""
        statement = select(Report.status, Report.failure_reason).where(
            Report.order_id == order_id, Report.origin == "order"
        )
        rows = list((await self.db.execute(statement)).all())
        if not rows or any(status is not ReportStatus.failed for status, _ in rows):
            return None
        reasons = sorted({reason or "The report could not be made." for _, reason in rows})
        return " ".join(reasons)

    async def undelivered_orders(self) -> list[str]:
        """Paid orders whose every paid-for report failed: their refund is due."""
        not_failed = select(Report.id).where(
            Report.order_id == Order.id, Report.origin == "order", Report.status != ReportStatus.failed
        )
        any_report = select(Report.id).where(Report.order_id == Order.id, Report.origin == "order")
        statement = select(Order.id).where(Order.status == OrderStatus.paid, any_report.exists(), ~not_failed.exists())
        return list((await self.db.execute(statement)).scalars())

    async def expired(self, before: datetime) -> list[Report]:
        statement = select(Report).where(Report.created_at < before)
        return list((await self.db.execute(statement)).scalars())

    async def delete(self, ids: Iterable[str]) -> None:
        await self.db.execute(delete(Report).where(Report.id.in_(list(ids))))


class SnapshotRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, snapshot_id: uuid.UUID) -> VehicleSnapshotRecord | None:
        return await self.db.get(VehicleSnapshotRecord, snapshot_id)

    async def fresh(
        self, connection_id: str, vin: str, since: datetime, *, with_history: bool
    ) -> VehicleSnapshotRecord | None:
        statement = select(VehicleSnapshotRecord).where(
            VehicleSnapshotRecord.connection_id == connection_id,
            VehicleSnapshotRecord.vin == vin,
            VehicleSnapshotRecord.captured_at >= since,
        )
        if with_history:
            statement = statement.where(VehicleSnapshotRecord.with_history.is_(True))
        statement = statement.order_by(VehicleSnapshotRecord.captured_at.desc()).limit(1)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def latest(self, connection_id: str, vin: str) -> VehicleSnapshotRecord | None:
        statement = (
            select(VehicleSnapshotRecord)
            .where(VehicleSnapshotRecord.connection_id == connection_id, VehicleSnapshotRecord.vin == vin)
            .order_by(VehicleSnapshotRecord.captured_at.desc())
            .limit(1)
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def delete_before(self, before: datetime) -> None:
        statement = delete(VehicleSnapshotRecord).where(VehicleSnapshotRecord.captured_at < before)
        await self.db.execute(statement.execution_options(synchronize_session=False))


class PhotoRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def for_connection(self, connection_id: str) -> list[ReportPhoto]:
        statement = (
            select(ReportPhoto)
            .where(ReportPhoto.connection_id == connection_id)
            .order_by(ReportPhoto.created_at, ReportPhoto.id)
        )
        return list((await self.db.execute(statement)).scalars())

    async def count(self, connection_id: str) -> int:
        statement = select(func.count()).where(ReportPhoto.connection_id == connection_id)
        return int((await self.db.execute(statement)).scalar_one())

    async def add(self, values: dict[str, Any]) -> None:
        """Insert a photo unless the connection already has this picture (same SHA-256)."""
        await self.db.execute(insert_ignoring_conflicts(self.db, ReportPhoto.__table__, values))

    async def by_hash(self, connection_id: str, sha256: str) -> ReportPhoto | None:
        statement = select(ReportPhoto).where(ReportPhoto.connection_id == connection_id, ReportPhoto.sha256 == sha256)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def get(self, connection_id: str, photo_id: str) -> ReportPhoto | None:
        photo = await self.db.get(ReportPhoto, photo_id)
        return photo if photo is not None and photo.connection_id == connection_id else None

    async def expired(self, before: datetime) -> list[ReportPhoto]:
        statement = select(ReportPhoto).where(ReportPhoto.created_at < before)
        return list((await self.db.execute(statement)).scalars())


class KeptDataRepository:
    """What an order keeps past its checkout (tokens, report files, photos), and when it stops needing it."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def connections_no_longer_needed(self, now: datetime, paid_after: datetime) -> list[str]:
        """Kept connections no order needs: none still payable, none paid within the window, no render open."""
        needed_by_order = (
            select(Order.id)
            .where(
                Order.session_id == VehicleConnection.id,
                or_(
                    Order.status.in_(UNPAID_STATES) & (Order.expires_at > now),
                    Order.status.in_(READABLE_STATES) & (Order.paid_at > paid_after),
                ),
            )
            .exists()
        )
        rendering = (
            select(Report.id)
            .where(Report.connection_id == VehicleConnection.id, Report.status.in_(OPEN_STATES))
            .exists()
        )
        statement = select(VehicleConnection.id).where(~needed_by_order, ~rendering)
        return list((await self.db.execute(statement)).scalars())

    async def forget_connections(self, ids: list[str]) -> list[ReportPhoto]:
        """Delete the connections (their encrypted tokens) and their photo rows; the photos, to delete their files."""
        photos = list((await self.db.execute(select(ReportPhoto).where(ReportPhoto.connection_id.in_(ids)))).scalars())
        await self.db.execute(delete(ReportPhoto).where(ReportPhoto.connection_id.in_(ids)))
        await self.db.execute(delete(VehicleConnection).where(VehicleConnection.id.in_(ids)))
        return photos

    async def revoked_report_files(self, order_id: str | None = None) -> list[Report]:
        """Reports of refunded orders whose files still exist (one order's, or every such order's)."""
        statement = (
            select(Report)
            .join(Order, Order.id == Report.order_id)
            .where(Order.status == OrderStatus.refunded, or_(Report.pdf_key.is_not(None), Report.html_key.is_not(None)))
        )
        if order_id is not None:
            statement = statement.where(Order.id == order_id)
        return list((await self.db.execute(statement)).scalars())
