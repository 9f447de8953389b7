"""Vouchers: the list, create, edit, switch off, and the orders that used each (the pricing service's own calls)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from carpulse.database import SessionDep
from carpulse.models import Voucher, VoucherKind
from carpulse.pricing.catalog import PackageCode
from carpulse.pricing.errors import VoucherCodeTaken, VoucherInvalid, VoucherNotFound
from carpulse.pricing.repository import VoucherRepository
from carpulse.pricing.schemas import VoucherCreate, VoucherUpdate
from carpulse.pricing.service import pricing
from carpulse.web.admin.forms import (
    FormErrors,
    decimal,
    field_errors,
    local_input,
    minor_units,
    optional_count,
    text,
    utc_moment,
)
from carpulse.web.admin.page import admin_page
from carpulse.web.csrf import verify_csrf
from carpulse.web.pages import PageError, page_router, redirect
from carpulse.web.session import PageAdmin

router = page_router()

BACK = ("web.admin.action.vouchers", "/admin/vouchers")
COUNT_ERROR = "web.admin.form.error.count"
DATE_ERROR = "web.admin.voucher.error.date"
AMOUNT_ERROR = "web.admin.form.error.amount"
VALUE_ERROR = "web.admin.voucher.error.value"
_FIELDS = {
    "code": ("code", "web.admin.voucher.error.code"),
    "kind": ("kind", "web.admin.voucher.error.kind"),
    "percent_off": ("value", VALUE_ERROR),
    "amount_off_cents": ("value", VALUE_ERROR),
    "valid_from": ("valid_from", DATE_ERROR),
    "valid_until": ("valid_until", "web.admin.voucher.error.window"),
    "max_redemptions": ("max_redemptions", COUNT_ERROR),
    "max_per_customer": ("max_per_customer", COUNT_ERROR),
    "packages": ("packages", "web.admin.voucher.error.packages"),
    "min_amount_cents": ("min_amount", AMOUNT_ERROR),
}


async def _voucher(db: AsyncSession, voucher_id: str) -> Voucher:
    try:
        return await pricing.get_voucher(db, voucher_id)
    except VoucherNotFound as exc:
        raise PageError(404, "web.admin.voucher.not_found", action=BACK) from exc


def _packages(form: FormData) -> list[str] | None:
    chosen = [value for value in form.getlist("packages") if isinstance(value, str)]
    return chosen or None


def _limits(form: FormData, errors: FormErrors) -> dict[str, Any]:
    """The fields create and edit share: window, caps, packages, minimum amount."""
    minimum = decimal(form, "min_amount", errors, AMOUNT_ERROR)
    if minimum is not None and (minimum < 0 or minimum != minimum.quantize(Decimal("0.01"))):
        errors["min_amount"] = AMOUNT_ERROR
    return {
        "valid_from": utc_moment(form, "valid_from", errors, DATE_ERROR),
        "valid_until": utc_moment(form, "valid_until", errors, DATE_ERROR),
        "max_redemptions": optional_count(form, "max_redemptions", errors, COUNT_ERROR),
        "max_per_customer": optional_count(form, "max_per_customer", errors, COUNT_ERROR),
        "packages": _packages(form),
        "min_amount_cents": minor_units(minimum) or 0,
    }


def _values_of(voucher: Voucher) -> dict[str, Any]:
    """A voucher as the edit form's values."""
    return {
        "valid_from": local_input(voucher.valid_from),
        "valid_until": local_input(voucher.valid_until),
        "max_redemptions": voucher.max_redemptions or "",
        "max_per_customer": voucher.max_per_customer or "",
        "packages": voucher.packages or [],
        "min_amount": f"{Decimal(voucher.min_amount_cents) / 100:.2f}" if voucher.min_amount_cents else "",
        "active": voucher.active,
    }


def _submitted(form: FormData) -> dict[str, Any]:
    """What the admin typed, to show again beside the errors."""
    names = ("code", "kind", "value", "valid_from", "valid_until", "max_redemptions", "max_per_customer", "min_amount")
    return {name: text(form, name) for name in names} | {
        "packages": _packages(form) or [],
        "active": form.get("active") is not None,
    }


@router.get("/admin/vouchers")
async def voucher_list(request: Request, db: SessionDep, admin: PageAdmin) -> Response:
    vouchers = sorted(await VoucherRepository(db).list(), key=lambda voucher: voucher.created_at, reverse=True)
    return admin_page(request, "pages/admin/vouchers.html", vouchers=vouchers)


