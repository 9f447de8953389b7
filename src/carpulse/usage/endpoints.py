"""Billing: a Data API client's usage (its key or its JWT), and its admin view."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from carpulse.api_key.dependencies import DataCallerDep
from carpulse.api_key.errors import ApiClientRequired, InvalidApiKey
from carpulse.auth.dependencies import AdminAccount
from carpulse.auth.errors import AdminRequired, InvalidToken
from carpulse.database import SessionDep
from carpulse.errors import DependencyUnavailable, ValidationFailed, problem_responses
from carpulse.plan.errors import DataClientNotFound
from carpulse.plan.service import plans
from carpulse.state import get_state
from carpulse.usage.schemas import GroupBy, UsageReport
from carpulse.usage.service import usage

router = APIRouter(prefix="/billing", tags=["data-api-billing"])
admin_router = APIRouter(prefix="/admin/data-clients", tags=["data-api-admin"])

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
    responses=problem_responses(InvalidApiKey, ApiClientRequired, ValidationFailed, DependencyUnavailable),
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
    "/{account_id}/usage",
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
