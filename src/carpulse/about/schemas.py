from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ServiceInfo(BaseModel):
    name: str
    version: str
    environment: str
    docs: str
    redoc: str
    openapi: str
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
