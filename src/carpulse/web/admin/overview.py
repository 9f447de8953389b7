"""`/admin`: what needs the admin's eye, with a link to each area."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from carpulse.database import SessionDep
from carpulse.models import OrderStatus, ReportStatus
from carpulse.order.service import orders
from carpulse.plan.service import plans
from carpulse.pricing.repository import VoucherRepository
from carpulse.reconcile_run.service import reconcile_runs
from carpulse.report.service import reports
from carpulse.state import get_state
from carpulse.web.admin.page import admin_page
from carpulse.web.pages import page_router
from carpulse.web.session import PageAdmin

router = page_router()


@router.get("/admin")
async def overview(request: Request, db: SessionDep, admin: PageAdmin) -> Response:
    vouchers = await VoucherRepository(db).list()
    order_counts = await orders.count_by_status(db)
    report_counts = await reports.count_by_status(db)
    clients = await plans.clients(db)
    plan_list = await plans.all(db, get_state(request).clock)
    runs = await reconcile_runs.latest(db, limit=1)
    return admin_page(
        request,
        "pages/admin/overview.html",
        vouchers_total=len(vouchers),
        vouchers_active=sum(1 for voucher in vouchers if voucher.active),
        order_counts=[(status.value, order_counts.get(status, 0)) for status in OrderStatus],
        orders_total=sum(order_counts.values()),
        report_counts=[(status.value, report_counts.get(status, 0)) for status in ReportStatus],
        reports_failed=report_counts.get(ReportStatus.failed, 0),
        clients_total=len(clients),
        clients_suspended=sum(1 for client in clients if client.suspended_at is not None),
        plans_total=len(plan_list),
        last_run=runs.runs[0] if runs.runs else None,
    )


@router.get("/admin/reconciler")
async def reconciler_runs(request: Request, db: SessionDep, admin: PageAdmin, found: str = "") -> Response:
    only_found = found == "1"
    runs = await reconcile_runs.latest(db, limit=100, only_found=only_found)
    return admin_page(
        request,
        "pages/admin/reconciler.html",
        runs=runs,
        only_found=only_found,
        every_seconds=get_state(request).settings.jobs.reconcile_every_seconds,
    )
