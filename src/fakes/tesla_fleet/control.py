"""`/_control/*`: switch faults, read billing and the call log, list accounts, reset — over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from fakes.tesla_fleet.fake import TeslaFleetFake


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


def router(fake: TeslaFleetFake) -> APIRouter:
    routes = APIRouter(prefix="/_control", tags=["sandbox control"])

    @routes.get("/faults")
    async def faults() -> dict[str, Any]:
        return fake.faults.as_json()

    @routes.post("/faults")
    async def set_faults(change: FaultChange) -> dict[str, Any]:
        if change.account is not None and change.account not in fake.accounts:
            raise HTTPException(404, f"no sandbox account named {change.account!r}")
        fake.set_fault(**change.model_dump())
        return fake.faults.as_json()

    @routes.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        fake.clear_faults()
        return fake.faults.as_json()

    @routes.get("/billing")
    async def billing() -> dict[str, Any]:
        totals = {kind: fake.billing.count(category=kind) for kind in ("data", "wakes", "commands")}
        return {
            "accounts": fake.billing.snapshot(),
            "totals": totals,
            "total": sum(totals.values()),
            "cost_usd": str(fake.billing.cost_usd()),
        }

    @routes.get("/calls")
    async def calls() -> list[dict[str, Any]]:
        return [call._asdict() for call in fake.calls]

    @routes.get("/accounts")
    async def accounts() -> list[dict[str, Any]]:
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

    @routes.post("/reset")
    async def reset() -> dict[str, str]:
        fake.reset()
        return {"status": "reset"}

    return routes
