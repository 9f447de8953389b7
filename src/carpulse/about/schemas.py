from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ServiceInfo(BaseModel):
    name: str
    version: str
    environment: str
    docs: str | None = Field(description="null where the API docs are not served (production by default)")
    redoc: str | None
    openapi: str | None
    api: str
    health: str


class ApiVersion(BaseModel):
    version: str
    path: str
    status: Literal["current", "deprecated"]


class ApiInfo(BaseModel):
    name: str
    version: str
    versions: list[ApiVersion]


class ProblemType(BaseModel):
    type: str
    slug: str
    status: int
    title: str
    description: str
