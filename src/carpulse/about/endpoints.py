from __future__ import annotations

import inspect

from fastapi import APIRouter, Request

from carpulse.about.schemas import ApiInfo, ApiVersion, ProblemType, ServiceInfo
from carpulse.errors import CarPulseError, NotFound, problem_catalogue, problem_responses
from carpulse.state import get_state

router = APIRouter(tags=["about"])


@router.get(
    "/",
    response_model=ServiceInfo,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
    summary="Service name, version and links (a browser gets the web app's landing page)",
)
async def root(request: Request) -> ServiceInfo:
    state = get_state(request)
    base = state.settings.base_url
    docs = state.settings.docs_enabled
    return ServiceInfo(
        name=state.settings.app_name,
        version=state.version,
        environment=state.settings.environment.value,
        docs=f"{base}/docs" if docs else None,
        redoc=f"{base}/redoc" if docs else None,
        openapi=f"{base}/openapi.json" if docs else None,
        api=f"{base}/api",
        health=f"{base}/health",
    )


@router.get("/api", response_model=ApiInfo, summary="API name, version and versions")
async def api_info(request: Request) -> ApiInfo:
    state = get_state(request)
    return ApiInfo(
        name=state.settings.app_name,
        version=state.version,
        versions=[ApiVersion(version="v1", path="/api/v1", status="current")],
    )


def _describe(cls: type[CarPulseError]) -> ProblemType:
    return ProblemType(
        type=cls.type_uri(),
        slug=cls.slug,
        status=cls.status,
        title=cls.title,
        description=inspect.getdoc(cls) or cls.title,
    )


@router.get("/problems", response_model=list[ProblemType], summary="Every problem type the API answers with")
async def problems() -> list[ProblemType]:
    return [_describe(cls) for _, cls in sorted(problem_catalogue().items())]


@router.get(
    "/problems/{slug}",
    response_model=ProblemType,
    responses=problem_responses(NotFound),
    summary="What one problem type means",
)
async def problem(slug: str) -> ProblemType:
    cls = problem_catalogue().get(slug)
    if cls is None:
        raise NotFound(f"No problem type '{slug}'.")
    return _describe(cls)
