"""`/_control/*`: switch faults, read billing and the call log, list accounts, reset — over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from fakes.tesla_fleet.fleet_api import fake_of


class FaultChange(BaseModel):
    """The fields of `TeslaFleetFake.set_fault`; absent or null fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    account: str | None = None
    asleep: bool | None = None
    rate_limit_retry_after: int | None = Field(default=None, ge=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    latency_seconds: float | None = Field(default=None, ge=0, le=60)
    expire_tokens: bool | None = None
    wrap_dx: bool | None = None
    failing_invoices: list[str] | None = Field(default=None, max_length=10_000)


router = APIRouter(prefix="/_control", tags=["sandbox control"])


@router.get("/faults")
async def faults(request: Request) -> dict[str, Any]:
    return fake_of(request).faults.as_json()


@router.post("/faults")
async def set_faults(request: Request, change: FaultChange) -> dict[str, Any]:
    fake = fake_of(request)
    if change.account is not None and change.account not in fake.accounts:
        raise HTTPException(404, f"no sandbox account named {change.account!r}")
    fake.set_fault(**change.model_dump())
    return fake.faults.as_json()


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    fake = fake_of(request)
    fake.clear_faults()
    return fake.faults.as_json()


@router.get("/billing")
async def billing(request: Request) -> dict[str, Any]:
    fake = fake_of(request)
    totals = {kind: fake.billing.count(category=kind) for kind in ("data", "wakes", "commands")}
    return {
        "accounts": fake.billing.snapshot(),
        "totals": totals,
        "total": sum(totals.values()),
        "cost_usd": str(fake.billing.cost_usd()),
    }


@router.get("/calls")
async def calls(request: Request) -> list[dict[str, Any]]:
    return [call._asdict() for call in fake_of(request).calls]


@router.get("/accounts")
async def accounts(request: Request) -> list[dict[str, Any]]:
    fake = fake_of(request)
    return [
        {
            "name": account.name,
            "region": account.region,
            "country": account.market.country,
            "vehicles": [
                {
                    "vin": vehicle.vin,
                    "display_name": vehicle.display_name,
                    "model": vehicle.model_name,
                    "model_year": vehicle.model_year,
                    "state": vehicle.state,
                }
                for vehicle in account.vehicles
            ],
        }
        for account in fake.accounts.values()
    ]


@router.post("/reset")
async def reset(request: Request) -> dict[str, str]:
    fake_of(request).reset()
    return {"status": "reset"}
