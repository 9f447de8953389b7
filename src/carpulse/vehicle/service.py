"""Who may read which vehicle, and with which tokens: a connect session, or a paid order after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.connect.repository import VehicleConnectionRepository
from carpulse.connect.schemas import ConnectSession, Step
from carpulse.connect.service import ConnectContext, Connection, connect
from carpulse.models import Order, OrderStatus, VehicleConnection
from carpulse.provider.base import BrandInfo, ReadingPolicy, VehicleDataProvider, VehicleSummary
from carpulse.vehicle.errors import PaidOrderNotFound, VehicleNotFound

# An order's data stays readable while it is paid or fulfilled; a refunded order's does not.
READABLE_ORDER_STATES = (OrderStatus.paid, OrderStatus.fulfilled)


def order_opens_data(order: Order, now: datetime, connection_days: int) -> bool:
    """A paid order opens its vehicles' data (reports, charging) for `connection_days` after payment."""
    if order.status not in READABLE_ORDER_STATES or order.paid_at is None:
        return False
    return now < order.paid_at + timedelta(days=connection_days)


@dataclass
class VehicleAccess:
    """The vehicles one caller may read, and their brand's provider on that connection's tokens."""

    connection_id: str
    order_id: str | None
    locale: str
    vehicles: list[VehicleSummary]
    scopes: list[str]
    brand: BrandInfo
    opener: Callable[[ReadingPolicy | None], VehicleDataProvider]

    @cached_property
    def provider(self) -> VehicleDataProvider:
        """The provider with the brand's default reading policy."""
        return self.opener(None)

    def open(self, policy: ReadingPolicy) -> VehicleDataProvider:
        """A provider reading with `policy` (how long to wait for a car to wake, how much history)."""
        return self.opener(policy)

    def vehicle(self, vin: str) -> VehicleSummary:
        wanted = vin.strip().upper()
        for vehicle in self.vehicles:
            if vehicle.vin == wanted:
                return vehicle
        raise VehicleNotFound("No vehicle with this VIN here.")


def _access(
    context: ConnectContext,
    connection: ConnectSession | VehicleConnection,
    order_id: str | None,
    locale: str,
    vehicles: list[VehicleSummary],
) -> VehicleAccess:
    kept = Connection.of(connection)
    return VehicleAccess(
        connection_id=kept.id,
        order_id=order_id,
        locale=locale,
        vehicles=vehicles,
        scopes=list(kept.scopes),
        brand=context.providers.get(kept.provider).info,
        opener=lambda policy: connect.open_provider(context, kept, policy),
    )


class VehicleAccessService:
    async def for_session(self, db: AsyncSession, context: ConnectContext, session_id: str) -> VehicleAccess:
        """A live connect session reads its account's inventory, for its 30 minutes and never longer."""
        session = await connect.live(context, session_id)
        if session is None or session.step is Step.connecting:
            raise ConnectSessionNotFound("No such connect session, or it has expired.")
        return _access(context, session, session.order_id, session.locale.value, list(session.vehicles))

    async def for_order(self, db: AsyncSession, context: ConnectContext, order_id: str) -> VehicleAccess:
        """A paid order reads the vehicles it paid for, through the connection it kept, for its access window."""
        order = await db.get(Order, order_id)
        if order is None or not order_opens_data(order, context.clock.now(), context.connection_days):
            raise PaidOrderNotFound("No paid order with this id, or its access period has ended.")
        row = await VehicleConnectionRepository(db).get(order.session_id)
        if row is None:
            raise PaidOrderNotFound("This order keeps no vehicle connection; connect your account again.")
        paid_for = set(order.vins)
        vehicles = [VehicleSummary.model_validate(v) for v in row.vehicles if v.get("vin") in paid_for]
        return _access(context, row, order.id, order.locale, vehicles)


vehicle_access = VehicleAccessService()
