from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from carpulse.connect.dependencies import ConnectContextDep
from carpulse.database import SessionDep
from carpulse.vehicle.service import VehicleAccess, vehicle_access

SessionId = Annotated[str, Path(min_length=1, max_length=128, description="the connect session id")]
OrderId = Annotated[str, Path(min_length=1, max_length=64, description="the order id")]


async def get_session_access(session_id: SessionId, db: SessionDep, context: ConnectContextDep) -> VehicleAccess:
    return await vehicle_access.for_session(db, context, session_id)


async def get_order_access(order_id: OrderId, db: SessionDep, context: ConnectContextDep) -> VehicleAccess:
    return await vehicle_access.for_order(db, context, order_id)


SessionAccess = Annotated[VehicleAccess, Depends(get_session_access)]
OrderAccess = Annotated[VehicleAccess, Depends(get_order_access)]
