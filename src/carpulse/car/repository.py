"""Cars, their drivers and webhook tokens: every query scoped to the driver asking."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Account, Car, CarDriver, CarRole, WebhookToken


def _drives(driver: Account) -> ColumnElement[bool]:
    """A `car_driver` row is this driver's: by account, or by an invitation to their address not claimed yet."""
    if not driver.email:
        return CarDriver.account_id == driver.id
    invited = and_(CarDriver.account_id.is_(None), CarDriver.email == driver.email.lower())
    return or_(CarDriver.account_id == driver.id, invited)


class CarRepository:
    def __init__(self, db: AsyncSession, driver: Account) -> None:
        self.db = db
        self.driver = driver

    def _accessible(self) -> Select[Car, CarDriver]:
        return select(Car, CarDriver).join(CarDriver, CarDriver.car_id == Car.id).where(_drives(self.driver))

    async def accessible(self) -> list[tuple[Car, CarDriver]]:
        rows = await self.db.execute(self._accessible().order_by(Car.created_at, Car.id))
        return [(car, membership) for car, membership in rows.all()]

    async def get(self, car_id: uuid.UUID, *, for_update: bool = False) -> tuple[Car, CarDriver] | None:
        statement = self._accessible().where(Car.id == car_id)
        if for_update:
            statement = statement.with_for_update(of=Car)
        row = (await self.db.execute(statement)).first()
        return (row[0], row[1]) if row is not None else None

    async def claim(self, membership: CarDriver) -> None:
        """An invitation is bound to the account that first used it."""
        if membership.account_id is None:
            membership.account_id = self.driver.id
            await self.db.flush()

    async def add(self, car: Car, email: str) -> tuple[Car, CarDriver]:
        self.db.add(car)
        await self.db.flush()
        membership = CarDriver(car_id=car.id, email=email, account_id=self.driver.id, role=CarRole.owner)
        self.db.add(membership)
        await self.db.flush()
        return car, membership

    async def drivers(self, car_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CarDriver]]:
        out: dict[uuid.UUID, list[CarDriver]] = {car_id: [] for car_id in car_ids}
        if not car_ids:
            return out
        statement = select(CarDriver).where(CarDriver.car_id.in_(car_ids)).order_by(CarDriver.added_at, CarDriver.id)
        for row in (await self.db.execute(statement)).scalars():
            out[row.car_id].append(row)
        return out

    async def driver_by_email(self, car_id: uuid.UUID, email: str) -> CarDriver | None:
        statement = select(CarDriver).where(CarDriver.car_id == car_id, CarDriver.email == email)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def driver_of_car(self, car_id: uuid.UUID, driver_id: uuid.UUID) -> CarDriver | None:
        statement = select(CarDriver).where(CarDriver.car_id == car_id, CarDriver.id == driver_id)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def delete(self, car: Car) -> None:
        await self.db.delete(car)
        await self.db.flush()


class WebhookTokenRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, token: WebhookToken) -> WebhookToken:
        self.db.add(token)
        await self.db.flush()
        return token

    async def of_car(self, car_id: uuid.UUID, driver_id: uuid.UUID) -> list[WebhookToken]:
        """A driver's tokens for the car: each phone records its own driver's trips."""
        statement = select(WebhookToken).where(WebhookToken.car_id == car_id, WebhookToken.driver_id == driver_id)
        return list((await self.db.execute(statement.order_by(WebhookToken.created_at))).scalars())

    async def get(self, car_id: uuid.UUID, driver_id: uuid.UUID, token_id: uuid.UUID) -> WebhookToken | None:
        statement = select(WebhookToken).where(
            WebhookToken.id == token_id, WebhookToken.car_id == car_id, WebhookToken.driver_id == driver_id
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def by_hashes(self, secret_hashes: list[str]) -> list[WebhookToken]:
        statement = select(WebhookToken).where(WebhookToken.secret_hash.in_(secret_hashes))
        return list((await self.db.execute(statement)).scalars())

    async def touch(self, token_ids: list[uuid.UUID], at: datetime, not_since: datetime) -> None:
        await self.db.execute(
            update(WebhookToken)
            .where(
                WebhookToken.id.in_(token_ids),
                or_(WebhookToken.last_used_at.is_(None), WebhookToken.last_used_at < not_since),
            )
            .values(last_used_at=at)
        )

    async def revoke_of(self, car_id: uuid.UUID, driver_id: uuid.UUID, at: datetime) -> None:
        """A driver taken off a car keeps no way to record its trips."""
        await self.db.execute(
            update(WebhookToken)
            .where(
                WebhookToken.car_id == car_id, WebhookToken.driver_id == driver_id, WebhookToken.revoked_at.is_(None)
            )
            .values(revoked_at=at)
        )

    async def delete_of_driver(self, driver_id: uuid.UUID) -> None:
        await self.db.execute(delete(WebhookToken).where(WebhookToken.driver_id == driver_id))
