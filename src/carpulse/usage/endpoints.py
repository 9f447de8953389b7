"""Billing: a Data API client's usage (its key or its JWT), and its admin view."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.api_key.dependencies import DataCallerDep
from carpulse.api_key.errors import ApiClientRequired, InvalidApiKey
from carpulse.auth.dependencies import AdminAccount
from carpulse.auth.errors import AdminRequired, InvalidToken
from carpulse.database import SessionDep
from carpulse.errors import DependencyUnavailable, RateLimited, ValidationFailed, problem_responses
from carpulse.kit.examples import example_response
from carpulse.plan.errors import DataClientNotFound
from carpulse.plan.service import plans
from carpulse.rate_limit import enforce
from carpulse.receipt.errors import InvoiceNotFound
from carpulse.receipt.invoice import invoices
from carpulse.receipt.invoice_document import render_invoice_pdf
from carpulse.receipt.repository import InvoiceRepository
from carpulse.receipt.schemas import Invoice as InvoiceOut
from carpulse.receipt.schemas import InvoiceList
from carpulse.state import get_state
from carpulse.usage.billing import billing
from carpulse.usage.errors import InvalidCutoff, NothingToBill
from carpulse.usage.schemas import GroupBy, UsageReport
from carpulse.usage.service import usage

router = APIRouter(prefix="/billing", tags=["data-api-billing"])
admin_router = APIRouter(prefix="/admin", tags=["data-api-admin"])

MAX_SPAN_DAYS = 366


def _span(request: Request, first: date | None, last: date | None) -> tuple[date, date]:
    today = get_state(request).clock.now().date()
    last = last or today
    first = first or last.replace(day=1)
    if last < first:
        raise ValidationFailed("'to' is before 'from'.")
    if (last - first) > timedelta(days=MAX_SPAN_DAYS):
        raise ValidationFailed(f"Ask for at most {MAX_SPAN_DAYS} days at once.")
    return first, last


FromDay = Annotated[date | None, Query(alias="from", description="first UTC day; default: the 1st of `to`'s month")]
ToDay = Annotated[date | None, Query(alias="to", description="last UTC day, inclusive; default: today")]
GroupByQuery = Annotated[GroupBy, Query(description="one row per UTC day, endpoint, or API key")]


@router.get(
    "/usage",
    response_model=UsageReport,
    response_model_by_alias=True,
    responses={
        **example_response("usage"),
        **problem_responses(InvalidApiKey, ApiClientRequired, ValidationFailed, DependencyUnavailable),
    },
    summary="Your usage: calls, units and amounts, billed and unbilled",
)
async def my_usage(
    request: Request,
    db: SessionDep,
    caller: DataCallerDep,
    first: FromDay = None,
    last: ToDay = None,
    group_by: GroupByQuery = "day",
) -> UsageReport:
    start, end = _span(request, first, last)
    return await usage.report(db, caller.account_id, start, end, group_by)


@admin_router.get(
    "/data-clients/{account_id}/usage",
    response_model=UsageReport,
    response_model_by_alias=True,
    responses=problem_responses(InvalidToken, AdminRequired, DataClientNotFound, ValidationFailed),
    summary="A client's usage (admin)",
)
async def client_usage(
    request: Request,
    db: SessionDep,
    _: AdminAccount,
    account_id: uuid.UUID,
    first: FromDay = None,
    last: ToDay = None,
    group_by: GroupByQuery = "day",
) -> UsageReport:
    await plans.client(db, account_id)
    start, end = _span(request, first, last)
    return await usage.report(db, account_id, start, end, group_by)


class PayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cutoff: datetime | None = Field(
        default=None, description="bill the usage before this moment (with its offset); default: now"
    )


_CALLER = (InvalidApiKey, ApiClientRequired, DependencyUnavailable)
InvoiceId = Annotated[str, PathParam(min_length=1, max_length=64, description="the invoice's id")]


def _pdf_path(invoice_id: str, admin: bool = False) -> str:
    return f"/api/v1/admin/invoices/{invoice_id}/pdf" if admin else f"/api/v1/billing/invoices/{invoice_id}/pdf"


@router.post(
    "/pay",
    response_model=InvoiceOut,
    status_code=201,
    responses={
        **example_response("invoice", 201),
        **example_response(
            "invoice", 200, "an invoice with this cutoff exists: it is returned, nothing is billed twice"
        ),
        **problem_responses(*_CALLER, NothingToBill, InvalidCutoff, ValidationFailed),
    },
    summary="Close your unbilled usage up to a cutoff into an invoice (JSON; PDF at its pdf_path)",
)
async def pay(
    request: Request, response: Response, db: SessionDep, caller: DataCallerDep, body: PayRequest | None = None
) -> InvoiceOut:
    invoice, created = await billing.pay(db, get_state(request), caller.account_id, body.cutoff if body else None)
    if not created:
        response.status_code = 200
    return invoices.read(invoice, _pdf_path(invoice.id))


@router.get(
    "/invoices",
    response_model=InvoiceList,
    responses={**example_response("invoices"), **problem_responses(*_CALLER)},
    summary="Your invoices",
)
async def my_invoices(db: SessionDep, caller: DataCallerDep) -> InvoiceList:
    rows = await InvoiceRepository(db).of_account(caller.account_id)
    return InvoiceList(invoices=[invoices.read(row, _pdf_path(row.id)) for row in rows])


@router.get(
    "/invoices/{invoice_id}",
    response_model=InvoiceOut,
    responses={**example_response("invoice"), **problem_responses(*_CALLER, InvoiceNotFound)},
    summary="One of your invoices",
)
async def my_invoice(db: SessionDep, caller: DataCallerDep, invoice_id: InvoiceId) -> InvoiceOut:
    row = await invoices.owned(db, caller.account_id, invoice_id)
    return invoices.read(row, _pdf_path(row.id))


_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the invoice as a PDF"}
}


@router.get(
    "/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={**_PDF, **problem_responses(*_CALLER, InvoiceNotFound, RateLimited)},
    summary="One of your invoices as a PDF",
)
async def my_invoice_pdf(request: Request, db: SessionDep, caller: DataCallerDep, invoice_id: InvoiceId) -> Response:
    await enforce(request, "pdf", str(caller.account_id))
    row = await invoices.owned(db, caller.account_id, invoice_id)
    return await _pdf_response(invoices.read(row, _pdf_path(row.id)))


async def _pdf_response(invoice: InvoiceOut) -> Response:
    return Response(
        content=await render_invoice_pdf(invoice),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


_ADMIN = (InvalidToken, AdminRequired, DependencyUnavailable)


@admin_router.get(
    "/data-clients/{account_id}/invoices",
    response_model=InvoiceList,
    responses=problem_responses(*_ADMIN, DataClientNotFound, ValidationFailed),
    summary="A client's invoices (admin)",
)
async def client_invoices(db: SessionDep, _: AdminAccount, account_id: uuid.UUID) -> InvoiceList:
    await plans.client(db, account_id)
    rows = await InvoiceRepository(db).of_account(account_id)
    return InvoiceList(invoices=[invoices.read(row, _pdf_path(row.id, admin=True)) for row in rows])


async def _any_invoice(db: AsyncSession, invoice_id: str) -> InvoiceOut:
    row = await InvoiceRepository(db).get(invoice_id)
    if row is None:
        raise InvoiceNotFound("No invoice has this id.")
    return invoices.read(row, _pdf_path(row.id, admin=True))


@admin_router.get(
    "/invoices/{invoice_id}",
    response_model=InvoiceOut,
    responses=problem_responses(*_ADMIN, InvoiceNotFound),
    summary="Any client's invoice (admin)",
)
async def any_invoice(db: SessionDep, _: AdminAccount, invoice_id: InvoiceId) -> InvoiceOut:
    return await _any_invoice(db, invoice_id)


@admin_router.get(
    "/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={**_PDF, **problem_responses(*_ADMIN, InvoiceNotFound)},
    summary="Any client's invoice as a PDF (admin)",
)
async def any_invoice_pdf(db: SessionDep, _: AdminAccount, invoice_id: InvoiceId) -> Response:
    return await _pdf_response(await _any_invoice(db, invoice_id))
