"""`/api/v1/payment/*` of an order's checkout (start, verify, return, PayPal capture) and `/api/v1/orders/*`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse

from carpulse.auth.dependencies import AdminAccount
from carpulse.auth.errors import AdminRequired, InvalidToken
from carpulse.connect.dependencies import ConnectContextDep
from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.connect.service import connect
from carpulse.database import SessionDep
from carpulse.errors import DependencyUnavailable, RateLimited, ValidationFailed, problem_responses
from carpulse.models import OrderStatus
from carpulse.order.checkout import checkout
from carpulse.order.errors import OrderNotFound, OrderNotPayable
from carpulse.order.schemas import (
    AdminOrderDetail,
    AdminOrderList,
    CreateIntent,
    DataSharingChoice,
    DataSharingRead,
    IntentCreated,
    OrderRead,
    VerifyPayment,
)
from carpulse.order.service import orders
from carpulse.payment.errors import CheckoutAlreadyPaid, CheckoutChanging, ProviderUnavailable
from carpulse.pricing.errors import QuoteExpired, QuoteNotFound, VoucherNoLongerValid, VoucherUsedUp
from carpulse.rate_limit import limit_by_ip
from carpulse.state import get_state

router = APIRouter(prefix="/payment", tags=["payment"])
orders_router = APIRouter(prefix="/orders", tags=["orders"])
admin_router = APIRouter(prefix="/admin", tags=["orders-admin"])

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
    return await checkout.create_intent(db, get_state(request), session, body)


async def _read(request: Request, db: SessionDep, order_id: str) -> OrderRead:
    return await checkout.read_order(db, order_id, get_state(request).settings.connect.connection_days)


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
    order = await checkout.verify(db, get_state(request), body.order_id)
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
    target = await checkout.returned(db, get_state(request), order, via)
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
    order = await checkout.capture(db, get_state(request), order_id)
    return await _read(request, db, order.id)


@orders_router.get(
    "/{order_id}",
    response_model=OrderRead,
    responses=problem_responses(OrderNotFound, ValidationFailed),
    summary="An order with its status history (the id is the capability: unguessable)",
)
async def get_order(request: Request, order_id: TokenId, db: SessionDep) -> OrderRead:
    return await _read(request, db, order_id)


@orders_router.put(
    "/{order_id}/data-sharing",
    response_model=DataSharingRead,
    responses=problem_responses(OrderNotFound, ValidationFailed),
    summary="Choose what may be done with your cars' readings beyond your report (default: nothing)",
)
async def set_data_sharing(order_id: TokenId, db: SessionDep, body: DataSharingChoice) -> DataSharingRead:
    order, changed = await orders.share_data(db, order_id, body.sharing)
    return DataSharingRead(order_id=order.id, sharing=order.data_sharing, readings=changed)


@orders_router.get(
    "/{order_id}/data-sharing",
    response_model=DataSharingRead,
    responses=problem_responses(OrderNotFound, ValidationFailed),
    summary="What you let us do with your cars' readings beyond your report",
)
async def get_data_sharing(order_id: TokenId, db: SessionDep) -> DataSharingRead:
    order = await orders.get(db, order_id)
    return DataSharingRead(order_id=order.id, sharing=order.data_sharing)


@admin_router.get(
    "/orders",
    response_model=AdminOrderList,
    responses=problem_responses(InvalidToken, AdminRequired, ValidationFailed),
    summary="Every order, newest first, filtered and paged (admin)",
)
async def admin_orders(
    db: SessionDep,
    _: AdminAccount,
    q: Annotated[
        str | None,
        Query(max_length=128, description="the start of an order id, session id, payment id or reference, or voucher"),
    ] = None,
    status: OrderStatus | None = None,
    provider: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    failed_reports: Annotated[bool, Query(description="only orders with a failed report (to re-run it)")] = False,
) -> AdminOrderList:
    return await orders.admin_list(db, q, status, provider, limit, offset, failed_reports)


@admin_router.get(
    "/orders/{order_id}",
    response_model=AdminOrderDetail,
    responses=problem_responses(InvalidToken, AdminRequired, OrderNotFound),
    summary="Any order with its status history (admin)",
)
async def admin_order(db: SessionDep, _: AdminAccount, order_id: TokenId) -> AdminOrderDetail:
    return await orders.admin_detail(db, order_id)
