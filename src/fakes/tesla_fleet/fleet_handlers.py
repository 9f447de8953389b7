"""Handlers of the Fleet API endpoints; authentication, region, scopes, faults and billing are done before them."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from fakes.tesla_fleet import invoice_pdf, vehicle_data, warranty
from fakes.tesla_fleet.catalog import Region
from fakes.tesla_fleet.charging import SORT_KEYS
from fakes.tesla_fleet.fleet import Account, Vehicle
from fakes.tesla_fleet.oauth import AccessToken

if TYPE_CHECKING:
    from fakes.tesla_fleet.fake import TeslaFleetFake

MAX_HISTORY_PAGE_SIZE = 50
COMMANDS = frozenset(
    {
        "honk_horn",
        "flash_lights",
        "door_lock",
        "door_unlock",
        "auto_conditioning_start",
        "auto_conditioning_stop",
        "charge_start",
        "charge_stop",
        "charge_port_door_open",
        "charge_port_door_close",
        "set_charge_limit",
    }
)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class FleetError(Exception):
    """An error answer in the Fleet envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class FleetCall:
    fake: TeslaFleetFake
    request: Request
    region: Region
    root: str
    token: AccessToken
    params: dict[str, str]

    @property
    def account(self) -> Account:
        if self.token.account is None:
            raise FleetError(403, "Unauthorized: a third-party user token is required")
        return self.fake.accounts[self.token.account]

    @property
    def now(self) -> datetime:
        return self.fake.clock()

    def vehicle(self, tag: str | None = None) -> Vehicle:
        """The caller's vehicle by VIN or id; another account's vehicle is as unknown as a made-up one."""
        tag = tag if tag is not None else self.params["tag"]
        found = self.account.vehicle(tag)
        if found is None:
            raise FleetError(404, f"{tag} not_found")
        return found

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def dx(self, body: dict[str, Any]) -> JSONResponse:
        """`/dx/*` answers are bare objects unless the wrapped envelope is switched on."""
        wrapped = self.fake.faults.settings(self.token.account).wrap_dx
        return JSONResponse({"response": body} if wrapped else body)


Handler = Callable[[FleetCall], Awaitable[Response]]


def ok(body: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"response": body, **extra})


async def users_region(call: FleetCall) -> Response:
    region = call.account.region
    return ok({"region": region, "fleet_api_base_url": f"{call.root}/{region}"})


async def users_me(call: FleetCall) -> Response:
    account = call.account
    return ok(
        {
            "email": account.email,
            "full_name": account.full_name,
            "profile_image_url": f"https://vehicle-files.example/profile/{account.vault_uuid[:8]}.jpg",
            "vault_uuid": account.vault_uuid,
        }
    )


