"""Data API clients: their plan, suspension, usage and invoices (the plan, usage and invoice services)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import SessionDep
from carpulse.plan.errors import DataClientNotFound, PlanNotFound
from carpulse.plan.schemas import Suspension
from carpulse.plan.service import plans, utc_day
from carpulse.receipt.invoice import invoices
from carpulse.receipt.invoice_document import render_invoice_pdf
from carpulse.receipt.repository import InvoiceRepository
from carpulse.state import get_state
from carpulse.usage.service import usage
from carpulse.web.admin.forms import FormErrors, text
from carpulse.web.admin.page import admin_page
from carpulse.web.csrf import verify_csrf
from carpulse.web.pages import PageError, page_router, redirect
from carpulse.web.session import PageAdmin

router = page_router()

BACK = ("web.admin.action.clients", "/admin/clients")
USAGE_DAYS = 30


def _account_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise PageError(404, "web.admin.client.not_found", action=BACK) from exc


async def _client_exists(db: AsyncSession, account_id: uuid.UUID) -> None:
    try:
        await plans.client(db, account_id)
    except DataClientNotFound as exc:
        raise PageError(404, "web.admin.client.not_found", action=BACK) from exc


def _pdf_path(invoice_id: str) -> str:
    return f"/admin/invoices/{invoice_id}/pdf"


async def _list(request: Request, db: AsyncSession, errors: dict[str, FormErrors], status_code: int = 200) -> Response:
    clock = get_state(request).clock
    return admin_page(
        request,
        "pages/admin/clients.html",
        status_code=status_code,
        clients=await plans.clients(db),
        plans=await plans.all(db, clock),
        errors=errors,
        saved=request.query_params.get("saved"),
    )


@router.get("/admin/clients")
async def client_list(request: Request, db: SessionDep, admin: PageAdmin) -> Response:
    return await _list(request, db, {})


@router.get("/admin/clients/{account_id}")
async def client_page(request: Request, db: SessionDep, admin: PageAdmin, account_id: str) -> Response:
    key = _account_id(account_id)
    await _client_exists(db, key)
    client = next(item for item in await plans.clients(db) if item.account_id == key)
    last = utc_day(get_state(request).clock.now())
    first = last - timedelta(days=USAGE_DAYS - 1)
    by_day = await usage.report(db, key, first, last, "day")
    by_endpoint = await usage.report(db, key, first, last, "endpoint")
    rows = await InvoiceRepository(db).of_account(key)
    return admin_page(
        request,
        "pages/admin/client.html",
        client=client,
        by_day=by_day,
        by_endpoint=by_endpoint,
        invoices=[invoices.read(row, _pdf_path(row.id)) for row in rows],
        first=first,
        last=last,
    )


@router.post("/admin/clients/{account_id}/plan", dependencies=[Depends(verify_csrf)])
async def move_client(request: Request, db: SessionDep, admin: PageAdmin, account_id: str) -> Response:
    key = _account_id(account_id)
    await _client_exists(db, key)
    form = await request.form()
    try:
        await plans.move(db, key, text(form, "plan"))
    except PlanNotFound:
        return await _list(request, db, {str(key): FormErrors(plan="web.admin.client.error.plan")}, 422)
    return redirect(request, "/admin/clients?saved=moved")


@router.post("/admin/clients/{account_id}/suspend", dependencies=[Depends(verify_csrf)])
async def suspend_client(request: Request, db: SessionDep, admin: PageAdmin, account_id: str) -> Response:
    key = _account_id(account_id)
    await _client_exists(db, key)
    form = await request.form()
    try:
        body = Suspension(reason=text(form, "reason"))
    except ValidationError:
        return await _list(request, db, {str(key): FormErrors(reason="web.admin.client.error.reason")}, 422)
    await plans.suspend(db, key, body.reason, get_state(request).clock)
    return redirect(request, "/admin/clients?saved=suspended")


@router.post("/admin/clients/{account_id}/reinstate", dependencies=[Depends(verify_csrf)])
async def reinstate_client(request: Request, db: SessionDep, admin: PageAdmin, account_id: str) -> Response:
    key = _account_id(account_id)
    await _client_exists(db, key)
    await plans.suspend(db, key, None, get_state(request).clock)
    return redirect(request, "/admin/clients?saved=reinstated")


@router.get("/admin/invoices/{invoice_id}/pdf")
async def invoice_pdf(db: SessionDep, admin: PageAdmin, invoice_id: str) -> Response:
    row = await InvoiceRepository(db).get(invoice_id[:64])
    if row is None:
        raise PageError(404, "web.admin.invoice.not_found", action=BACK)
    invoice = invoices.read(row, _pdf_path(row.id))
    return Response(
        content=await render_invoice_pdf(invoice),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
