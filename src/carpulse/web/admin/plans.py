"""Data API plans: the list, a new plan, changing one (the plan service: numbers apply from the next UTC day)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from carpulse.database import SessionDep
from carpulse.plan.errors import PlanCodeTaken, PlanNotFound
from carpulse.plan.schemas import PlanCreate, PlanRead, PlanUpdate
from carpulse.plan.service import plans
from carpulse.state import get_state
from carpulse.web.admin.forms import FormErrors, field_errors, optional_count, text
from carpulse.web.admin.page import admin_page
from carpulse.web.csrf import verify_csrf
from carpulse.web.pages import PageError, page_router, redirect
from carpulse.web.session import PageAdmin

router = page_router()

BACK = ("web.admin.action.plans", "/admin/plans")
COUNT_ERROR = "web.admin.form.error.count"
CENTS_ERROR = "web.admin.plan.error.cents"
_FIELDS = {
    "code": ("code", "web.admin.plan.error.code"),
    "name": ("name", "web.admin.plan.error.name"),
    "daily_quota": ("daily_quota", COUNT_ERROR),
    "unit_price_minor": ("unit_price_minor", CENTS_ERROR),
    "burst_per_second": ("burst_per_second", COUNT_ERROR),
}
_NAMES = ("code", "name", "daily_quota", "unit_price_minor", "burst_per_second")


def _numbers(form: FormData, errors: FormErrors) -> dict[str, Any]:
    price = optional_count(form, "unit_price_minor", errors, CENTS_ERROR)
    burst = optional_count(form, "burst_per_second", errors, COUNT_ERROR)
    if price is None and "unit_price_minor" not in errors:
        errors["unit_price_minor"] = CENTS_ERROR
    if burst is None and "burst_per_second" not in errors:
        errors["burst_per_second"] = COUNT_ERROR
    return {
        "name": text(form, "name"),
        "daily_quota": optional_count(form, "daily_quota", errors, COUNT_ERROR),
        "unit_price_minor": price,
        "burst_per_second": burst,
    }


def _submitted(form: FormData) -> dict[str, str]:
    return {name: text(form, name) for name in _NAMES}


def _values_of(plan: PlanRead) -> dict[str, Any]:
    terms = plan.scheduled or plan.current
    return {
        "code": plan.code,
        "name": plan.name,
        "daily_quota": terms.daily_quota or "",
        "unit_price_minor": terms.unit_price_minor,
        "burst_per_second": terms.burst_per_second,
    }


async def _page(
    request: Request,
    db: AsyncSession,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return admin_page(
        request,
        "pages/admin/plans.html",
        status_code=status_code,
        plans=await plans.all(db, get_state(request).clock),
        values=values or {"burst_per_second": 10, "unit_price_minor": 0},
        errors=errors or FormErrors(),
        saved=request.query_params.get("saved"),
    )


@router.get("/admin/plans")
async def plan_list(request: Request, db: SessionDep, admin: PageAdmin) -> Response:
    return await _page(request, db)


@router.post("/admin/plans", dependencies=[Depends(verify_csrf)])
async def create_plan(request: Request, db: SessionDep, admin: PageAdmin) -> Response:
    form = await request.form()
    errors = FormErrors()
    body = {"code": text(form, "code"), **_numbers(form, errors)}
    try:
        valid = PlanCreate.model_validate(body)
    except ValidationError as exc:
        errors = FormErrors(field_errors(exc, _FIELDS, _FIELDS["code"]) | errors)
    if errors:
        return await _page(request, db, _submitted(form), errors, 422)
    try:
        plan = await plans.create(db, valid, get_state(request).clock)
    except PlanCodeTaken:
        await db.rollback()
        await db.refresh(admin)
        return await _page(request, db, _submitted(form), FormErrors(code="web.admin.plan.error.code_taken"), 409)
    return redirect(request, f"/admin/plans/{plan.code}?saved=created")


async def _plan(request: Request, db: AsyncSession, code: str) -> PlanRead:
    for plan in await plans.all(db, get_state(request).clock):
        if plan.code == code:
            return plan
    raise PageError(404, "web.admin.plan.not_found", action=BACK)


async def _edit(
    request: Request,
    plan: PlanRead,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return admin_page(
        request,
        "pages/admin/plan.html",
        status_code=status_code,
        plan=plan,
        values=values or _values_of(plan),
        errors=errors or FormErrors(),
        saved=request.query_params.get("saved"),
    )


@router.get("/admin/plans/{code}")
async def plan_page(request: Request, db: SessionDep, admin: PageAdmin, code: str) -> Response:
    return await _edit(request, await _plan(request, db, code))


@router.post("/admin/plans/{code}", dependencies=[Depends(verify_csrf)])
async def update_plan(request: Request, db: SessionDep, admin: PageAdmin, code: str) -> Response:
    plan = await _plan(request, db, code)
    form = await request.form()
    errors = FormErrors()
    body = _numbers(form, errors)
    try:
        valid = PlanUpdate.model_validate(body)
    except ValidationError as exc:
        errors = FormErrors(field_errors(exc, _FIELDS, _FIELDS["name"]) | errors)
    if errors:
        return await _edit(request, plan, _submitted(form) | {"code": plan.code}, errors, 422)
    try:
        await plans.update(db, plan.code, valid, get_state(request).clock)
    except PlanNotFound as exc:
        raise PageError(404, "web.admin.plan.not_found", action=BACK) from exc
    return redirect(request, f"/admin/plans/{plan.code}?saved=updated")
