"""Cars and who drives them; webhook tokens minted, listed, revoked and recognised on every phone call.

A webhook token reads `cpw_<32 random base62 characters>` (190 bits) and is stored only as an HMAC-SHA256:
looking a token up by its HMAC compares nothing secret in Python, and an unknown token reads like a revoked
one. A replica trusts a token it checked for `logbook.token_cache_seconds`; a revocation clears its own
replica's memory at once and reaches the others within that time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carpulse.car.errors import (
    CarDriverExists,
    CarDriverNotFound,
    CarHasLockedTrips,
    CarNotFound,
    CarOwnerRequired,
    InvalidWebhookToken,
    WebhookTokenNotFound,
)
from carpulse.car.repository import CarRepository, WebhookTokenRepository
from carpulse.car.schemas import CarCreate, CarDriverRead, CarRead, CarUpdate, WebhookUrls
from carpulse.config import Settings
from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.models import Account, Car, CarDriver, CarRole, Trip, WebhookToken
from carpulse.vin.decoder import check as check_vin

log = get_logger("carpulse.car")

TOKEN_PREFIX = "cpw_"  # noqa: S105 - the prefix every webhook token reads
_ALPHABET = string.digits + string.ascii_letters
_RANDOM_CHARS = 32
_SHOWN_CHARS = 6
_CACHE = "webhook_tokens"
_LOOKUPS = "car.token_lookups"


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """Whose trips a recognised webhook token records."""

    token_id: uuid.UUID
    car_id: uuid.UUID
    driver_id: uuid.UUID


def _vin(value: str | None) -> str | None:
    return check_vin(value) if value is not None else None


class CarService:
    async def create(self, db: AsyncSession, driver: Account, body: CarCreate) -> CarRead:
        car = Car(
            owner_id=driver.id,
            name=body.name,
            brand=body.brand,
            model=body.model,
            plate=body.plate,
            vin=_vin(body.vin),
            odometer_start_km=body.odometer_start_km,
        )
        car, membership = await CarRepository(db, driver).add(car, (driver.email or str(driver.id)).lower())
        log.info("car.added", car_id=str(car.id))
        return await self._read(db, driver, car, membership)

    async def of_driver(self, db: AsyncSession, driver: Account) -> list[CarRead]:
        repository = CarRepository(db, driver)
        rows = await repository.accessible()
        for _, membership in rows:
            await repository.claim(membership)
        drivers = await repository.drivers([car.id for car, _ in rows])
        return [self._shape(car, membership, drivers[car.id]) for car, membership in rows]

    async def get(
        self, db: AsyncSession, driver: Account, car_id: uuid.UUID, *, for_update: bool = False
    ) -> tuple[Car, CarDriver]:
        repository = CarRepository(db, driver)
        row = await repository.get(car_id, for_update=for_update)
        if row is None:
            raise CarNotFound("No such car among yours.")
        await repository.claim(row[1])
        return row

    async def read(self, db: AsyncSession, driver: Account, car_id: uuid.UUID) -> CarRead:
        car, membership = await self.get(db, driver, car_id)
        return await self._read(db, driver, car, membership)

    async def update(self, db: AsyncSession, driver: Account, car_id: uuid.UUID, body: CarUpdate) -> CarRead:
        car, membership = await self._owned(db, driver, car_id)
        changes: dict[str, Any] = body.model_dump(exclude_unset=True)
        if "name" in changes and changes["name"] is None:
            changes.pop("name")  # a car always has a name
        if "vin" in changes:
            changes["vin"] = _vin(changes["vin"])
        for field, value in changes.items():
            setattr(car, field, value)
        await db.flush()
        return await self._read(db, driver, car, membership)

    async def delete(self, db: AsyncSession, driver: Account, car_id: uuid.UUID) -> None:
        car, _ = await self._owned(db, driver, car_id)
        locked = await db.scalar(select(exists().where(Trip.car_id == car.id, Trip.locked_at.is_not(None))))
        if locked:
            raise CarHasLockedTrips("This car's logbook holds locked trips, which the law makes us keep.")
        await CarRepository(db, driver).delete(car)
        log.info("car.deleted", car_id=str(car_id))

    async def add_driver(self, db: AsyncSession, driver: Account, car_id: uuid.UUID, email: str) -> CarRead:
        car, membership = await self._owned(db, driver, car_id)
        repository = CarRepository(db, driver)
        address = email.lower()
        if await repository.driver_by_email(car.id, address) is not None:
            raise CarDriverExists("That address already drives this car.")
        db.add(CarDriver(car_id=car.id, email=address, role=CarRole.driver))
        await db.flush()
        log.info("car.driver_added", car_id=str(car.id))
        return await self._read(db, driver, car, membership)

    async def remove_driver(
        self, db: AsyncSession, driver: Account, car_id: uuid.UUID, driver_id: uuid.UUID, clock: Clock
    ) -> CarRead:
        car, membership = await self._owned(db, driver, car_id)
        target = await CarRepository(db, driver).driver_of_car(car.id, driver_id)
        if target is None or target.role is CarRole.owner:
            raise CarDriverNotFound("No such driver on this car (the owner cannot be removed; delete the car).")
        await db.delete(target)
        if target.account_id is not None:
            await WebhookTokenRepository(db).revoke_of(car.id, target.account_id, clock.now())
        await db.flush()
        return await self._read(db, driver, car, membership)

    async def _owned(self, db: AsyncSession, driver: Account, car_id: uuid.UUID) -> tuple[Car, CarDriver]:
        car, membership = await self.get(db, driver, car_id, for_update=True)
        if membership.role is not CarRole.owner:
            raise CarOwnerRequired("Only the car's owner may change it or its drivers.")
        return car, membership

    async def _read(self, db: AsyncSession, driver: Account, car: Car, membership: CarDriver) -> CarRead:
        drivers = await CarRepository(db, driver).drivers([car.id])
        return self._shape(car, membership, drivers[car.id])

    def _shape(self, car: Car, membership: CarDriver, drivers: list[CarDriver]) -> CarRead:
        # The owner sees everyone on the car; a driver sees only themselves (others' addresses are not theirs).
        visible = drivers if membership.role is CarRole.owner else [d for d in drivers if d.id == membership.id]
        return CarRead(
            id=car.id,
            name=car.name,
            brand=car.brand,
            model=car.model,
            plate=car.plate,
            vin=car.vin,
            odometer_start_km=car.odometer_start_km,
            role=membership.role,
            drivers=[
                CarDriverRead(id=d.id, email=d.email, role=d.role, joined=d.account_id is not None, added_at=d.added_at)
                for d in visible
            ],
            created_at=car.created_at,
            updated_at=car.updated_at,
        )


def webhook_urls(settings: Settings, token: str) -> WebhookUrls:
    """The three URLs a phone calls with `token` as their last segment (for Shortcuts without headers)."""
    base = f"{settings.base_url}/webhook"
    return WebhookUrls(start=f"{base}/start/{token}", ping=f"{base}/ping/{token}", end=f"{base}/end/{token}")


class WebhookTokenService:
    def hash(self, settings: Settings, token: str) -> str:
        key = settings.logbook.webhook_token_secret.get_secret_value().encode()
        return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()

    async def create(
        self, db: AsyncSession, settings: Settings, driver: Account, car: Car, name: str, clock: Clock
    ) -> tuple[WebhookToken, str]:
        random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_CHARS))
        token = f"{TOKEN_PREFIX}{random_part}"
        row = WebhookToken(
            car_id=car.id,
            driver_id=driver.id,
            name=name,
            display_prefix=f"{TOKEN_PREFIX}{random_part[:_SHOWN_CHARS]}",
            secret_hash=self.hash(settings, token),
            created_at=clock.now(),
        )
        await WebhookTokenRepository(db).add(row)
        log.info("car.webhook_token_created", car_id=str(car.id), token_id=str(row.id))
        return row, token

    async def of_car(self, db: AsyncSession, driver: Account, car: Car) -> list[WebhookToken]:
        return await WebhookTokenRepository(db).of_car(car.id, driver.id)

    async def revoke(
        self,
        db: AsyncSession,
        driver: Account,
        car: Car,
        token_id: uuid.UUID,
        clock: Clock,
        cache: TTLCache[str, TokenHolder | None],
    ) -> WebhookToken:
        row = await WebhookTokenRepository(db).get(car.id, driver.id, token_id)
        if row is None:
            raise WebhookTokenNotFound("No such webhook token of yours on this car.")
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            await db.flush()
            log.info("car.webhook_token_revoked", token_id=str(row.id))
        cache.pop(row.secret_hash, None)
        return row

    def forget(self, state_caches: dict[str, TTLCache[Any, Any]]) -> None:
        """This replica trusts no token it checked before (a car, a driver or an account went)."""
        if _CACHE in state_caches:
            state_caches[_CACHE].clear()

    def cache(
        self, state_caches: dict[str, TTLCache[Any, Any]], settings: Settings
    ) -> TTLCache[str, TokenHolder | None]:
        if _CACHE not in state_caches:
            state_caches[_CACHE] = TTLCache(maxsize=100_000, ttl=settings.logbook.token_cache_seconds)
        return state_caches[_CACHE]

    async def recognise(
        self,
        lookups: TokenLookups,
        settings: Settings,
        cache: TTLCache[str, TokenHolder | None],
        token: str | None,
    ) -> TokenHolder:
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) != len(TOKEN_PREFIX) + _RANDOM_CHARS:
            raise InvalidWebhookToken(
                "Send the car's webhook token as 'Authorization: Bearer cpw_…' or as the URL's last segment."
            )
        digest = self.hash(settings, token)
        if digest in cache:
            holder = cache[digest]
        else:
            holder = await lookups.holder(digest)
            cache[digest] = holder
        if holder is None:
            raise InvalidWebhookToken("This webhook token is unknown or revoked: nothing was stored.")
        return holder

    def lookups(self, per_process: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]) -> TokenLookups:
        lookups: TokenLookups | None = per_process.get(_LOOKUPS)
        if lookups is None:
            lookups = per_process[_LOOKUPS] = TokenLookups(sessionmaker)
        return lookups


class TokenLookups:
    """Tokens this process has not checked lately, looked up together: one SELECT for every request waiting.

    Thirty phones whose tokens fell out of the cache at once cost one round trip and one connection, not
    thirty (which would also outgrow the connection pool).
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._waiting: dict[str, list[asyncio.Future[TokenHolder | None]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def holder(self, digest: str) -> TokenHolder | None:
        future: asyncio.Future[TokenHolder | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(digest, []).append(future)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_all())
        return await asyncio.shield(future)

    async def _read_all(self) -> None:
        while self._waiting:
            waiting, self._waiting = self._waiting, {}
            try:
                async with self.sessionmaker() as db:
                    rows = await WebhookTokenRepository(db).by_hashes(sorted(waiting))
            except Exception as exc:
                for futures in waiting.values():
                    for future in futures:
                        future.set_exception(exc)
                continue
            found = {row.secret_hash: row for row in rows}
            for digest, futures in waiting.items():
                row = found.get(digest)
                holder = (
                    TokenHolder(token_id=row.id, car_id=row.car_id, driver_id=row.driver_id)
                    if row is not None and row.revoked_at is None and hmac.compare_digest(row.secret_hash, digest)
                    else None
                )
                for future in futures:
                    future.set_result(holder)


cars = CarService()
webhook_tokens = WebhookTokenService()
