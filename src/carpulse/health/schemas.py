from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DependencyCheck(BaseModel):
    status: Literal["up", "down"]
    latency_ms: float
    backend: str = Field(description="what serves it: postgresql, sqlite, redis, memory, local")
    error: str | None = None


class HealthReport(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str
    environment: str
    failing: list[str] = Field(default_factory=list, description="names of the dependencies that are down")
    checks: dict[str, DependencyCheck]


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
