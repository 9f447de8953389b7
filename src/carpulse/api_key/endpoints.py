from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from carpulse.api_key.dependencies import ApiClientAccount
from carpulse.api_key.errors import ApiClientRequired, ApiKeyNotFound
from carpulse.api_key.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyRead
from carpulse.api_key.service import api_keys
from carpulse.auth.errors import InvalidToken
from carpulse.database import SessionDep
from carpulse.errors import DependencyUnavailable, ValidationFailed, problem_responses
from carpulse.kit.examples import example_response
from carpulse.state import get_state

router = APIRouter(prefix="/data/keys", tags=["data-api-keys"])

_ERRORS = (InvalidToken, ApiClientRequired, DependencyUnavailable)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses={**example_response("key_created", 201), **problem_responses(*_ERRORS, ValidationFailed)},
    summary="Create an API key (shown once)",
)
async def create_key(
    request: Request, response: Response, db: SessionDep, account: ApiClientAccount, body: ApiKeyCreate
) -> ApiKeyCreated:
    state = get_state(request)
    row, key = await api_keys.create(db, state.settings, account, body.name, state.clock)
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated.model_validate({**ApiKeyRead.model_validate(row).model_dump(), "key": key})


@router.get(
    "",
    response_model=ApiKeyList,
    responses={**example_response("keys"), **problem_responses(*_ERRORS)},
    summary="Your API keys",
)
async def list_keys(db: SessionDep, account: ApiClientAccount) -> ApiKeyList:
    return ApiKeyList(keys=[ApiKeyRead.model_validate(row) for row in await api_keys.of_account(db, account)])


@router.delete(
    "/{key_id}",
    response_model=ApiKeyRead,
    responses=problem_responses(*_ERRORS, ApiKeyNotFound, ValidationFailed),
    summary="Revoke an API key (at once, on every replica within a second)",
)
async def revoke_key(request: Request, db: SessionDep, account: ApiClientAccount, key_id: uuid.UUID) -> ApiKeyRead:
    state = get_state(request)
    row = await api_keys.revoke(db, account, key_id, state.clock, state.api_key_cache)
    return ApiKeyRead.model_validate(row)