def _non_negative_int(call: FleetCall, name: str, default: int) -> int:
    raw = call.query(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FleetError(400, "invalid_field") from None
    if value < 0:
        raise FleetError(400, "invalid_field")
    return value


async def list_vehicles(call: FleetCall) -> Response:
    account = call.account
    page = max(1, _non_negative_int(call, "page", 1))
    per_page = max(1, _non_negative_int(call, "per_page", 100))
    total = len(account.vehicles)
    pages = max(1, math.ceil(total / per_page))
    shown = account.vehicles[(page - 1) * per_page : page * per_page]
    pagination = {
        "previous": str(page - 1) if page > 1 else None,
        "next": str(page + 1) if page < pages else None,
        "current": page,
        "per_page": per_page,
        "count": total,
        "pages": pages,
    }
    return ok([vehicle_data.summary(vehicle, account) for vehicle in shown], pagination=pagination, count=total)


async def get_vehicle(call: FleetCall) -> Response:
    return ok(vehicle_data.summary(call.vehicle(), call.account))


async def wake_up(call: FleetCall) -> Response:
    vehicle = call.vehicle()
    vehicle.wake(timedelta(seconds=call.fake.wake_delay_seconds))
    return ok(vehicle_data.summary(vehicle, call.account, with_user=True))


def _online(vehicle: Vehicle) -> None:
    if vehicle.state != "online":
        raise FleetError(408, "vehicle unavailable: vehicle is offline or asleep")


async def get_vehicle_data(call: FleetCall) -> Response:
    vehicle = call.vehicle()
    _online(vehicle)
    raw = call.query("endpoints")
    sections = [part.strip() for part in raw.split(";") if part.strip()] if raw is not None else None
    body = vehicle_data.vehicle_data(
        vehicle,
        call.account,
        seed=call.fake.seed,
        now=call.now,
        sections=sections,
        location="vehicle_location" in call.token.scopes,
    )
    return ok(body)


async def service_data(call: FleetCall) -> Response:
    return ok(vehicle_data.service_data(call.vehicle(), seed=call.fake.seed, anchor=call.fake.anchor))


async def recent_alerts(call: FleetCall) -> Response:
    return ok(vehicle_data.recent_alerts(call.vehicle(), seed=call.fake.seed, anchor=call.fake.anchor))


async def release_notes(call: FleetCall) -> Response:
    staged = (call.query("staged") or "").lower() in ("true", "1")
    return ok(vehicle_data.release_notes(call.vehicle(), seed=call.fake.seed, staged=staged))


async def command(call: FleetCall) -> Response:
    name = call.params["command"]
    if name not in COMMANDS:
        raise FleetError(400, "invalid_command")
    charging = name.startswith(("charge_", "set_charge"))
    if "vehicle_cmds" not in call.token.scopes and not (charging and "vehicle_charging_cmds" in call.token.scopes):
        raise FleetError(403, "Unauthorized missing scopes")
    _online(call.vehicle())
    return ok({"result": True, "reason": ""})


async def warranty_details(call: FleetCall) -> Response:
    vin = call.query("vin")
    if not vin:
        raise FleetError(400, "invalid_field")
    return call.dx(warranty.details(call.vehicle(vin), today=call.fake.anchor))


async def _json_body(call: FleetCall) -> dict[str, Any]:
    if not call.request.headers.get("content-type", "").startswith("application/json"):
        raise FleetError(406, "not_a_JSON_request")
    try:
        body = json.loads(await call.request.body() or b"{}")
    except ValueError:
        raise FleetError(400, "invalid_request") from None
    if not isinstance(body, dict):
        raise FleetError(400, "invalid_request")
    return body


async def fleet_status(call: FleetCall) -> Response:
    vins = (await _json_body(call)).get("vins")
    if not isinstance(vins, list) or not vins or not all(isinstance(vin, str) for vin in vins):
        raise FleetError(400, "invalid_field")
    mine = [vehicle for vin in vins if (vehicle := call.account.vehicle(vin)) is not None]
    info = {}
    for vehicle in mine:
        entry: dict[str, Any] = {
            "firmware_version": vehicle.firmware.split(" ")[0],
            # Cars built before the 2021 refresh of Model S/X accept unsigned commands.
            "vehicle_command_protocol_required": vehicle.car_type != "models2"
            and not (vehicle.model.name == "Model X" and vehicle.delivered_on.year < 2021),
            "fleet_telemetry_version": "1.0.0",
            "total_number_of_keys": 3 + vehicle.id % 4,
        }
        if len(vins) == 1:
            entry["discounted_device_data"] = False
        info[vehicle.vin] = entry
    return ok({"key_paired_vins": [], "unpaired_vins": [vehicle.vin for vehicle in mine], "vehicle_info": info})


def _moment(call: FleetCall, name: str) -> datetime | None:
    raw = call.query(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise FleetError(400, "invalid_field") from None
    if moment.tzinfo is None:
        raise FleetError(400, "invalid_field")
    return moment


async def charging_history(call: FleetCall) -> Response:
    page_no = _non_negative_int(call, "pageNo", 1)
    page_size = _non_negative_int(call, "pageSize", MAX_HISTORY_PAGE_SIZE)
    if not 1 <= page_size <= MAX_HISTORY_PAGE_SIZE:
        raise FleetError(400, "invalid_field")
    sort_by = call.query("sortBy") or "chargeStartDateTime"
    sort_order = (call.query("sortOrder") or "DESC").upper()
    if sort_by not in SORT_KEYS or sort_order not in ("ASC", "DESC"):
        raise FleetError(400, "invalid_field")
    vin = call.query("vin") or None
    if vin is not None:
        call.vehicle(vin)  # another account's VIN is as unknown as a made-up one: 404
    sessions = call.account.charging.query(
        vin=vin,
        start=_moment(call, "startTime"),
        end=_moment(call, "endTime"),
        sort_by=sort_by,
        descending=sort_order == "DESC",
    )
    # pageNo 0 and 1 both mean the first page (clients disagree on the base).
    first = (max(page_no, 1) - 1) * page_size
    page = sessions[first : first + page_size]
    return call.dx({"data": [session.to_json() for session in page], "totalResults": len(sessions)})


async def charging_invoice(call: FleetCall) -> Response:
    content_id = call.params["content_id"]
    found = call.account.charging.invoices.get(content_id)
    if found is None:
        raise FleetError(404, f"{content_id} not_found")
    failing = call.fake.faults.settings(call.token.account).failing_invoices
    if failing and content_id in failing:
        raise FleetError(500, "upstream internal error")
    session, invoice = found
    vehicle = call.vehicle(session.vin)
    pdf = invoice_pdf.render(session, invoice, customer=call.account.full_name, vehicle_name=vehicle.display_name)
    disposition = f'attachment; filename="{invoice.file_name}"'
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


async def register_partner(call: FleetCall) -> Response:
    domain = (await _json_body(call)).get("domain")
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        raise FleetError(400, "invalid_field")
    return ok(call.fake.partners.register(call.region, domain, call.now))


async def partner_public_key(call: FleetCall) -> Response:
    domain = call.query("domain") or ""
    key = call.fake.partners.public_key(call.region, domain)
    if key is None:
        raise FleetError(404, f"{domain} not_found")
    return ok({"public_key": key})
