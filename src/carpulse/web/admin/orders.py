"""Orders and their reports: a searchable, paged list, one order's history and reports, re-running a failed one."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from carpulse.database import SessionDep
from carpulse.models import OrderStatus
from carpulse.order.errors import OrderNotFound
from carpulse.order.service import orders
from carpulse.report.errors import ReportNotFound, ReportNotRerunnable
from carpulse.report.repository import ReportRepository
from carpulse.report.service import reports
from carpulse.state import get_state
from carpulse.web.admin.page import admin_page
from carpulse.web.csrf import verify_csrf
from carpulse.web.pages import PageError, page_router, redirect
from carpulse.web.session import PageAdmin

router = page_router()

PAGE_SIZE = 25
BACK = ("web.admin.action.orders", "/admin/orders")
PROVIDERS = ("stripe", "paypal", "mobilepay", "google_pay", "apple_pay")


@router.get("/admin/orders")
async def order_list(
    request: Request,
    db: SessionDep,
    admin: PageAdmin,
    q: Annotated[str, Query(max_length=128)] = "",
    status: Annotated[str, Query(max_length=24)] = "",
    provider: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=40_000)] = 1,
    failed: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    chosen = OrderStatus(status) if status in OrderStatus.__members__ else None
    listing = await orders.admin_list(
        db, q, chosen, provider if provider in PROVIDERS else None, PAGE_SIZE, (page - 1) * PAGE_SIZE, failed == "1"
    )
    pages = max(1, -(-listing.total // PAGE_SIZE))
    filters = {
        "q": q,
        "status": chosen.value if chosen else "",
        "provider": provider if provider in PROVIDERS else "",
        "failed": "1" if failed == "1" else "",
    }

    def page_url(number: int) -> str:
        return "/admin/orders?" + urlencode({key: value for key, value in filters.items() if value} | {"page": number})

    return admin_page(
        request,
        "pages/admin/orders.html",
        listing=listing,
        filters=filters,
        statuses=[item.value for item in OrderStatus],
        providers=PROVIDERS,
        page=page,
        pages=pages,
        previous_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < pages else None,
    )


@router.get("/admin/orders/{order_id}")
async def order_page(request: Request, db: SessionDep, admin: PageAdmin, order_id: str) -> Response:
    try:
        order = await orders.admin_detail(db, order_id)
    except OrderNotFound as exc:
        raise PageError(404, "web.admin.order.not_found", action=BACK) from exc
    listing = await reports.admin_for_order(db, order.id)
    return admin_page(
        request,
        "pages/admin/order.html",
        order=order,
        reports=listing.reports,
        rerun=request.query_params.get("rerun"),
    )


@router.post("/admin/reports/{report_id}/rerun", dependencies=[Depends(verify_csrf)])
async def rerun_report(request: Request, db: SessionDep, admin: PageAdmin, report_id: str) -> Response:
    report = await ReportRepository(db).get(report_id)
    if report is None:
        raise PageError(404, "web.admin.report.not_found", action=BACK)
    back = ("web.admin.action.order", f"/admin/orders/{report.order_id}")
    try:
        await reports.rerun(db, report.id, get_state(request).clock.now())
    except ReportNotRerunnable as exc:
        raise PageError(409, "web.admin.report.not_rerunnable", action=back) from exc
    except ReportNotFound as exc:
        raise PageError(404, "web.admin.report.not_found", action=BACK) from exc
    return redirect(request, f"/admin/orders/{report.order_id}?rerun={report.id}")
