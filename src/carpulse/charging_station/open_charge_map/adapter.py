"""Open Charge Map's sites as our `Site`s, and our plug families as OCM's connection type ids."""

from __future__ import annotations

from datetime import UTC

from carpulse.charging_station.open_charge_map.schemas import Connection, Poi, StatusType
from carpulse.charging_station.schemas import (
    Address,
    Connector,
    ConnectorFilter,
    ConnectorType,
    DataProvider,
    Operator,
    Site,
    StationStatus,
    Usage,
)

OCM_SITE_URL = "https://openchargemap.org/site/poi/details/{id}"

# OCM connection type ids (its /referencedata ConnectionTypes) per plug family.
CONNECTION_TYPE_IDS: dict[ConnectorFilter, tuple[int, ...]] = {
    ConnectorFilter.ccs: (33, 32),  # CCS (Type 2), CCS (Type 1)
    ConnectorFilter.type2: (25, 1036),  # Type 2 socket, Type 2 tethered
    ConnectorFilter.chademo: (2,),
    ConnectorFilter.tesla: (27, 30, 8),  # NACS / Supercharger, Model S/X, Roadster
    ConnectorFilter.type1: (1,),  # J1772
    ConnectorFilter.schuko: (28,),  # CEE 7/4 Schuko
}
_FAMILY = {type_id: ConnectorType(family.value) for family, ids in CONNECTION_TYPE_IDS.items() for type_id in ids}
# OCM current type ids: 10 AC single-phase, 20 AC three-phase, 30 DC.
_CURRENT: dict[int, tuple[str, int | None]] = {10: ("AC", 1), 20: ("AC", 3), 30: ("DC", None)}
# OCM status type ids whose meaning `IsOperational` alone does not carry.
_STATUS = {
    50: StationStatus.operational,
    75: StationStatus.partly_operational,
    100: StationStatus.not_operational,
    150: StationStatus.planned,
    200: StationStatus.removed,
    210: StationStatus.removed,
}


def status_of(status_id: int | None, status: StatusType | None) -> StationStatus:
    if status_id in _STATUS:
        return _STATUS[status_id]
    if status is not None and status.is_operational is not None:
        return StationStatus.operational if status.is_operational else StationStatus.not_operational
    return StationStatus.unknown


def connector_of(connection: Connection) -> Connector:
    current, phases = _CURRENT.get(connection.current_type_id or 0, (None, None))
    return Connector(
        type=_FAMILY.get(connection.connection_type_id or 0, ConnectorType.other),
        title=connection.connection_type.title if connection.connection_type else None,
        power_kw=connection.power_kw,
        quantity=connection.quantity,
        current=current,
        phases=phases,
        status=status_of(connection.status_type_id, connection.status_type),
    )


def site_of(poi: Poi) -> Site:
    address = poi.address_info
    operator = poi.operator_info
    usage = poi.usage_type
    provider = poi.data_provider
    connectors = [connector_of(connection) for connection in poi.connections]
    powers = [connector.power_kw for connector in connectors if connector.power_kw is not None]
    verified = poi.date_last_verified
    if verified is not None and verified.tzinfo is None:
        verified = verified.replace(tzinfo=UTC)  # OCM's dates are UTC
    return Site(
        id=poi.id,
        url=OCM_SITE_URL.format(id=poi.id),
        name=address.title,
        operator=Operator(
            id=poi.operator_id,
            name=operator.title if operator else None,
            website=operator.website_url if operator else None,
        ),
        address=Address(
            line1=address.address_line1,
            line2=address.address_line2,
            town=address.town,
            postcode=address.postcode,
            region=address.state_or_province,
            country_code=address.country.iso_code if address.country else None,
            access_notes=address.access_comments,
        ),
        lat=address.latitude,
        lon=address.longitude,
        status=status_of(poi.status_type_id, poi.status_type),
        number_of_points=poi.number_of_points,
        max_power_kw=max(powers) if powers else None,
        connectors=connectors,
        usage=Usage(
            title=usage.title if usage else None,
            cost=poi.usage_cost,
            pay_at_location=usage.is_pay_at_location if usage else None,
            membership_required=usage.is_membership_required if usage else None,
            access_key_required=usage.is_access_key_required if usage else None,
        ),
        last_verified=verified,
        data_provider=DataProvider(
            id=poi.data_provider_id,
            name=provider.title if provider else None,
            licence=provider.license if provider else None,
            open_data=provider.is_open_data_licensed if provider else None,
            website=provider.website_url if provider else None,
        )
        if provider is not None or poi.data_provider_id is not None
        else None,
    )
