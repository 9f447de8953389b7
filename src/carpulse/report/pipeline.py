"""The render pipeline: acquire (or reuse) the vehicle's data, build the document off the loop, store it.

Steps report progress in the report row (queued 0 → processing 10 → uploading 70 → complete 100).
A render is claimed with a lease; a worker that dies mid-render leaves an expired lease, and the
reconciler hands the report to another worker. Every step is safe to run twice.

A report is delivered only when the car gave its headline facts: odometer, battery level, range and
software version (`HEADLINE_FACTS`, all four). Otherwise it is `waiting_for_vehicle` and tried again
(spaced by `report.retry_seconds`, one wake per try) until `report.retry_window_seconds` after it was
made, then `failed`; a paid order whose every report failed is refunded (`REFUND_JOB`). A customer
may ask for the report with what was readable instead (`partial_accepted_at`): no headline check then.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.battery.samples import samples_from_snapshot
from carpulse.battery.service import battery
from carpulse.connect.dependencies import connect_context
from carpulse.database import release_read
from carpulse.errors import CarPulseError
from carpulse.kit.documents import run_in_document_pool
from carpulse.kit.logs import get_logger
from carpulse.kit.privacy import mask_vin
from carpulse.kit.resilience import spaced_delay
from carpulse.models import DataSharing, Report, ReportStatus, VehicleSnapshotRecord
from carpulse.observation.service import observations
from carpulse.order.service import orders
from carpulse.provider.base import Capability, ReadingPolicy, VehicleSnapshot
from carpulse.provider.errors import ProviderError, ProviderUnavailable, VehicleAsleep, asked_to_wait
from carpulse.report.document import DocumentInputs, PhotoImage, render_document
from carpulse.report.errors import VehicleNotRead
from carpulse.report.repository import PhotoRepository, ReportRepository, SnapshotRepository
from carpulse.vehicle.service import VehicleAccess, vehicle_access

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.report")

RENDER_JOB = "report.render"
REFUND_JOB = "report.order_undelivered"
# What a report must show to be worth delivering; without any of these it waits for the car.
HEADLINE_FACTS = ("odometer", "battery_level", "range", "software_version")
FACT_CAPABILITIES = {
    "odometer": Capability.odometer,
    "battery_level": Capability.battery,
    "range": Capability.range,
    "software_version": Capability.software,
}
CAR_AWAY = ("asleep", "offline")
FACT_NAMES = {
    "odometer": "odometer",
    "battery_level": "battery level",
    "range": "range",
    "software_version": "software version",
}


def unread_headline(data: dict[str, object], capabilities: frozenset[Capability]) -> list[str]:
    """The headline facts an acquisition's data lacks (a reading without a value counts as unread), of those the
    car's brand can give: a fact its brand never gives is a gap in the report, not a reason to wait."""
    missing = []
    for name in HEADLINE_FACTS:
        if FACT_CAPABILITIES[name] not in capabilities:
            continue
        reading = data.get(name)
        if not isinstance(reading, dict) or reading.get("value") is None:
            missing.append(name)
    return missing


@dataclass(frozen=True)
class RenderedReport:
    html: str
    pdf: bytes


def content_package(package: str) -> str:
    """What a package shows: Bulk buys a Pro report for each vehicle."""
    return "basic" if package == "basic" else "pro"


async def obtain_snapshot(
    db: AsyncSession, state: State, access: VehicleAccess, vin: str, package: str, *, partial: bool = False
) -> VehicleSnapshotRecord:
    """The vehicle's data: reused while fresh (so 9 languages cost one acquisition), else acquired now.

    Fresh data without the headline facts is not reused (the car is read again), unless `partial`:
    then the latest data read, whatever its age, is what the customer asked for.
    Renders of one vehicle in this process wait for each other's acquisition rather than each
    calling the brand (and paying for a call) for the same car.
    """
    with_history = package == "pro"
    async with state.vehicle_locks.hold((access.connection_id, vin, with_history)):
        return await _obtain_snapshot(db, state, access, vin, with_history, partial)


