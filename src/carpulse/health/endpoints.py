from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from carpulse.health.schemas import HealthReport, Liveness
from carpulse.health.service import health
from carpulse.state import get_state

router = APIRouter(prefix="/health", tags=["health"])


@router.get(
    "",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "A dependency is down; `failing` names it"}},
    summary="Readiness: every dependency's state and latency",
)
async def readiness(request: Request) -> JSONResponse:
    report = await health.check(get_state(request))
    return JSONResponse(
        report.model_dump(mode="json"),
        status_code=200 if report.status == "ok" else 503,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/live", response_model=Liveness, summary="Liveness: the process serves")
async def liveness() -> Liveness:
    return Liveness()
