from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.auth.dependencies import AdminAccount
from carpulse.auth.errors import AdminRequired, InvalidToken
from carpulse.connect.dependencies import ConnectContextDep
from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.connect.schemas import Locale
from carpulse.connect.service import ConnectContext, connect
from carpulse.database import SessionDep
from carpulse.errors import RateLimited, ValidationFailed, problem_responses
from carpulse.kit.money import plain_rate
from carpulse.pricing.errors import (
    NothingSelected,
    VoucherCodeTaken,
    VoucherInvalid,
    VoucherNotFound,
)
from carpulse.pricing.repository import VoucherRepository
from carpulse.pricing.schemas import (
    Catalog,
    QuoteRead,
    QuoteRequest,
    VoucherCheck,
    VoucherCheckResult,
    VoucherCreate,
    VoucherRead,
    VoucherUpdate,
    VoucherUses,
)
from carpulse.pricing.service import pricing
from carpulse.rate_limit import limit_by_ip_and_session
from carpulse.state import State, get_state

router = APIRouter(prefix="/pricing", tags=["pricing"])
_ADMIN = (InvalidToken, AdminRequired)
VoucherId = Annotated[str, Path(max_length=64)]


@router.get(
    "/catalog", response_model=Catalog, responses=problem_responses(ValidationFailed), summary="Packages and prices"
)
async def catalog(request: Request, response: Response, locale: Locale = Locale.en) -> Catalog:
    settings = get_state(request).settings
    response.headers["Cache-Control"] = "public, max-age=300"
    return pricing.catalog(settings.pricing.vat_rate_percent, settings.pricing.currency, locale.value)


@router.post(
    "/quote",
    response_model=QuoteRead,
    responses=problem_responses(ConnectSessionNotFound, NothingSelected, VoucherInvalid, ValidationFailed, RateLimited),
    summary="Price the session's selection (the server computes every amount)",
    description="A quote with a voucher code counts against the `voucher` rate limit, by client IP and by session.",
)
async def quote(
    request: Request, response: Response, body: QuoteRequest, db: SessionDep, context: ConnectContextDep
) -> QuoteRead:
    if body.voucher_code:
        await limit_by_ip_and_session(request, "voucher", body.session_id)
    state = get_state(request)
    session = await connect.get(context, body.session_id)
    settings = state.settings.pricing
    row = await pricing.quote(
        db,
        session,
        body.voucher_code,
        now=state.clock.now(),
        vat_rate=settings.vat_rate_percent,
        currency=settings.currency,
        ttl_seconds=settings.quote_ttl_seconds,
    )
    return QuoteRead(
        quote_id=row.id,
        session_id=row.session_id,
        package=row.package,
        vins=row.vins,
        lines=row.lines,
        currency=row.currency,
        subtotal_cents=row.subtotal_cents,
        discount_cents=row.discount_cents,
        net_cents=row.net_cents,
        vat_rate=plain_rate(row.vat_rate),
        vat_cents=row.vat_cents,
        gross_cents=row.gross_cents,
        voucher_code=row.voucher_code,
        expires_at=row.expires_at,
    )


@router.post(
    "/validate-voucher",
    response_model=VoucherCheckResult,
    responses=problem_responses(ConnectSessionNotFound, NothingSelected, ValidationFailed, RateLimited),
    summary="Check a voucher against a session's selection (or a package and vehicle count)",
    description=(
        "Every code that cannot be used now gets the same answer (`reason: unavailable`), whether it exists "
        "or not; the admin's `POST /vouchers/check` tells why. Counts against the `voucher` rate limit, by "
        "client IP and by session."
    ),
)
async def validate_voucher(
    request: Request, response: Response, body: VoucherCheck, db: SessionDep, context: ConnectContextDep
) -> VoucherCheckResult:
    await limit_by_ip_and_session(request, "voucher", body.session_id)
    return await _check(get_state(request), body, db, context, precise=False)


