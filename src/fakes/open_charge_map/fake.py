"""`OpenChargeMapFake`: the fake's sites, keys, switches and request log, and the ASGI app serving them."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any, NamedTuple

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from fakes.open_charge_map.reference import reference_data
from fakes.open_charge_map.search import PoiQuery, search
from fakes.open_charge_map.sites import build_sites

SANDBOX_API_KEY = "ocm-sandbox-key"
# What OCM's edge answers (403, plain text) when a call has no key, and when the key is not one it issued.
MISSING_KEY = "You must specify an API Key, either in an X-API-Key header or key= query string parameter."
INVALID_KEY = "REJECTED_APIKEY_INVALID"
# Values OCM's edge treats as no key at all.
_NO_KEY = frozenset({"", "test", "null"})


class Call(NamedTuple):
    """One request to the API (`/v3/…`): its path below `/v3`, the status answered (0: none yet, or the client
    gave up first), and whether a key came."""

    path: str
    status: int
    keyed: bool


@dataclass
class Faults:
    """Switches tests and the sandbox turn on; the defaults are a healthy OCM."""

    down: bool = False
    hang_seconds: float = 0.0
    rate_limit_retry_after: int | None = None
    # How many requests the rate limit refuses before letting calls through again (None: every one).
    rate_limit_requests: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultChange(BaseModel):
    """The fields of `OpenChargeMapFake.set_fault`; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    down: bool | None = None
    hang_seconds: float | None = Field(default=None, ge=0, le=120)
    rate_limit_retry_after: int | None = Field(default=None, ge=0, le=86400)
    rate_limit_requests: int | None = Field(default=None, ge=0)


def fake_of(request: Request) -> OpenChargeMapFake:
    fake: OpenChargeMapFake = request.app.state.fake
    return fake


api = APIRouter(prefix="/v3")
control = APIRouter(prefix="/_control")


def _key_of(request: Request) -> str | None:
    # The query parameter wins over the header, as on OCM's edge.
    key = request.query_params.get("key") or request.headers.get("x-api-key") or ""
    return None if key.strip().lower() in _NO_KEY else key


async def _gate(request: Request, path: str) -> Response | None:
    """The answer when a switch or the key check refuses the call, else None; every call is logged."""
    fake = fake_of(request)
    key = _key_of(request)
    # Logged on arrival: a call held by `hang_seconds` and abandoned by its client still counts.
    index = len(fake.calls)
    fake.calls.append(Call(path, 0, key is not None))
    refusal = await fake.refusal(key)
    fake.calls[index] = Call(path, refusal.status_code if refusal else 200, key is not None)
    return refusal


@api.get("/poi")
@api.get("/poi/")
async def poi(request: Request) -> Response:
    if (refusal := await _gate(request, "/poi")) is not None:
        return refusal
    output = request.query_params.get("output", "json").strip().lower() or "json"
    if output != "json":
        # The real API also speaks geojson, xml, csv and kml; this fake only JSON.
        return PlainTextResponse(f"output={output} is not served by the sandbox fake; use output=json", 400)
    query = PoiQuery.parse(request.query_params)
    return JSONResponse(search(fake_of(request).sites, query))


@api.get("/referencedata")
@api.get("/referencedata/")
async def referencedata(request: Request) -> Response:
    if (refusal := await _gate(request, "/referencedata")) is not None:
        return refusal
    return JSONResponse(reference_data())


@control.get("/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    return fake_of(request).faults.as_json()


@control.post("/faults")
async def post_faults(request: Request, change: FaultChange) -> dict[str, Any]:
    fake = fake_of(request)
    fake.set_fault(**change.model_dump(exclude_none=True))
    return fake.faults.as_json()


@control.delete("/faults")
async def delete_faults(request: Request) -> dict[str, Any]:
    fake = fake_of(request)
    fake.clear_faults()
    return fake.faults.as_json()


@control.get("/calls")
async def get_calls(request: Request) -> dict[str, Any]:
    fake = fake_of(request)
    return {
        "count": len(fake.calls),
        "calls": [call._asdict() for call in fake.calls[-1000:]],
    }


@control.delete("/calls")
async def delete_calls(request: Request) -> dict[str, int]:
    fake_of(request).calls.clear()
    return {"count": 0}


@cache
def _included_routes() -> tuple[BaseRoute, ...]:
    """The fake's routes, included once per process and shared by every fake's app."""
    parent = APIRouter()
    parent.include_router(api)
    parent.include_router(control)
    return tuple(parent.routes)


class OpenChargeMapFake:
    """A deterministic Open Charge Map: `/v3/poi` and `/v3/referencedata`, switches under `/_control`.

    `api_keys` are the keys it accepts (OCM issues them per registered app). The sites are a pure
    function of `seed` (see `fakes.open_charge_map.sites`).
    """

    def __init__(self, seed: int = 7, *, api_keys: tuple[str, ...] = (SANDBOX_API_KEY,)) -> None:
        self.seed = seed
        self.api_keys = frozenset(api_keys)
        self.sites = build_sites(seed)
        self.faults = Faults()
        self.calls: list[Call] = []
        self._throttled = 0
        self.app = FastAPI(title="Open Charge Map fake", docs_url=None, redoc_url=None, openapi_url=None)
        self.app.state.fake = self
        self.app.router.routes.extend(_included_routes())

    def request_count(self, path: str | None = None) -> int:
        """Requests answered so far (refused ones too), for one path below `/v3` or all."""
        return sum(1 for call in self.calls if path is None or call.path == path)

    def set_fault(
        self,
        *,
        down: bool | None = None,
        hang_seconds: float | None = None,
        rate_limit_retry_after: int | None = None,
        rate_limit_requests: int | None = None,
    ) -> None:
        """Switch faults; None leaves a switch as it is.

        `down` answers 503; `hang_seconds` holds every answer that long (a client's timeout fires first);
        `rate_limit_retry_after` answers 429 with that `Retry-After`, for the next `rate_limit_requests`
        calls (None: until cleared).
        """
        changes = {
            "down": down,
            "hang_seconds": hang_seconds,
            "rate_limit_retry_after": rate_limit_retry_after,
            "rate_limit_requests": rate_limit_requests,
        }
        for name, value in changes.items():
            if value is not None:
                setattr(self.faults, name, value)
        if rate_limit_retry_after is not None or rate_limit_requests is not None:
            self._throttled = 0

    def clear_faults(self) -> None:
        self.faults = Faults()
        self._throttled = 0

    async def refusal(self, key: str | None) -> Response | None:
        faults = self.faults
        if faults.hang_seconds:
            await asyncio.sleep(faults.hang_seconds)
        if faults.down:
            return PlainTextResponse("503 Service Temporarily Unavailable", 503)
        if faults.rate_limit_retry_after is not None and (
            faults.rate_limit_requests is None or self._throttled < faults.rate_limit_requests
        ):
            self._throttled += 1
            return PlainTextResponse(
                "Too Many Requests", 429, headers={"Retry-After": str(faults.rate_limit_retry_after)}
            )
        if key is None:
            return PlainTextResponse(MISSING_KEY, 403)
        if key not in self.api_keys:
            return PlainTextResponse(INVALID_KEY, 403)
        return None


__all__ = ["INVALID_KEY", "MISSING_KEY", "SANDBOX_API_KEY", "Call", "Faults", "OpenChargeMapFake"]
