"""The Fleet API hosts, one per region under `/na`, `/eu`, `/cn`: the endpoint table and the request pipeline.

Every call goes through the same steps, in this order: latency, injected 5xx, token (401), rate limit
(429), route (404/405), token kind (403), region (421), partner registration (412), scopes (403), handler.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from fakes.tesla_fleet import fleet_handlers as handlers
from fakes.tesla_fleet.catalog import REGIONS, Region
from fakes.tesla_fleet.faults import Call, Category
from fakes.tesla_fleet.fleet_handlers import FleetCall, FleetError, Handler
from fakes.tesla_fleet.oauth import AccessToken, TokenRejected

if TYPE_CHECKING:
    from fakes.tesla_fleet.fake import TeslaFleetFake

_DEVICE = ("vehicle_device_data",)
_CHARGING = ("vehicle_charging_cmds",)


@dataclass(frozen=True)
class Endpoint:
    """One Fleet endpoint: pricing category (None: never billed), scopes (any one suffices), caller's token kind."""

    method: str
    path: str
    category: Category | None
    scopes: tuple[str, ...]
    handler: Handler
    caller: Literal["user", "partner"] = "user"
    any_region: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


# The pricing category of every endpoint, in one place. Tesla documents only vehicle_data (data),
# wake_up (wakes) and commands; the other reads are billed as data here (reference §8.1, unconfirmed).
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "users/region", "data", (), handlers.users_region, any_region=True),
    Endpoint("GET", "users/me", "data", ("user_data",), handlers.users_me),
    Endpoint("GET", "vehicles", "data", _DEVICE, handlers.list_vehicles),
    Endpoint("POST", "vehicles/fleet_status", "data", _DEVICE, handlers.fleet_status),
    Endpoint("GET", "vehicles/{tag}", "data", _DEVICE, handlers.get_vehicle),
    Endpoint("POST", "vehicles/{tag}/wake_up", "wakes", ("vehicle_device_data", "vehicle_cmds"), handlers.wake_up),
    Endpoint("GET", "vehicles/{tag}/vehicle_data", "data", _DEVICE, handlers.get_vehicle_data),
    Endpoint("GET", "vehicles/{tag}/service_data", "data", _DEVICE, handlers.service_data),
    Endpoint("GET", "vehicles/{tag}/recent_alerts", "data", _DEVICE, handlers.recent_alerts),
    Endpoint("GET", "vehicles/{tag}/release_notes", "data", _DEVICE, handlers.release_notes),
    Endpoint("POST", "vehicles/{tag}/command/{command}", "commands", ("vehicle_cmds", *_CHARGING), handlers.command),
    Endpoint("GET", "dx/warranty/details", "data", _DEVICE, handlers.warranty_details),
    Endpoint("GET", "dx/charging/history", "data", _CHARGING, handlers.charging_history),
    Endpoint("GET", "dx/charging/invoice/{content_id}", "data", _CHARGING, handlers.charging_invoice),
    Endpoint("POST", "partner_accounts", None, (), handlers.register_partner, caller="partner"),
    Endpoint("GET", "partner_accounts/public_key", None, (), handlers.partner_public_key, caller="partner"),
)
_SERVER_ERRORS = {500: "upstream internal error", 503: "service unavailable", 504: "gateway timeout"}


def fake_of(request: Request) -> TeslaFleetFake:
    """The fake whose app is serving `request` (its routes are shared by every fake in the process)."""
    fake: TeslaFleetFake = request.app.state.fake
    return fake