async def _check(
    state: State, body: VoucherCheck, db: AsyncSession, context: ConnectContext, *, precise: bool
) -> VoucherCheckResult:
    customer_key = None
    if body.session_id:
        session = await connect.get(context, body.session_id)
        if session.selection is None:
            raise NothingSelected("Select vehicles and a package for this session first.")
        package, count, customer_key = session.selection.package, len(session.selection.vins), session.customer_key
    elif body.package is not None:
        package, count = body.package, body.vehicle_count or 1
    else:
        raise ValidationFailed("Give a session_id, or a package and vehicle_count.", field="session_id")
    return await pricing.check_voucher(
        db,
        body.code,
        package=package,
        vehicle_count=count,
        customer_key=customer_key,
        now=state.clock.now(),
        vat_rate=state.settings.pricing.vat_rate_percent,
        locale=body.locale.value,
        precise=precise,
    )


@router.post(
    "/vouchers/check",
    response_model=VoucherCheckResult,
    responses=problem_responses(*_ADMIN, ConnectSessionNotFound, NothingSelected, ValidationFailed),
    summary="Check a voucher with the precise reason it cannot be used (admin)",
)
async def check_voucher(
    request: Request, _: AdminAccount, body: VoucherCheck, db: SessionDep, context: ConnectContextDep
) -> VoucherCheckResult:
    return await _check(get_state(request), body, db, context, precise=True)


@router.get(
    "/vouchers", response_model=list[VoucherRead], responses=problem_responses(*_ADMIN), summary="All vouchers (admin)"
)
async def list_vouchers(_: AdminAccount, db: SessionDep) -> list[VoucherRead]:
    return [VoucherRead.model_validate(v) for v in await VoucherRepository(db).list()]


@router.post(
    "/vouchers",
    response_model=VoucherRead,
    status_code=201,
    responses=problem_responses(*_ADMIN, VoucherCodeTaken, ValidationFailed),
    summary="Create a voucher (admin)",
)
async def create_voucher(_: AdminAccount, body: VoucherCreate, db: SessionDep) -> VoucherRead:
    return VoucherRead.model_validate(await pricing.create_voucher(db, body))


@router.get(
    "/vouchers/{voucher_id}",
    response_model=VoucherRead,
    responses=problem_responses(*_ADMIN, VoucherNotFound),
    summary="One voucher (admin)",
)
async def get_voucher(_: AdminAccount, voucher_id: VoucherId, db: SessionDep) -> VoucherRead:
    return VoucherRead.model_validate(await pricing.get_voucher(db, voucher_id))


@router.get(
    "/vouchers/{voucher_id}/uses",
    response_model=VoucherUses,
    responses=problem_responses(*_ADMIN, VoucherNotFound),
    summary="The orders that used a voucher: reserved at checkout, confirmed once paid, released if not (admin)",
)
async def voucher_uses(_: AdminAccount, voucher_id: VoucherId, db: SessionDep) -> VoucherUses:
    return await pricing.voucher_uses(db, voucher_id)


@router.patch(
    "/vouchers/{voucher_id}",
    response_model=VoucherRead,
    responses=problem_responses(*_ADMIN, VoucherNotFound, VoucherInvalid, ValidationFailed),
    summary="Change a voucher's window, caps, packages or state (admin)",
)
async def update_voucher(_: AdminAccount, voucher_id: VoucherId, body: VoucherUpdate, db: SessionDep) -> VoucherRead:
    return VoucherRead.model_validate(await pricing.update_voucher(db, voucher_id, body))


@router.delete(
    "/vouchers/{voucher_id}",
    response_model=VoucherRead,
    responses=problem_responses(*_ADMIN, VoucherNotFound),
    summary="Switch a voucher off (admin; orders keep referring to it)",
)
async def deactivate_voucher(_: AdminAccount, voucher_id: VoucherId, db: SessionDep) -> VoucherRead:
    return VoucherRead.model_validate(await pricing.deactivate_voucher(db, voucher_id))
