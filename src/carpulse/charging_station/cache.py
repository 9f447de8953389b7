"""Open Charge Map's answers in the ephemeral store, so replicas share them (Redis) and OCM is asked once.

An entry is fresh for `fresh_seconds` and kept for `keep_seconds`: past its freshness it is served only while
OCM fails, and says so. The key is the normalised OCM query, hashed: it holds a rounded position of a driver.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ValidationError

from carpulse.charging_station.open_charge_map.client import PoiSearch
from carpulse.charging_station.schemas import Operator, Site
from carpulse.kit.ephemeral import EphemeralStore

# Bump when the stored shape changes: entries of the old shape are then simply not found.
_VERSION = "1"
_REFERENCE_KEY = f"charging-stations:v{_VERSION}:operators"


class CachedSites(BaseModel):
    fetched_at: datetime
    sites: list[Site]


class CachedOperators(BaseModel):
    operators: list[Operator]


@dataclass(frozen=True)
class StationCache:
    store: EphemeralStore
    fresh_seconds: int
    keep_seconds: int
    reference_seconds: int

    @staticmethod
    def key(search: PoiSearch) -> str:
        canonical = json.dumps(search.params(), sort_keys=True, separators=(",", ":"))
        return f"charging-stations:v{_VERSION}:{hashlib.sha256(canonical.encode()).hexdigest()}"

    @property
    def keeps(self) -> bool:
        return self.keep_seconds > 0

    async def get(self, key: str) -> CachedSites | None:
        raw = await self.store.get(key)
        if raw is None:
            return None
        try:
            return CachedSites.model_validate_json(raw)
        except ValidationError:
            return None

    async def put(self, key: str, entry: CachedSites) -> None:
        if self.keeps:
            await self.store.set(key, entry.model_dump_json(), self.keep_seconds)

    async def operators(self) -> list[Operator] | None:
        raw = await self.store.get(_REFERENCE_KEY)
        if raw is None:
            return None
        try:
            return CachedOperators.model_validate_json(raw).operators
        except ValidationError:
            return None

    async def put_operators(self, operators: list[Operator]) -> None:
        await self.store.set(
            _REFERENCE_KEY, CachedOperators(operators=operators).model_dump_json(), self.reference_seconds
        )
