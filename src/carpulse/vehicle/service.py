"""Who may read which vehicle, and with which tokens: a connect session, or a paid order after it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.connect.repository import VehicleConnectionRepository
from carpulse.connect.schemas import Step
from carpulse.connect.service import ConnectContext, connect
from carpulse.models import OrderStatus
from carpulse.order.repository import OrderRepository
from carpulse.provider.base import VehicleSummary
from carpulse.provider.tesla.adapter import TeslaProvider
from carpulse.provider.tesla.client import TeslaFleetClient
from carpulse.vehicle.errors import PaidOrderNotFound, VehicleNotFound

# An order's data stays readable while it is paid or fulfilled; a refunded order's does not.
READABLE_ORDER_STATES = (OrderStatus.paid, OrderStatus.fulfilled)


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

    def provider(self, context: ConnectContext) -> TeslaProvider:
        return TeslaProvider(self.fleet, clock=context.clock, scopes=self.scopes)


class VehicleAccessService:
    async def for_session(self, db: AsyncSession, context: ConnectContext, session_id: str) -> VehicleAccess:
        """A live connect session reads its whole inventory; once it expired, its durable copy does."""
        session = await context.repository.get(session_id)
        if session is not None and session.step is not Step.connecting:
            return VehicleAccess(
                connection_id=session.id,
                order_id=session.order_id,
                locale=session.locale.value,
                vehicles=list(session.vehicles),
                scopes=list(session.scopes),
                fleet=connect.fleet_client(context, session),
            )
        row = await VehicleConnectionRepository(db).get(session_id)
        if row is None:
            raise ConnectSessionNotFound("No such connect session, or it has expired.")
        orders = await OrderRepository(db).for_session(session_id)
        return VehicleAccess(
            connection_id=row.id,
            order_id=orders[0].id if orders else None,
            locale=row.locale,
            vehicles=[VehicleSummary.model_validate(vehicle) for vehicle in row.vehicles],
            scopes=list(row.scopes),
            fleet=connect.fleet_client(context, row),
        )

    async def for_order(self, db: AsyncSession, context: ConnectContext, order_id: str) -> VehicleAccess:
        """A paid order reads the vehicles it paid for, through the connection it kept at checkout."""
        order = await OrderRepository(db).get(order_id)
        if order is None or order.status not in READABLE_ORDER_STATES:
            raise PaidOrderNotFound("No paid order with this id.")
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
