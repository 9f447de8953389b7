"""`/api/v1/payment/webhook/*` (signature verified, stored in the inbox) and Apple Pay's domain file."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from carpulse.database import SessionDep
from carpulse.errors import DependencyUnavailable, RateLimited, problem_responses
from carpulse.payment.errors import ApplePayDomainNotConfigured, ProviderUnavailable, WebhookRejected
from carpulse.payment.schemas import WebhookAccepted
from carpulse.payment.service import payments
from carpulse.rate_limit import limit_by_ip
from carpulse.state import get_state

router = APIRouter(prefix="/payment", tags=["payment"])
well_known_router = APIRouter(prefix="/.well-known", tags=["payment"])


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
