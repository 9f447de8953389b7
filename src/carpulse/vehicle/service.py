"""Who may read which vehicle, and with which tokens: a connect session, or a paid order after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.connect.repository import VehicleConnectionRepository
from carpulse.connect.schemas import Step
from carpulse.connect.service import ConnectContext, connect
from carpulse.kit.clock import system_clock
from carpulse.models import Order, OrderStatus
from carpulse.order.repository import OrderRepository
from carpulse.provider.base import VehicleDataProvider, VehicleSummary
from carpulse.provider.tesla.adapter import TeslaProvider
from carpulse.provider.tesla.client import TeslaFleetClient
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
    """The vehicles one caller may read, and a Fleet client on that connection's tokens."""

    connection_id: str
    order_id: str | None
    locale: str
    vehicles: list[VehicleSummary]
    scopes: list[str]
    fleet: TeslaFleetClient

    def vehicle(self, vin: str) -> VehicleSummary:
        wanted = vin.strip().upper()
        for vehicle in self.vehicles:
            if vehicle.vin == wanted:
                return vehicle
        raise VehicleNotFound("No vehicle with this VIN here.")

    @property
    def provider(self) -> VehicleDataProvider:
        """The connection's opened provider (temporary seam: becomes a field when `fleet` goes)."""
        return TeslaProvider(self.fleet, clock=system_clock, scopes=self.scopes)


class VehicleAccessService:
    async def for_session(self, db: AsyncSession, context: ConnectContext, session_id: str) -> VehicleAccess:
        """A live connect session reads its account's inventory, for its 30 minutes and never longer."""
        session = await connect.live(context, session_id)
        if session is None or session.step is Step.connecting:
            raise ConnectSessionNotFound("No such connect session, or it has expired.")
        return VehicleAccess(
            connection_id=session.id,
            order_id=session.order_id,
            locale=session.locale.value,
            vehicles=list(session.vehicles),
            scopes=list(session.scopes),
            fleet=connect.fleet_client(context, session),
        )

    async def for_order(self, db: AsyncSession, context: ConnectContext, order_id: str) -> VehicleAccess:
        """A paid order reads the vehicles it paid for, through the connection it kept, for its access window."""
        order = await OrderRepository(db).get(order_id)
        if order is None or not order_opens_data(order, context.clock.now(), context.connection_days):
            raise PaidOrderNotFound("No paid order with this id, or its access period has ended.")
        row = await VehicleConnectionRepository(db).get(order.session_id)
        if row is None:
            raise PaidOrderNotFound("This order keeps no vehicle connection; connect your Tesla account again.")
        paid_for = set(order.vins)
        return VehicleAccess(
            connection_id=row.id,
            order_id=order.id,
            locale=order.locale,
            vehicles=[VehicleSummary.model_validate(v) for v in row.vehicles if v.get("vin") in paid_for],
            scopes=list(row.scopes),
            fleet=connect.fleet_client(context, row),
        )


vehicle_access = VehicleAccessService()
