"""The Data API: vehicle and model data per call, metered (key or JWT, quota, exactly-once usage)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from cachetools import TTLCache
from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.api_key.dependencies import DataCallerDep
from carpulse.api_key.errors import ApiClientRequired, InvalidApiKey
from carpulse.data_api.schemas import BatchEntry, BatchRequest, BatchResponse
from carpulse.database import SessionDep
from carpulse.errors import CarPulseError, DependencyUnavailable, RateLimited, ValidationFailed, problem_responses
from carpulse.kit.examples import example_response
from carpulse.plan.errors import ClientSuspended
from carpulse.state import State, get_state
from carpulse.usage.errors import IdempotencyKeyReused, InvalidIdempotencyKey, QuotaExceeded
from carpulse.usage.meter import Billable, MeterDep
from carpulse.vehicle_model.errors import ModelNotFound, NoData
from carpulse.vehicle_model.schemas import DynamicVehicle, ModelPage, ModelTrendline, ModelWarranty, StaticVehicle
from carpulse.vehicle_model.service import vehicle_models
from carpulse.vin.decoder import check
from carpulse.vin.errors import InvalidVin, VinUnknown

router = APIRouter(tags=["data-api"])

# Every metered call can answer these, besides its own.
_METERED = (
    InvalidApiKey,
    ApiClientRequired,
    ClientSuspended,
    QuotaExceeded,
    RateLimited,
    InvalidIdempotencyKey,
    IdempotencyKeyReused,
    DependencyUnavailable,
)
VinPath = Annotated[str, Path(description="17 characters, upper case, no I, O or Q", examples=["5YJ3E7EB4LF000001"])]


async def _static(db: AsyncSession, vin: str) -> StaticVehicle:
    static = await vehicle_models.static_for_vin(db, vin)
    if static.match == "none":
        raise VinUnknown(
            f"We know VINs of {static.make} but not the model this one names, so we have no data on it.", wmi=vin[:3]
        )
    return static


@router.get(
    "/vehicle/static/{vin}",
    response_model=StaticVehicle,
    responses={**example_response("vehicle_static"), **problem_responses(*_METERED, InvalidVin, VinUnknown)},
    summary="Static data of a VIN: model, version, capacity, range, warranty (1 billable unit)",
)
async def vehicle_static(meter: MeterDep, vin: VinPath) -> Response:
    vin = check(vin)  # before the quota: a VIN that is none is answered free

    async def work(db: AsyncSession) -> Billable:
        return Billable(await _static(db, vin), vin=vin)

    return await meter.answer("vehicle.static", work)


@router.get(
    "/vehicle/dynamic/{vin}",
    response_model=DynamicVehicle,
    responses={**example_response("vehicle_dynamic"), **problem_responses(*_METERED, InvalidVin, NoData)},
    summary="Dynamic data of a VIN: battery state of health, odometer, latest readings (1 billable unit)",
)
async def vehicle_dynamic(request: Request, meter: MeterDep, vin: VinPath) -> Response:
    vin = check(vin)
    state = get_state(request)
    synthetic, memo = state.settings.data_api_synthetic, _dynamic_answers(state)

    async def work(db: AsyncSession) -> Billable:
        return Billable(await vehicle_models.dynamic_for_vin(db, vin, synthetic=synthetic, memo=memo), vin=vin)

    return await meter.answer("vehicle.dynamic", work)


@router.post(
    "/vehicle/batch",
    response_model=BatchResponse,
    responses={**example_response("vehicle_batch"), **problem_responses(*_METERED, ValidationFailed)},
    summary="Data of up to 100 VINs in one call (1 billable unit per VIN answered)",
)
async def vehicle_batch(request: Request, meter: MeterDep, body: BatchRequest) -> Response:
    limit = get_state(request).settings.data_api.batch_max_vins
    if len(body.vins) > limit:
        raise ValidationFailed(f"A batch has at most {limit} VINs; this one has {len(body.vins)}.")
    twice = [vin for vin, count in Counter(body.vins).items() if count > 1]
    if twice:
        raise ValidationFailed(f"{twice[0]!r} is listed twice; list each VIN once.")
    checked: list[tuple[str, CarPulseError | None]] = []
    for vin in body.vins:
        try:
            checked.append((check(vin), None))
        except InvalidVin as error:
            checked.append((vin, error))
    valid = sum(1 for _, error in checked if error is None)

    state = get_state(request)
    synthetic, memo = state.settings.data_api_synthetic, _dynamic_answers(state)

    async def work(db: AsyncSession) -> Billable:
        results = []
        for vin, error in checked:
            entry = BatchEntry(vin=vin, status=200, billed=False)
            if error is None:
                try:
                    if "static" in body.include:
                        entry.static = await _static(db, vin)
                    if "dynamic" in body.include:
                        try:
                            entry.dynamic = await vehicle_models.dynamic_for_vin(
                                db, vin, synthetic=synthetic, memo=memo
                            )
                        except NoData as missing:
                            if entry.static is None:
                                raise
                            entry.problem = _problem(missing)  # static answered: the VIN is billed for it
                    entry.billed = True
                except (VinUnknown, NoData) as found:
                    error = found
            if error is not None:
                entry.status = error.status
                entry.problem = _problem(error)
            results.append(entry)
        billed = sum(1 for entry in results if entry.billed)
        return Billable(BatchResponse(results=results, billed_units=billed), units=billed)

    return await meter.answer("vehicle.batch", work, units=valid)


def _problem(error: CarPulseError) -> dict[str, Any]:
    return {
        "type": error.type_uri(),
        "title": error.title,
        "status": error.status,
        "detail": error.detail or error.title,
        **error.extensions,
    }


@router.get(
    "/models",
    response_model=ModelPage,
    responses={
        **example_response("models"),
        **problem_responses(InvalidApiKey, ApiClientRequired, ValidationFailed, DependencyUnavailable),
    },
    summary="The model catalogue, searched (free)",
)
async def list_models(
    db: SessionDep,
    _: DataCallerDep,
    query: Annotated[str | None, Query(max_length=100, description="words of the id, make, model or version")] = None,
    make: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ModelPage:
    return await vehicle_models.list_models(db, query, make, limit, offset)


# A model's curves change slowly and cost a read of its whole cohort: a replica reuses them this long.
TRENDLINE_SECONDS = 600


# A VIN's dynamic answer, reused while its shared readings stay the same ones (see `dynamic_for_vin`); the
# time bounds what depends on the clock alone (an estimate's age).
DYNAMIC_SECONDS = 300


def _dynamic_answers(state: State) -> TTLCache[tuple[str, bool], tuple[object, DynamicVehicle]]:
    cache = state.replica_caches.get("data_api.dynamic")
    if cache is None:
        cache = TTLCache(maxsize=20_000, ttl=DYNAMIC_SECONDS)
        state.replica_caches["data_api.dynamic"] = cache
    return cache


def _trendlines(state: State) -> TTLCache[tuple[str, bool, int], ModelTrendline]:
    cache = state.replica_caches.get("data_api.trendline")
    if cache is None:
        cache = TTLCache(maxsize=2_000, ttl=TRENDLINE_SECONDS)
        state.replica_caches["data_api.trendline"] = cache
    return cache


ModelPath = Annotated[str, Path(max_length=100, description="a catalogue model id (see /api/v1/models)")]


@router.get(
    "/models/{model_id}/trendline",
    response_model=ModelTrendline,
    responses={**example_response("model_trendline"), **problem_responses(*_METERED, ModelNotFound)},
    summary="A model's state of health against km and age: percentiles per bin, small cohorts withheld (1 unit)",
)
async def model_trendline(request: Request, meter: MeterDep, model_id: ModelPath) -> Response:
    state = get_state(request)
    settings = state.settings
    cache = _trendlines(state)
    key = (model_id, settings.data_api_synthetic, settings.data_api.min_cohort)

    async def work(db: AsyncSession) -> Billable:
        trendline = cache.get(key)
        if trendline is None:
            trendline = await vehicle_models.trendline(
                db, model_id, synthetic=settings.data_api_synthetic, min_cohort=settings.data_api.min_cohort
            )
            cache[key] = trendline
        return Billable(trendline)

    return await meter.answer("models.trendline", work)


@router.get(
    "/models/{model_id}/warranty",
    response_model=ModelWarranty,
    responses={**example_response("model_warranty"), **problem_responses(*_METERED, ModelNotFound)},
    summary="A model's published warranty terms (1 billable unit)",
)
async def model_warranty(meter: MeterDep, model_id: ModelPath) -> Response:
    async def work(db: AsyncSession) -> Billable:
        return Billable(await vehicle_models.warranty(db, model_id))

    return await meter.answer("models.warranty", work)
