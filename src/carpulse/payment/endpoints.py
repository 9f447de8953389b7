"""`/api/v1/payment/*`: checkout, verification, PayPal capture, webhooks, receipts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from carpulse.connect.dependencies import ConnectContextDep
from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.connect.service import connect
from carpulse.database import SessionDep
from carpulse.errors import DependencyUnavailable, RateLimited, ValidationFailed, problem_responses
from carpulse.order.errors import OrderNotFound, OrderNotPayable
from carpulse.payment.errors import (
    ApplePayDomainNotConfigured,
    CheckoutAlreadyPaid,
    CheckoutChanging,
    ProviderUnavailable,
    WebhookRejected,
)
from carpulse.payment.schemas import CreateIntent, IntentCreated, OrderRead, VerifyPayment, WebhookAccepted
from carpulse.payment.service import payments
from carpulse.pricing.errors import QuoteExpired, QuoteNotFound, VoucherNoLongerValid, VoucherUsedUp
from carpulse.rate_limit import limit_by_ip, limit_by_ip_and_owner
from carpulse.receipt.document import render_credit_note_pdf, render_receipt_pdf
from carpulse.receipt.errors import CreditNoteNotFound, ReceiptNotFound
from carpulse.receipt.schemas import CreditNote, Receipt
from carpulse.receipt.service import receipt as receipts
from carpulse.state import get_state

router = APIRouter(prefix="/payment", tags=["payment"])
orders_router = APIRouter(prefix="/orders", tags=["orders"])
well_known_router = APIRouter(prefix="/.well-known", tags=["payment"])

TokenId = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.post(
    "/create-intent",
    response_model=IntentCreated,
    dependencies=[Depends(limit_by_ip("payment"))],
    responses=problem_responses(
        ConnectSessionNotFound,
        QuoteNotFound,
        QuoteExpired,
        OrderNotPayable,
        CheckoutAlreadyPaid,
        CheckoutChanging,
        VoucherUsedUp,
        VoucherNoLongerValid,
        ProviderUnavailable,
        ValidationFailed,
        RateLimited,
        DependencyUnavailable,
    ),
    summary="Create the order and the provider payment for a quote (again with another provider: switch)",
)
async def create_intent(
    request: Request, body: CreateIntent, db: SessionDep, context: ConnectContextDep
) -> IntentCreated:
    session = await connect.get(context, body.session_id)
    return await payments.create_intent(db, get_state(request), session, body)


async def _read(request: Request, db: SessionDep, order_id: str) -> OrderRead:
    return await payments.read_order(db, order_id, get_state(request).settings.connect.connection_days)


@router.post(
    "/verify",
    response_model=OrderRead,
    dependencies=[Depends(limit_by_ip("verification"))],
    responses=problem_responses(
        OrderNotFound, ProviderUnavailable, ValidationFailed, RateLimited, DependencyUnavailable
    ),
    summary="Ask the provider for the payment's state and bring the order in line",
)
async def verify(request: Request, body: VerifyPayment, db: SessionDep) -> OrderRead:
    order = await payments.verify(db, get_state(request), body.order_id)
    return await _read(request, db, order.id)


@router.get(
    "/return",
    status_code=303,
    response_class=RedirectResponse,
    dependencies=[Depends(limit_by_ip("verification"))],
    responses={
        303: {"description": "to the frontend with `checkout=<reference>&payment=<outcome>` (see README, Payments)"},
        **problem_responses(OrderNotFound, ValidationFailed, RateLimited),
    },
    summary="Where the provider sends the customer back: the order is brought in line, then the outcome is named",
)
async def checkout_return(
    request: Request,
    db: SessionDep,
    order: Annotated[str, Query(min_length=16, max_length=512, pattern=r"^[A-Za-z0-9_=-]+$")],
    via: Annotated[Literal["cancel"] | None, Query()] = None,
) -> RedirectResponse:
    target = await payments.returned(db, get_state(request), order, via)
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


@router.post(
    "/capture/paypal/{order_id}",
    response_model=OrderRead,
    dependencies=[Depends(limit_by_ip("payment"))],
    responses=problem_responses(
        OrderNotFound, OrderNotPayable, ProviderUnavailable, ValidationFailed, RateLimited, DependencyUnavailable
    ),
    summary="Capture an approved PayPal order",
)
async def capture_paypal(request: Request, order_id: TokenId, db: SessionDep) -> OrderRead:
    order = await payments.capture(db, get_state(request), order_id)
    return await _read(request, db, order.id)


async def _webhook(provider: str, request: Request, db: SessionDep) -> JSONResponse:
    body = await request.body()
    new = await payments.receive_webhook(db, get_state(request), provider, body, request.headers)
    return JSONResponse(WebhookAccepted(duplicate=not new).model_dump(), status_code=202)


_WEBHOOK_RESPONSES = {
    202: {"model": WebhookAccepted, "description": "stored; handled by a job (replays are no-ops)"},
    **problem_responses(WebhookRejected, ProviderUnavailable, RateLimited, DependencyUnavailable),
}


@router.post(
    "/webhook/stripe",
    status_code=202,
    response_model=WebhookAccepted,
    dependencies=[Depends(limit_by_ip("webhook"))],
    responses=_WEBHOOK_RESPONSES,
    summary="Stripe's webhook (signature verified)",
)
async def stripe_webhook(request: Request, db: SessionDep) -> JSONResponse:
    return await _webhook("stripe", request, db)


@router.post(
    "/webhook/paypal",
    status_code=202,
    response_model=WebhookAccepted,
    dependencies=[Depends(limit_by_ip("webhook"))],
    responses=_WEBHOOK_RESPONSES,
    summary="PayPal's webhook (certificate signature verified)",
)
async def paypal_webhook(request: Request, db: SessionDep) -> JSONResponse:
    return await _webhook("paypal", request, db)


@router.get(
    "/receipt/{receipt_id}",
    response_model=Receipt,
    responses=problem_responses(ReceiptNotFound, ValidationFailed),
    summary="A receipt (by receipt id or order id)",
)
async def receipt(receipt_id: TokenId, db: SessionDep) -> Receipt:
    return await receipts.get(db, receipt_id)


@router.get(
    "/receipt/{receipt_id}/pdf",
    response_class=Response,
    dependencies=[Depends(limit_by_ip_and_owner("pdf", "receipt_id"))],
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **problem_responses(ReceiptNotFound, ValidationFailed, RateLimited),
    },
    summary="A receipt as PDF, in the customer's language",
)
async def receipt_pdf(receipt_id: TokenId, db: SessionDep) -> Response:
    document = await receipts.get(db, receipt_id)
    pdf = await render_receipt_pdf(document)
    filename = f"receipt-{document.number}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


@orders_router.get(
    "/{order_id}",
    response_model=OrderRead,
    responses=problem_responses(OrderNotFound, ValidationFailed),
    summary="An order with its status history (the id is the capability: unguessable)",
)
async def get_order(request: Request, order_id: TokenId, db: SessionDep) -> OrderRead:
    return await _read(request, db, order_id)


@router.get(
    "/credit-note/{credit_note_id}",
    response_model=CreditNote,
    responses=problem_responses(CreditNoteNotFound, ValidationFailed),
    summary="A credit note cancelling a refunded order's receipt (by credit-note id or order id)",
)
async def credit_note(credit_note_id: TokenId, db: SessionDep) -> CreditNote:
    return await receipts.get_credit_note(db, credit_note_id)


@router.get(
    "/credit-note/{credit_note_id}/pdf",
    response_class=Response,
    dependencies=[Depends(limit_by_ip_and_owner("pdf", "credit_note_id"))],
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **problem_responses(CreditNoteNotFound, ValidationFailed, RateLimited),
    },
    summary="A credit note as PDF, in the customer's language",
)
async def credit_note_pdf(credit_note_id: TokenId, db: SessionDep) -> Response:
    document = await receipts.get_credit_note(db, credit_note_id)
    pdf = await render_credit_note_pdf(document)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="credit-note-{document.number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@well_known_router.get(
    "/apple-developer-merchantid-domain-association",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **problem_responses(ApplePayDomainNotConfigured),
    },
    summary="Apple Pay's domain-association file (from Stripe's Dashboard), when configured",
)
async def apple_pay_domain_association(request: Request) -> PlainTextResponse:
    content = await payments.apple_pay_domain_association(get_state(request).settings.stripe)
    return PlainTextResponse(content, headers={"Cache-Control": "public, max-age=3600"})
