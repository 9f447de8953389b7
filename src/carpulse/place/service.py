"""Known places and the snapping of a trip's ends to them; changing a place re-labels the unlocked trips."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.config import Settings
from carpulse.geo.track import geodesic_m
from carpulse.kit.logs import get_logger
from carpulse.models import Account, Place, PlaceKind
from carpulse.place.errors import PlaceNotFound
from carpulse.place.schemas import PlaceCreate, PlaceRead, PlaceUpdate

log = get_logger("carpulse.place")


@dataclass(frozen=True, slots=True)
class KnownPlace:
    id: uuid.UUID | None
    name: str
    kind: PlaceKind
    lat: float
    lon: float
    radius_m: float

    def label(self) -> dict[str, Any]:
        return {"id": str(self.id) if self.id else None, "name": self.name, "kind": self.kind.value}


def configured(settings: Settings) -> list[KnownPlace]:
    """The seed's CONFIG_HOME_LAT/LON and CONFIG_OFFICE_LAT/LON, when set."""
    logbook = settings.logbook
    out = []
    if logbook.home_lat is not None and logbook.home_lon is not None:
        out.append(KnownPlace(None, "Home", PlaceKind.home, logbook.home_lat, logbook.home_lon, logbook.place_radius_m))
    if logbook.office_lat is not None and logbook.office_lon is not None:
        out.append(
            KnownPlace(None, "Office", PlaceKind.work, logbook.office_lat, logbook.office_lon, logbook.place_radius_m)
        )
    return out


def snap(places: Sequence[KnownPlace], lat: float | None, lon: float | None) -> KnownPlace | None:
    """The nearest place whose radius holds the point."""
    if lat is None or lon is None:
        return None
    best: tuple[float, KnownPlace] | None = None
    for place in places:
        # A cheap bound first: a degree of latitude is ~111 km, so most places are skipped without a geodesic.
        if abs(place.lat - lat) * 111_000 > place.radius_m:
            continue
        distance = geodesic_m(lat, lon, place.lat, place.lon)
        if distance <= place.radius_m and (best is None or distance < best[0]):
            best = (distance, place)
    return best[1] if best else None


def _known(row: Place) -> KnownPlace:
    return KnownPlace(row.id, row.name, row.kind, row.lat, row.lon, row.radius_m)


def _read(place: KnownPlace, row: Place | None) -> PlaceRead:
    return PlaceRead(
        id=place.id,
        name=place.name,
        kind=place.kind,
        lat=place.lat,
        lon=place.lon,
        radius_m=place.radius_m,
        source="yours" if row is not None else "settings",
        created_at=row.created_at if row is not None else None,
    )


class PlaceService:
    async def known(self, db: AsyncSession, settings: Settings, account_id: uuid.UUID | None) -> list[KnownPlace]:
        """Everything a trip of this driver snaps to: their own places, then the configured ones."""
        own = await self._rows(db, account_id) if account_id is not None else []
        return [_known(row) for row in own] + configured(settings)

    async def of_driver(self, db: AsyncSession, settings: Settings, driver: Account) -> list[PlaceRead]:
        return [_read(_known(row), row) for row in await self._rows(db, driver.id)] + [
            _read(place, None) for place in configured(settings)
        ]

    async def create(
        self, db: AsyncSession, settings: Settings, driver: Account, body: PlaceCreate
    ) -> tuple[Place, KnownPlace]:
        row = Place(
            account_id=driver.id,
            name=body.name,
            kind=body.kind,
            lat=body.lat,
            lon=body.lon,
            radius_m=body.radius_m or settings.logbook.place_radius_m,
        )
        db.add(row)
        await db.flush()
        log.info("place.added", place_id=str(row.id))
        return row, _known(row)

    async def update(
        self, db: AsyncSession, driver: Account, place_id: uuid.UUID, body: PlaceUpdate
    ) -> tuple[Place, KnownPlace, KnownPlace]:
        row = await self.get(db, driver, place_id)
        before = _known(row)
        for field, value in body.model_dump(exclude_unset=True).items():
            if value is not None:
                setattr(row, field, value)
        await db.flush()
        return row, before, _known(row)

    async def delete(self, db: AsyncSession, driver: Account, place_id: uuid.UUID) -> KnownPlace:
        row = await self.get(db, driver, place_id)
        before = _known(row)
        await db.delete(row)
        await db.flush()
        return before

    async def get(self, db: AsyncSession, driver: Account, place_id: uuid.UUID) -> Place:
        row = await db.scalar(select(Place).where(Place.id == place_id, Place.account_id == driver.id))
        if row is None:
            raise PlaceNotFound("No such place among yours.")
        return row

    def read(self, row: Place) -> PlaceRead:
        return _read(_known(row), row)

    async def _rows(self, db: AsyncSession, account_id: uuid.UUID) -> list[Place]:
        statement = select(Place).where(Place.account_id == account_id).order_by(Place.created_at, Place.id)
        return list((await db.execute(statement)).scalars())


def bounds(place: KnownPlace) -> tuple[float, float, float, float]:
    """A box around the place's circle (south, north, west, east), to find the trips it may label."""
    dlat = place.radius_m / 111_000
    dlon = place.radius_m / (111_000 * max(math.cos(math.radians(place.lat)), 0.01))
    return place.lat - dlat, place.lat + dlat, place.lon - dlon, place.lon + dlon


places = PlaceService()
