"""Admin: Data API plans and clients."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from carpulse.auth.dependencies import AdminAccount
from carpulse.auth.errors import AdminRequired, InvalidToken
from carpulse.database import SessionDep
from carpulse.errors import DependencyUnavailable, ValidationFailed, problem_responses
from carpulse.plan.errors import DataClientNotFound, PlanCodeTaken, PlanInUse, PlanNotFound
from carpulse.plan.schemas import (
    DataClientList,
    DataClientRead,
    PlanChange,
    PlanCreate,
    PlanList,
    PlanRead,
    PlanUpdate,
    Suspension,
)
from carpulse.plan.service import plans
from carpulse.state import get_state

router = APIRouter(prefix="/admin", tags=["data-api-admin"])

_ADMIN = (InvalidToken, AdminRequired, DependencyUnavailable)


@router.get("/plans", response_model=PlanList, responses=problem_responses(*_ADMIN), summary="Every plan")
async def list_plans(request: Request, db: SessionDep, _: AdminAccount) -> PlanList:
    return PlanList(plans=await plans.all(db, get_state(request).clock))


@router.post(
    "/plans",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=problem_responses(*_ADMIN, PlanCodeTaken, ValidationFailed),
    summary="Add a plan (usable at once)",
)
async def create_plan(request: Request, db: SessionDep, _: AdminAccount, body: PlanCreate) -> PlanRead:
    return await plans.create(db, body, get_state(request).clock)


@router.patch(
    "/plans/{code}",
    response_model=PlanRead,
    responses=problem_responses(*_ADMIN, PlanNotFound, ValidationFailed),
    summary="Change a plan: its quota and prices from the next UTC day, its name at once",
)
async def update_plan(request: Request, db: SessionDep, _: AdminAccount, code: str, body: PlanUpdate) -> PlanRead:
    return await plans.update(db, code, body, get_state(request).clock)


@router.delete(
    "/plans/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*_ADMIN, PlanNotFound, PlanInUse),
    summary="Remove a plan nobody is on",
)
async def delete_plan(db: SessionDep, _: AdminAccount, code: str) -> Response:
    await plans.delete(db, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/data-clients", response_model=DataClientList, responses=problem_responses(*_ADMIN), summary="Every API client"
)
async def list_clients(db: SessionDep, _: AdminAccount) -> DataClientList:
    return DataClientList(clients=await plans.clients(db))


_CLIENT_ERRORS = problem_responses(*_ADMIN, DataClientNotFound, ValidationFailed)


@router.put(
    "/data-clients/{account_id}/plan",
    response_model=DataClientRead,
    responses=problem_responses(*_ADMIN, DataClientNotFound, PlanNotFound, ValidationFailed),
    summary="Move a client to another plan (at once)",
)
async def move_client(db: SessionDep, _: AdminAccount, account_id: uuid.UUID, body: PlanChange) -> DataClientRead:
    return await plans.move(db, account_id, body.plan)


@router.post(
    "/data-clients/{account_id}/suspend",
    response_model=DataClientRead,
    responses=_CLIENT_ERRORS,
    summary="Suspend a client: its calls answer 403 on every replica within a second",
)
async def suspend_client(
    request: Request, db: SessionDep, _: AdminAccount, account_id: uuid.UUID, body: Suspension
) -> DataClientRead:
    return await plans.suspend(db, account_id, body.reason, get_state(request).clock)


@router.post(
    "/data-clients/{account_id}/reinstate",
    response_model=DataClientRead,
    responses=_CLIENT_ERRORS,
    summary="Reinstate a suspended client",
)
async def reinstate_client(request: Request, db: SessionDep, _: AdminAccount, account_id: uuid.UUID) -> DataClientRead:
    return await plans.suspend(db, account_id, None, get_state(request).clock)
