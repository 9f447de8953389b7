"""What the order page shows, built from the same services the API answers with (no second business logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.dependencies import connect_context
from carpulse.connect.repository import VehicleConnectionRepository
from carpulse.errors import CarPulseError
from carpulse.kit.i18n import LOCALES
from carpulse.models import OrderStatus, ReportStatus
from carpulse.order.checkout import checkout
from carpulse.order.errors import OrderNotFound
from carpulse.order.schemas import OrderRead
from carpulse.order.service import orders
from carpulse.provider.base import Capability
from carpulse.report.photo import PhotoLimits
from carpulse.report.schemas import Photos, ReportTask, SessionReports
from carpulse.report.service import PHOTO_LIMITS, reports
from carpulse.state import State
from carpulse.vehicle.service import vehicle_access
from carpulse.web.pages import PageError

# The stages a report goes through, in order, as the pipeline records them.
STAGES = (ReportStatus.queued, ReportStatus.processing, ReportStatus.uploading, ReportStatus.complete)
FINAL = (ReportStatus.complete, ReportStatus.failed)
POLL_SECONDS = 2
# A car that sleeps is tried again minutes apart: polling that often is enough.
WAITING_POLL_SECONDS = 15


def not_found() -> PageError:
    return PageError(404, "web.order.not_found", action=("web.order.action.start", "/reports"))


@dataclass(frozen=True)
class TaskView:
    task: ReportTask
    origin: str  # "order": paid for; "request": another language asked for

    @property
    def stage_index(self) -> int:
        status = self.task.status
        if status is ReportStatus.waiting_for_vehicle:
            return 1
        return STAGES.index(status) if status in STAGES else -1

    @property
    def failure_kind(self) -> str:
        """Why it failed, as the customer can act on it: the car stayed away, or the brand's service failed."""
        reason = (self.task.failure_reason or "").lower()
        if self.task.unread_facts or "asleep" in reason or "offline" in reason:
            return "car"
        return "vendor"


@dataclass(frozen=True)
class VehicleView:
    vin: str
    name: str
    model: str | None
    paid: TaskView | None
    others: list[TaskView]
    odometer_km: float | None = None

    @property
    def tasks(self) -> list[TaskView]:
        return ([self.paid] if self.paid else []) + self.others


@dataclass(frozen=True)
class Progress:
    order_id: str
    overall: str
    vehicles: list[VehicleView]
    package: str
    brand: str

    @property
    def final(self) -> bool:
        return all(view.task.status in FINAL for vehicle in self.vehicles for view in vehicle.tasks)

    @property
    def poll_seconds(self) -> int | None:
        if self.final:
            return None
        waiting = any(
            view.task.status is ReportStatus.waiting_for_vehicle for vehicle in self.vehicles for view in vehicle.tasks
        )
        busy = any(
            view.task.status in (ReportStatus.queued, ReportStatus.processing, ReportStatus.uploading)
            for vehicle in self.vehicles
            for view in vehicle.tasks
        )
        return WAITING_POLL_SECONDS if waiting and not busy else POLL_SECONDS

    @property
    def counts(self) -> dict[str, int]:
        paid = [vehicle.paid.task.status for vehicle in self.vehicles if vehicle.paid]
        return {
            "done": sum(status is ReportStatus.complete for status in paid),
            "failed": sum(status is ReportStatus.failed for status in paid),
            "total": len(self.vehicles),
        }


@dataclass
class OrderPage:
    order: OrderRead
    progress: Progress | None
    photos: Photos | None
    limits: PhotoLimits = field(default_factory=lambda: PHOTO_LIMITS)
    locales: tuple[str, ...] = LOCALES
    data_sharing: str = "private"
    brand: str | None = None
    charging: bool = False

    @property
    def placed_at(self) -> datetime:
        return self.order.paid_at or (
            self.order.transitions[0].created_at if self.order.transitions else self.order.expires_at
        )

    @property
    def opens_data(self) -> bool:
        return self.progress is not None

    @property
    def unpaid(self) -> bool:
        return self.order.status in (OrderStatus.pending_payment, OrderStatus.failed, OrderStatus.expired)

    @property
    def unpaid_kind(self) -> str:
        """Why the order is unpaid: a checkout that expired after a declined payment was declined."""
        declined = any(t.to_status == OrderStatus.failed.value for t in self.order.transitions)
        return "failed" if self.order.status == OrderStatus.expired.value and declined else self.order.status

    @property
    def refunded(self) -> bool:
        return self.order.status == OrderStatus.refunded.value

    @property
    def partial_refunds(self) -> list[str]:
        return [t.reason or "" for t in self.order.transitions if (t.reason or "").startswith("partial refund")]


async def order_read(db: AsyncSession, state: State, order_id: str) -> OrderRead:
    try:
        return await checkout.read_order(db, order_id, state.settings.connect.connection_days)
    except OrderNotFound:
        raise not_found() from None


async def progress_of(db: AsyncSession, state: State, order_id: str) -> Progress | None:
    """The order's reports as `/api/v1/{brand}/report/{order_id}` lists them; None when the order opens none."""
    try:
        listing = await reports.listing_by_id(db, state, connect_context(state), order_id)
    except CarPulseError:
        return None
    order = await orders.get(db, order_id)
    connection = await VehicleConnectionRepository(db).get(order.session_id)
    brand = (
        state.providers.get(connection.provider).info.label
        if connection is not None and connection.provider in state.providers
        else ""
    )
    return _progress(listing, brand)


def _progress(listing: SessionReports, brand: str) -> Progress:
    vehicles = []
    for vehicle in listing.vehicles:
        views = [TaskView(task, "order" if index == 0 else "request") for index, task in enumerate(vehicle.reports)]
        vehicles.append(
            VehicleView(
                vin=vehicle.vin,
                name=vehicle.display_name or vehicle.vin,
                model=vehicle.model,
                paid=views[0] if views else None,
                others=views[1:],
                odometer_km=vehicle.facts.odometer_km if vehicle.facts else None,
            )
        )
    return Progress(listing.order_id, listing.status, vehicles, listing.package, brand)


async def order_page(db: AsyncSession, state: State, order_id: str) -> OrderPage:
    order = await order_read(db, state, order_id)
    progress = await progress_of(db, state, order_id)
    page = OrderPage(order=order, progress=progress, photos=None)
    row = await orders.get(db, order_id)
    page.data_sharing = row.data_sharing.value
    if progress is not None:
        try:
            access = await vehicle_access.for_order(db, connect_context(state), order_id)
        except CarPulseError:
            return page
        page.photos = await reports.photos(db, state, access)
        page.brand = access.brand.label
        page.charging = access.brand.can(Capability.charging_invoices)
    return page