async def _obtain_snapshot(
    db: AsyncSession, state: State, access: VehicleAccess, vin: str, with_history: bool, partial: bool
) -> VehicleSnapshotRecord:
    settings = state.settings.report
    now = state.clock.now()
    repository = SnapshotRepository(db)
    since = now - timedelta(seconds=settings.snapshot_max_age_seconds)
    fresh = await repository.fresh(access.connection_id, vin, since, with_history=with_history)
    if fresh is not None and (partial or not unread_headline(fresh.data, access.brand.capabilities)):
        return fresh
    if partial:
        readable = await repository.fresh(
            access.connection_id, vin, datetime.min.replace(tzinfo=UTC), with_history=with_history
        )
        if readable is not None:
            return readable
    # A brand can take a minute (a car waking up): hold no database transaction meanwhile.
    await release_read(db)
    provider = access.open(
        ReadingPolicy(
            wake_budget_seconds=settings.wake_budget_seconds,
            wake_poll_seconds=settings.wake_poll_seconds,
            history_months=settings.history_months,
        )
    )
    label = access.brand.label
    snapshot = await provider.acquire(vin, include_history=with_history)
    if snapshot.odometer is None and snapshot.battery_level is None and not snapshot.raw:
        # Nothing at all came back: a report of gaps helps no one; try again later.
        if snapshot.online_state in CAR_AWAY:
            raise VehicleNotRead(
                f"The car is asleep or offline and {label} gave no data for it. Open the {label} app to wake the "
                "car; we try again automatically.",
                missing=list(HEADLINE_FACTS),
            )
        raise VehicleAsleep(
            f"{label} returned no data for this vehicle: " + "; ".join(sorted(set(snapshot.gaps.values())))
        )
    record = VehicleSnapshotRecord(
        connection_id=access.connection_id,
        vin=vin,
        captured_at=snapshot.captured_at,
        with_history=with_history,
        billable_calls=snapshot.billable_calls,
        data=snapshot.model_dump(mode="json"),
    )
    db.add(record)
    # Kept under the buyer's choice for the order (private unless they chose otherwise).
    sharing = (await orders.get(db, access.order_id)).data_sharing if access.order_id else DataSharing.private
    await observations.record_snapshot(
        db, snapshot, brand=provider.brand, connection_id=access.connection_id, sharing=sharing
    )
    await db.commit()  # visible to the renders of this vehicle waiting for it
    log.info("report.vehicle_acquired", vin=mask_vin(vin), billable_calls=snapshot.billable_calls)
    return record


async def document_inputs(
    db: AsyncSession,
    state: State,
    access: VehicleAccess,
    vin: str,
    package: str,
    locale: str,
    reference: str,
    *,
    partial: bool = False,
) -> tuple[DocumentInputs, VehicleSnapshotRecord]:
    """What the document is made of; raises `VehicleNotRead` when the headline facts are missing (unless `partial`)."""
    record = await obtain_snapshot(db, state, access, vin, package, partial=partial)
    missing = unread_headline(record.data, access.brand.capabilities)
    if missing and not partial:
        await db.commit()  # the acquisition is kept (its data is what a partial delivery would show)
        names = ", ".join(FACT_NAMES[name] for name in missing)
        if record.data.get("online_state") not in CAR_AWAY:
            # The car answered but its brand failed on its live data: a vendor failure, retried as one.
            label = access.brand.label
            raise access.brand.problem(ProviderUnavailable)(f"{label} did not give the car's {names}; we try again.")
        raise VehicleNotRead(
            f"The car is asleep or offline and did not give its {names}. Open the {access.brand.label} app to wake "
            "the car; we try again automatically.",
            missing=missing,
        )
    current = samples_from_snapshot(VehicleSnapshot.model_validate(record.data))
    history = await battery.history(db, vin, besides=current)
    cohort = await battery.cohort(db, vin)
    photos: list[PhotoImage] = []
    for photo in await PhotoRepository(db).for_connection(access.connection_id):
        data = await state.storage.get(photo.storage_key)
        if data is not None:
            photos.append(PhotoImage(content_type=photo.content_type, data=data))
    vehicle = access.vehicle(vin)
    inputs = DocumentInputs(
        snapshot_data=record.data,
        brand=access.brand,
        history_samples=history,
        cohort_samples=cohort,
        # The order keeps its access to the car this long: asking for the report again reads the car afresh.
        reread_days=state.settings.connect.connection_days,
        display_name=vehicle.display_name,
        package=package,
        locale=locale,
        generated_at=state.clock.now(),
        reference=reference,
        photos=photos,
        history_months=state.settings.report.history_months,
    )
    return inputs, record