def _form(request: Request, values: dict[str, Any], errors: FormErrors, status_code: int = 200) -> Response:
    return admin_page(
        request,
        "pages/admin/voucher_new.html",
        status_code=status_code,
        values=values,
        errors=errors,
        package_codes=[code.value for code in PackageCode],
    )


@router.get("/admin/vouchers/new")
async def new_voucher(request: Request, admin: PageAdmin) -> Response:
    return _form(request, {"kind": "percent", "active": True, "packages": []}, FormErrors())


@router.post("/admin/vouchers", dependencies=[Depends(verify_csrf)])
async def create_voucher(request: Request, db: SessionDep, admin: PageAdmin) -> Response:
    form = await request.form()
    errors = FormErrors()
    kind = text(form, "kind")
    value = decimal(form, "value", errors, VALUE_ERROR)
    if value is None and "value" not in errors:
        errors["value"] = VALUE_ERROR
    body: dict[str, Any] = {"code": text(form, "code") or None, "kind": kind, **_limits(form, errors)}
    body["active"] = form.get("active") is not None
    if kind == VoucherKind.fixed.value:
        cents = minor_units(value)
        if value is not None and Decimal(cents or 0) != value * 100:
            errors["value"] = VALUE_ERROR
        body["amount_off_cents"] = cents
    else:
        body["percent_off"] = value
    try:
        valid = VoucherCreate.model_validate(body)
    except ValidationError as exc:
        whole = ("value", VALUE_ERROR) if "voucher has" in str(exc) else ("valid_until", _FIELDS["valid_until"][1])
        errors = FormErrors(field_errors(exc, _FIELDS, whole) | errors)
    if errors:
        return _form(request, _submitted(form), errors, 422)
    try:
        voucher = await pricing.create_voucher(db, valid)
    except VoucherCodeTaken:
        # The failed insert ends the request's transaction; the page still needs the signed-in admin.
        await db.rollback()
        await db.refresh(admin)
        return _form(request, _submitted(form), FormErrors(code="web.admin.voucher.error.code_taken"), 409)
    return redirect(request, f"/admin/vouchers/{voucher.id}?saved=created")


async def _detail(
    request: Request,
    db: AsyncSession,
    voucher: Voucher,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    uses = await pricing.voucher_uses(db, str(voucher.id))
    return admin_page(
        request,
        "pages/admin/voucher.html",
        status_code=status_code,
        voucher=voucher,
        uses=uses.uses,
        values=values if values is not None else _values_of(voucher),
        errors=errors or FormErrors(),
        package_codes=[code.value for code in PackageCode],
        saved=request.query_params.get("saved"),
    )


@router.get("/admin/vouchers/{voucher_id}")
async def voucher_page(request: Request, db: SessionDep, admin: PageAdmin, voucher_id: str) -> Response:
    return await _detail(request, db, await _voucher(db, voucher_id))


@router.post("/admin/vouchers/{voucher_id}", dependencies=[Depends(verify_csrf)])
async def update_voucher(request: Request, db: SessionDep, admin: PageAdmin, voucher_id: str) -> Response:
    voucher = await _voucher(db, voucher_id)
    form = await request.form()
    errors = FormErrors()
    body = _limits(form, errors) | {"active": form.get("active") is not None}
    try:
        valid = VoucherUpdate.model_validate(body)
    except ValidationError as exc:
        errors = FormErrors(field_errors(exc, _FIELDS, ("valid_until", _FIELDS["valid_until"][1])) | errors)
    if errors:
        return await _detail(request, db, voucher, _submitted(form), errors, 422)
    try:
        await pricing.update_voucher(db, str(voucher.id), valid)
    except VoucherInvalid as exc:
        await db.rollback()
        await db.refresh(admin)
        voucher = await _voucher(db, voucher_id)
        field = "max_redemptions" if exc.extensions.get("field") == "max_redemptions" else "valid_until"
        message = "web.admin.voucher.error.below_uses" if field == "max_redemptions" else _FIELDS["valid_until"][1]
        return await _detail(request, db, voucher, _submitted(form), FormErrors({field: message}), 422)
    return redirect(request, f"/admin/vouchers/{voucher.id}?saved=updated")


@router.post("/admin/vouchers/{voucher_id}/deactivate", dependencies=[Depends(verify_csrf)])
async def deactivate_voucher(request: Request, db: SessionDep, admin: PageAdmin, voucher_id: str) -> Response:
    voucher = await _voucher(db, voucher_id)
    await pricing.deactivate_voucher(db, str(voucher.id))
    return redirect(request, f"/admin/vouchers/{voucher.id}?saved=deactivated")
