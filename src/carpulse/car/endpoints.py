from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from carpulse.auth.dependencies import DriverAccount
from carpulse.auth.errors import DriverRequired, InvalidToken
from carpulse.car.errors import (
    CarDriverExists,
    CarDriverNotFound,
    CarHasLockedTrips,
    CarNotFound,
    CarOwnerRequired,
    WebhookTokenNotFound,
)
from carpulse.car.schemas import (
    CarCreate,
    CarDriverAdd,
    CarList,
    CarRead,
    CarUpdate,
    WebhookTokenCreate,
    WebhookTokenCreated,
    WebhookTokenList,
    WebhookTokenRead,
)
from carpulse.car.service import cars, webhook_tokens, webhook_urls
from carpulse.database import SessionDep
from carpulse.errors import ValidationFailed, problem_responses
from carpulse.state import get_state
from carpulse.vin.errors import InvalidVin

router = APIRouter(prefix="/logbook/cars", tags=["logbook-cars"])

_ERRORS = (InvalidToken, DriverRequired)
_CAR = (*_ERRORS, CarNotFound, ValidationFailed)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CarRead,
    responses=problem_responses(*_ERRORS, ValidationFailed, InvalidVin),
    summary="Add a car to your logbook",
)
async def create_car(db: SessionDep, driver: DriverAccount, body: CarCreate) -> CarRead:
    return await cars.create(db, driver, body)


@router.get("", response_model=CarList, responses=problem_responses(*_ERRORS), summary="Your cars, owned and shared")
async def list_cars(db: SessionDep, driver: DriverAccount) -> CarList:
    return CarList(cars=await cars.of_driver(db, driver))


@router.get("/{car_id}", response_model=CarRead, responses=problem_responses(*_CAR), summary="A car")
async def read_car(db: SessionDep, driver: DriverAccount, car_id: uuid.UUID) -> CarRead:
    return await cars.read(db, driver, car_id)


@router.patch(
    "/{car_id}",
    response_model=CarRead,
    responses=problem_responses(*_CAR, CarOwnerRequired, InvalidVin),
    summary="Change a car (its owner)",
)
async def update_car(db: SessionDep, driver: DriverAccount, car_id: uuid.UUID, body: CarUpdate) -> CarRead:
    return await cars.update(db, driver, car_id, body)


@router.delete(
    "/{car_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*_CAR, CarOwnerRequired, CarHasLockedTrips),
    summary="Delete a car with its trips (its owner)",
)
async def delete_car(request: Request, db: SessionDep, driver: DriverAccount, car_id: uuid.UUID) -> Response:
    await cars.delete(db, driver, car_id)
    webhook_tokens.forget(get_state(request).replica_caches)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{car_id}/drivers",
    status_code=status.HTTP_201_CREATED,
    response_model=CarRead,
    responses=problem_responses(*_CAR, CarOwnerRequired, CarDriverExists),
    summary="Share the car with another driver, by their Google address (its owner)",
)
async def add_driver(db: SessionDep, driver: DriverAccount, car_id: uuid.UUID, body: CarDriverAdd) -> CarRead:
    return await cars.add_driver(db, driver, car_id, str(body.email))


@router.delete(
    "/{car_id}/drivers/{driver_id}",
    response_model=CarRead,
    responses=problem_responses(*_CAR, CarOwnerRequired, CarDriverNotFound),
    summary="Take a driver off the car; their webhook tokens for it are revoked (its owner)",
)
async def remove_driver(
    request: Request, db: SessionDep, driver: DriverAccount, car_id: uuid.UUID, driver_id: uuid.UUID
) -> CarRead:
    state = get_state(request)
    car = await cars.remove_driver(db, driver, car_id, driver_id, state.clock)
    webhook_tokens.forget(state.replica_caches)
    return car


@router.post(
    "/{car_id}/webhook-tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookTokenCreated,
    responses=problem_responses(*_CAR),
    summary="Create a webhook token for your phone (shown once)",
)
async def create_webhook_token(
    request: Request,
    response: Response,
    db: SessionDep,
    driver: DriverAccount,
    car_id: uuid.UUID,
    body: WebhookTokenCreate | None = None,
) -> WebhookTokenCreated:
    state = get_state(request)
    car, _ = await cars.get(db, driver, car_id)
    name = body.name if body is not None else WebhookTokenCreate().name
    row, token = await webhook_tokens.create(db, state.settings, driver, car, name, state.clock)
    response.headers["Cache-Control"] = "no-store"
    return WebhookTokenCreated.model_validate(
        {
            **WebhookTokenRead.model_validate(row).model_dump(),
            "token": token,
            "urls": webhook_urls(state.settings, token),
        }
    )


@router.get(
    "/{car_id}/webhook-tokens",
    response_model=WebhookTokenList,
    responses=problem_responses(*_CAR),
    summary="Your webhook tokens for a car",
)
async def list_webhook_tokens(db: SessionDep, driver: DriverAccount, car_id: uuid.UUID) -> WebhookTokenList:
    car, _ = await cars.get(db, driver, car_id)
    rows = await webhook_tokens.of_car(db, driver, car)
    return WebhookTokenList(tokens=[WebhookTokenRead.model_validate(row) for row in rows])


@router.delete(
    "/{car_id}/webhook-tokens/{token_id}",
    response_model=WebhookTokenRead,
    responses=problem_responses(*_CAR, WebhookTokenNotFound),
    summary="Revoke a webhook token: its phone's next call stores nothing",
)
async def revoke_webhook_token(
    request: Request, db: SessionDep, driver: DriverAccount, car_id: uuid.UUID, token_id: uuid.UUID
) -> WebhookTokenRead:
    state = get_state(request)
    car, _ = await cars.get(db, driver, car_id)
    cache = webhook_tokens.cache(state.replica_caches, state.settings)
    row = await webhook_tokens.revoke(db, driver, car, token_id, state.clock, cache)
    return WebhookTokenRead.model_validate(row)
