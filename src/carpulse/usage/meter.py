"""`Meter`: how a Data API endpoint answers a billable call, exactly once.

One call: the kept answer of its `Idempotency-Key` if there is one (a retry, not billed again); else the
client's standing (suspended → 403), its per-second burst limit, its daily quota (429 past it), the work,
and the usage record plus the kept answer in the work's own transaction. The answer leaves only after that
commit, so a call is billed if and only if it was answered or its answer is kept for its retry; errors,
ours or the caller's, are never billed and give their quota unit back.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from limits import RateLimitItem, parse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.api_key.dependencies import DataCaller, DataCallerDep
from carpulse.database import transaction
from carpulse.models import IdempotentResponse
from carpulse.plan.service import plans
from carpulse.state import State, get_state
from carpulse.usage.errors import IdempotencyKeyReused, InvalidIdempotencyKey
from carpulse.usage.repository import UsageRepository
from carpulse.usage.service import Reservation, usage

IDEMPOTENCY_HEADER = "Idempotency-Key"
REQUEST_ID_HEADER = "CarPulse-Request-Id"
BILLED_HEADER = "CarPulse-Billed-Units"
REPLAYED_HEADER = "Idempotent-Replayed"
_JSON = "application/json"


@dataclass(frozen=True)
class Billable:
    """What a metered endpoint's work returns: the answer, and how many units it bills (0: none)."""

    payload: BaseModel
    units: int = 1
    vin: str | None = None


Work = Callable[[AsyncSession], Awaitable[Billable]]


@functools.lru_cache(maxsize=256)
def _burst(per_second: int) -> RateLimitItem:
    return parse(f"{per_second}/second")


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not all("!" <= char <= "~" for char in key):
        raise InvalidIdempotencyKey("The Idempotency-Key header must be 1 to 255 visible ASCII characters.")
    return key


async def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(await request.body())
    return digest.hexdigest()


def _replay(kept: IdempotentResponse) -> Response:
    headers = {**kept.headers, REPLAYED_HEADER: "true"}
    return Response(content=kept.body, status_code=kept.status_code, media_type=kept.media_type, headers=headers)


class Meter:
    def __init__(self, request: Request, caller: DataCaller) -> None:
        self.request = request
        self.caller = caller
        self.state: State = get_state(request)

    async def answer(self, endpoint: str, work: Work, *, units: int = 1) -> Response:
        """Run `work` as one billable call of `endpoint` reserving `units` of the quota; see the module."""
        state, caller = self.state, self.caller
        key = _idempotency_key(self.request)
        fingerprint = await _fingerprint(self.request) if key is not None else ""
        reservation: Reservation | None = None
        try:
            async with transaction(state.sessionmaker, state.jobs) as db:
                now = state.clock.now()
                repository = UsageRepository(db)
                if key is not None:
                    kept = await repository.kept_answer(caller.account_id, key, now)
                    if kept is not None:
                        if kept.fingerprint != fingerprint:
                            raise IdempotencyKeyReused(
                                "This Idempotency-Key was used for another request; send a new key per request."
                            )
                        return _replay(kept)
                    await repository.forget_expired_answer(caller.account_id, key, now)
                standing = await plans.standing(db, state, caller.account_id)
                burst = await state.rate_limiter.hit_rate(
                    "data-burst", _burst(standing.burst_per_second), str(caller.account_id)
                )
                reservation = await usage.reserve(db, state, standing, units)
                billable = await work(db)
                if billable.units < reservation.units:
                    await usage.release(state, reservation, reservation.units - billable.units)
                request_id = uuid.uuid4().hex
                # The day's quota, or for a plan without one its per-second limit: every answer says its limit.
                limits = reservation.headers(now) or (burst.headers() if burst is not None else {})
                headers = {
                    **limits,
                    REQUEST_ID_HEADER: request_id,
                    BILLED_HEADER: str(billable.units),
                }
                body = billable.payload.model_dump_json().encode()
                if billable.units > 0:
                    await usage.record(
                        db,
                        standing,
                        request_id=request_id,
                        api_key_id=caller.key_id,
                        endpoint=endpoint,
                        vin=billable.vin,
                        units=billable.units,
                        now=now,
                    )
                if key is not None:
                    await repository.keep_answer(
                        IdempotentResponse(
                            account_id=caller.account_id,
                            key=key,
                            fingerprint=fingerprint,
                            request_id=request_id,
                            status_code=200,
                            media_type=_JSON,
                            headers=headers,
                            body=body,
                            created_at=now,
                            expires_at=now + timedelta(hours=state.settings.data_api.idempotency_hours),
                        )
                    )
        except IntegrityError:
            # The same key's twin committed first: this one bills nothing and answers what the twin answered.
            if reservation is not None:
                await usage.release(state, reservation)
            if key is None:
                raise
            return await self._twin(key, fingerprint)
        except BaseException:
            if reservation is not None:
                await usage.release(state, reservation)
            raise
        return Response(content=body, media_type=_JSON, headers=headers)

    async def _twin(self, key: str, fingerprint: str) -> Response:
        async with self.state.sessionmaker() as db:
            kept = await UsageRepository(db).kept_answer(self.caller.account_id, key, self.state.clock.now())
        if kept is None:
            raise RuntimeError("an idempotency key conflicted but no answer is kept under it")
        if kept.fingerprint != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was used for another request; send a new key per request.")
        return _replay(kept)


def get_meter(request: Request, caller: DataCallerDep) -> Meter:
    return Meter(request, caller)


MeterDep = Annotated[Meter, Depends(get_meter)]
