from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from carpulse.auth.dependencies import AdminAccount
from carpulse.auth.errors import AdminRequired, InvalidToken
from carpulse.database import SessionDep
from carpulse.errors import ValidationFailed, problem_responses
from carpulse.reconcile_run.schemas import ReconcileRunList
from carpulse.reconcile_run.service import reconcile_runs

router = APIRouter(prefix="/admin", tags=["operations-admin"])


@router.get(
    "/reconcile-runs",
    response_model=ReconcileRunList,
    responses=problem_responses(InvalidToken, AdminRequired, ValidationFailed),
    summary="The reconciler's last rounds: when, on which process, what each sweep found (admin)",
)
async def list_runs(
    db: SessionDep,
    _: AdminAccount,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    only_found: Annotated[bool, Query(description="only rounds that found lost work")] = False,
) -> ReconcileRunList:
    return await reconcile_runs.latest(db, limit, only_found)
