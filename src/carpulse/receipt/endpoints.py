"""`/api/v1/payment/receipt/*` and `/api/v1/payment/credit-note/*`: receipts and credit notes, JSON and PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from carpulse.database import SessionDep
from carpulse.errors import RateLimited, ValidationFailed, problem_responses
from carpulse.rate_limit import limit_by_ip_and_owner
from carpulse.receipt.document import render_credit_note_pdf, render_receipt_pdf
from carpulse.receipt.errors import CreditNoteNotFound, ReceiptNotFound
from carpulse.receipt.schemas import CreditNote, Receipt
from carpulse.receipt.service import receipt as receipts

router = APIRouter(prefix="/payment", tags=["payment"])

TokenId = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


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