async def render_off_loop(inputs: DocumentInputs, *, lane: bool = False) -> RenderedReport:
    html, pdf = await run_in_document_pool(render_document, inputs, lane=lane)
    return RenderedReport(html=html, pdf=pdf)


def storage_key(report: Report, extension: str) -> str:
    # The seed's layout (`reports/{vin}-{lang}-{timestamp}.pdf`), plus the task id: two renders in one
    # second must not overwrite each other, and the key must not be guessable.
    stamp = report.created_at.strftime("%Y%m%dT%H%M%SZ")
    return f"reports/{report.vin}-{report.locale}-{stamp}-{report.id[:12]}.{extension}"


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, CarPulseError):
        return exc.detail or exc.title
    return "The report could not be rendered; the error is logged under this report's id."


def _waiting_for_vehicle(exc: BaseException) -> bool:
    """The car, not the vendor or we, is why this try failed: it waits for the car, up to the window."""
    return isinstance(exc, VehicleNotRead)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, ProviderError):
        return exc.status >= 500 or isinstance(exc, VehicleAsleep)
    return not isinstance(exc, CarPulseError)


async def run_render(state: State, report_id: str) -> None:
    """The `report.render` job: claim, build, store, complete. A job with nothing left to claim does nothing.

    It waits for one of the process's render slots before claiming, so a burst of requests stays
    `queued` rather than crowding the event loop and the database while the pool works through them.
    A job is a trigger, not an assignment: with a slot free it renders the fairest report waiting
    (see `ReportRepository.claim_next`), which is its own `report_id` only when no other order waits
    longer. Every queued report had a job, and each job renders one report, so none is left behind.
    """
    if state.render_slots.locked() and not state.render_lane.locked():
        # Every slot is busy (one order's backlog, say): an order with nothing rendering goes first, now.
        async with state.render_lane:
            if await _render(state, report_id, lane=True):
                return
    async with state.render_slots:
        await _render(state, report_id, lane=False)


async def _render(state: State, hint: str, *, lane: bool) -> bool:
    """Claim a report and render it; False when there was nothing (for the lane: nothing idle) to claim."""
    settings = state.settings.report
    async with state.render_claims, state.sessionmaker() as db:
        now = state.clock.now()
        report_id = await ReportRepository(db).claim_next(
            now, now + timedelta(seconds=settings.lease_seconds), idle_orders_only=lane
        )
        await db.commit()
    if report_id is None:
        if not lane:
            log.info("report.render_skipped", report=hint[:8])
        return False
    heartbeat = asyncio.create_task(_keep_lease(state, report_id))
    try:
        async with state.sessionmaker() as db:
            report = await ReportRepository(db).get(report_id)
            if report is None:
                return True
            access = await vehicle_access.for_order(db, connect_context(state), report.order_id)
            partial = report.partial_accepted_at is not None
            inputs, record = await document_inputs(
                db, state, access, report.vin, report.package, report.locale, report.id[:12], partial=partial
            )
            report.snapshot_id = record.id
            report.unread_facts = unread_headline(record.data, access.brand.capabilities) or None
            await db.commit()
        rendered = await render_off_loop(inputs, lane=lane)
        async with state.sessionmaker() as db:
            repository = ReportRepository(db)
            await repository.advance(report_id, state.clock.now(), status=ReportStatus.uploading, progress=70)
            await db.commit()
            pdf_key, html_key = storage_key(report, "pdf"), storage_key(report, "html")
            await state.storage.put(pdf_key, rendered.pdf, "application/pdf")
            await state.storage.put(html_key, rendered.html.encode(), "text/html; charset=utf-8")
            done = state.clock.now()
            await repository.advance(
                report_id,
                done,
                status=ReportStatus.complete,
                progress=100,
                pdf_key=pdf_key,
                html_key=html_key,
                completed_at=done,
                lease_until=None,
                retry_at=None,
                failure_reason=None,
            )
            if report.origin == "order" and await repository.order_done(report.order_id):
                await orders.fulfil(db, report.order_id, done)
            await db.commit()
        log.info("report.completed", report=report_id[:8], vin=mask_vin(report.vin), locale=report.locale)
    except Exception as exc:
        await _record_failure(state, report_id, exc)
    finally:
        heartbeat.cancel()
    return True