def root_url(request: Request) -> str:
    """The fake's absolute root, including any mount prefix (`root_path`)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def relative_path(request: Request) -> str:
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def error(status: int, message: str, txid: str) -> JSONResponse:
    return JSONResponse({"response": None, "error": message, "error_description": "", "txid": txid}, status)


def _match(method: str, path: str) -> tuple[Endpoint | None, dict[str, str], bool]:
    """The endpoint, its path parameters, and whether the path exists under another method."""
    other_method = False
    for endpoint in ENDPOINTS:
        found = endpoint.pattern.match(path)
        if found is None:
            continue
        if endpoint.method == method:
            return endpoint, found.groupdict(), False
        other_method = True
    return None, {}, other_method


class FleetApi:
    def __init__(self, fake: TeslaFleetFake) -> None:
        self.fake = fake

    async def handle(self, request: Request, region: Region, path: str) -> Response:
        fake = self.fake
        txid = secrets.token_hex(16)
        endpoint, params, other_method = _match(request.method, path)
        token: AccessToken | None = None
        rejection: TokenRejected | None = None
        try:
            token = fake.authority.authenticate(request.headers.get("authorization"))
        except TokenRejected as exc:
            rejection = exc
        account = token.account if token else rejection.account if rejection else None
        settings = fake.faults.settings(account)
        if settings.latency_seconds:
            await asyncio.sleep(settings.latency_seconds)
        if settings.error_rate and fake.fault_random.random() < settings.error_rate:
            status = fake.fault_random.choice(tuple(_SERVER_ERRORS))
            response: Response = error(status, _SERVER_ERRORS[status], txid)
        elif rejection is not None or token is None:
            response = error(401, rejection.message if rejection else "invalid bearer token", txid)
        elif settings.rate_limit_retry_after:
            response = _rate_limited(settings.rate_limit_retry_after)
        else:
            response = await self._serve(request, region, endpoint, params, other_method, token, txid)
        response.headers["x-txid"] = txid
        category = endpoint.category if endpoint else "data"
        if response.status_code < 500 and account is not None and category is not None:
            fake.billing.record(account, category)
        fake.calls.append(Call(account, request.method, relative_path(request), response.status_code))
        return response

    async def _serve(
        self,
        request: Request,
        region: Region,
        endpoint: Endpoint | None,
        params: dict[str, str],
        other_method: bool,
        token: AccessToken,
        txid: str,
    ) -> Response:
        fake, root = self.fake, root_url(request)
        if endpoint is None:
            return error(405, "method_not_allowed", txid) if other_method else error(404, "not_found", txid)
        if endpoint.caller != token.kind:
            needed = "a partner token" if endpoint.caller == "partner" else "a third-party user token"
            return error(403, f"Unauthorized: this endpoint requires {needed}", txid)
        if token.account is not None:
            home = fake.accounts[token.account].region
            if home != region and not endpoint.any_region:
                see = "see https://developer.tesla.com/docs/fleet-api"
                return error(421, f"user out of region, use base URL: {root}/{home}, {see}", txid)
            if fake.require_partner_registration and not fake.partners.registered(region):
                return error(412, _unregistered(fake.client_id, f"{root}/{region}"), txid)
        if endpoint.scopes and not token.scopes.intersection(endpoint.scopes):
            return error(403, "Unauthorized missing scopes", txid)
        call = FleetCall(fake, request, region, root, token, params)
        try:
            return await endpoint.handler(call)
        except FleetError as exc:
            return error(exc.status, exc.message, txid)


def _unregistered(client_id: str, base: str) -> str:
    return (
        f"Account {client_id} must be registered in the current region {base}, please see "
        "https://developer.tesla.com/docs/fleet-api/endpoints/partner-endpoints#register"
    )


def _rate_limited(retry_after: int) -> Response:
    headers = {
        "Retry-After": str(retry_after),
        "RateLimit-Limit": "200",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(retry_after),
    }
    return PlainTextResponse(f"Retry in {retry_after} seconds\n", status_code=429, headers=headers)


router = APIRouter(include_in_schema=False)


@router.get("/{region}/status")
async def status(request: Request, region: str) -> Response:
    if region not in REGIONS:
        return PlainTextResponse("Not Found", status_code=404)
    response = PlainTextResponse("ok")
    fake_of(request).calls.append(Call(None, "GET", relative_path(request), 200))
    return response


@router.api_route("/{region}/api/1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def fleet(request: Request, region: str, path: str) -> Response:
    if region not in REGIONS:
        return PlainTextResponse("Not Found", status_code=404)
    return await FleetApi(fake_of(request)).handle(request, region, path)