async def _keep_lease(state: State, report_id: str) -> None:
    """Renew the lease while this worker is alive: a slow render (a car waking up) is not taken over,
    and a worker that dies stops renewing, so its report is taken over one lease later."""
    lease = state.settings.report.lease_seconds
    while True:
        await asyncio.sleep(lease / 3)
        try:
            async with state.sessionmaker() as db:
                now = state.clock.now()
                await ReportRepository(db).renew_lease(report_id, now, now + timedelta(seconds=lease))
                await db.commit()
        except Exception:
            log.warning("report.lease_renewal_failed", report=report_id[:8])


async def _put_back(repository: ReportRepository, report: Report, now: datetime, delay: float, **values: int) -> None:
    """Queued again, not to be claimed before `delay` seconds from now."""
    await repository.advance(
        report.id,
        now,
        status=ReportStatus.queued,
        progress=0,
        lease_until=None,
        retry_at=now + timedelta(seconds=delay),
        **values,
    )


async def _record_failure(state: State, report_id: str, exc: BaseException) -> None:
    """Put the report back with a time to try again, or fail it; then schedule that try.

    A throttled render tries again after the vendor's pause, spaced out (by default 5 s doubling to
    30 s): soon after the throttling ends, without hammering it meanwhile. A failed one waits longer.
    """
    settings = state.settings.report
    wait = asked_to_wait(exc)
    delay: float | None = None
    undelivered = False
    async with state.sessionmaker() as db:
        repository = ReportRepository(db)
        report = await repository.get(report_id)
        if report is None:
            return
        now = state.clock.now()
        within_window = now - report.created_at < timedelta(seconds=settings.retry_window_seconds)
        if wait is not None and within_window:
            delay = max(wait, spaced_delay(report.deferrals, *settings.defer_seconds))
            # Not an attempt: the claim's count is given back.
            await _put_back(
                repository, report, now, delay, attempts=max(0, report.attempts - 1), deferrals=report.deferrals + 1
            )
            log.info("report.render_deferred", report=report_id[:8], seconds=round(delay, 1), error=type(exc).__name__)
        elif _waiting_for_vehicle(exc) and within_window:
            # No attempt limit: the window bounds the tries; the last one is at the window's end.
            end = report.created_at + timedelta(seconds=settings.retry_window_seconds)
            delay = max(
                0.0, min(spaced_delay(report.attempts - 1, *settings.retry_seconds), (end - now).total_seconds())
            )
            await repository.advance(
                report_id,
                now,
                status=ReportStatus.waiting_for_vehicle,
                progress=0,
                lease_until=None,
                retry_at=now + timedelta(seconds=delay),
                unread_facts=exc.missing if isinstance(exc, VehicleNotRead) else None,
            )
            log.info("report.waiting_for_vehicle", report=report_id[:8], attempt=report.attempts, seconds=round(delay))
        elif _retryable(exc) and report.attempts < settings.max_attempts and within_window:
            delay = spaced_delay(report.attempts - 1, *settings.retry_seconds)
            await _put_back(repository, report, now, delay)
            log.warning("report.render_retry", report=report_id[:8], attempt=report.attempts, error=repr(exc)[:200])
        else:
            reason = _failure_reason(exc)
            if _waiting_for_vehicle(exc):
                missing = exc.missing if isinstance(exc, VehicleNotRead) else list(HEADLINE_FACTS)
                names = ", ".join(FACT_NAMES[name] for name in missing)
                hours = settings.retry_window_seconds / 3600
                reason = (
                    f"The car stayed asleep or offline for {hours:g} h after the order: its {names} could not "
                    "be read, so no report was made."
                )
            await repository.advance(
                report_id, now, status=ReportStatus.failed, lease_until=None, retry_at=None, failure_reason=reason
            )
            log.error("report.render_failed", report=report_id[:8], error=repr(exc)[:200])
            undelivered = report.origin == "order" and await repository.undelivered_reason(report.order_id) is not None
        await db.commit()
    if delay is not None:
        await state.jobs.enqueue_later(delay, RENDER_JOB, report_id=report_id)
    elif undelivered:
        # The order delivered nothing: its money goes back (the reconciler finds a lost job).
        await state.jobs.enqueue(REFUND_JOB, order_id=report.order_id)
