"""Open Charge Map's JSON (`/poi`, `/referencedata`), the fields we read; unknown fields are ignored.

Facts: shared/reference/logbook-and-battery.md §3. OCM sends `Title` where its spec's example shows
`description`, and `null` for an empty list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _list_or_empty(value: Any) -> Any:
    return [] if value is None else value


class OcmModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Titled(OcmModel):
    id: int | None = Field(default=None, alias="ID")
    title: str | None = Field(default=None, alias="Title")


class ConnectionType(Titled):
    formal_name: str | None = Field(default=None, alias="FormalName")


class StatusType(Titled):
    is_operational: bool | None = Field(default=None, alias="IsOperational")


class UsageType(Titled):
    is_pay_at_location: bool | None = Field(default=None, alias="IsPayAtLocation")
    is_membership_required: bool | None = Field(default=None, alias="IsMembershipRequired")
    is_access_key_required: bool | None = Field(default=None, alias="IsAccessKeyRequired")


class DataProvider(Titled):
    website_url: str | None = Field(default=None, alias="WebsiteURL")
    license: str | None = Field(default=None, alias="License")
    is_open_data_licensed: bool | None = Field(default=None, alias="IsOpenDataLicensed")


class OperatorInfo(Titled):
    website_url: str | None = Field(default=None, alias="WebsiteURL")


class Country(Titled):
    iso_code: str | None = Field(default=None, alias="ISOCode")


class AddressInfo(OcmModel):
    title: str | None = Field(default=None, alias="Title")
    address_line1: str | None = Field(default=None, alias="AddressLine1")
    address_line2: str | None = Field(default=None, alias="AddressLine2")
    town: str | None = Field(default=None, alias="Town")
    state_or_province: str | None = Field(default=None, alias="StateOrProvince")
    postcode: str | None = Field(default=None, alias="Postcode")
    country: Country | None = Field(default=None, alias="Country")
    latitude: float = Field(alias="Latitude", ge=-90, le=90)
    longitude: float = Field(alias="Longitude", ge=-180, le=180)
    access_comments: str | None = Field(default=None, alias="AccessComments")
    distance: float | None = Field(default=None, alias="Distance")
    # 1 = km, 2 = miles (OCM's DistanceUnit enum).
    distance_unit: int | None = Field(default=None, alias="DistanceUnit")


class Connection(OcmModel):
    connection_type_id: int | None = Field(default=None, alias="ConnectionTypeID")
    connection_type: ConnectionType | None = Field(default=None, alias="ConnectionType")
    status_type_id: int | None = Field(default=None, alias="StatusTypeID")
    status_type: StatusType | None = Field(default=None, alias="StatusType")
    amps: float | None = Field(default=None, alias="Amps")
    voltage: float | None = Field(default=None, alias="Voltage")
    power_kw: float | None = Field(default=None, alias="PowerKW", ge=0)
    current_type_id: int | None = Field(default=None, alias="CurrentTypeID")
    quantity: int | None = Field(default=None, alias="Quantity", ge=0)


class Poi(OcmModel):
    """One site (OCM calls it a POI or charge point)."""

    id: int = Field(alias="ID")
    uuid: str | None = Field(default=None, alias="UUID")
    data_provider_id: int | None = Field(default=None, alias="DataProviderID")
    data_provider: DataProvider | None = Field(default=None, alias="DataProvider")
    operator_id: int | None = Field(default=None, alias="OperatorID")
    operator_info: OperatorInfo | None = Field(default=None, alias="OperatorInfo")
    usage_type_id: int | None = Field(default=None, alias="UsageTypeID")
    usage_type: UsageType | None = Field(default=None, alias="UsageType")
    usage_cost: str | None = Field(default=None, alias="UsageCost")
    address_info: AddressInfo = Field(alias="AddressInfo")
    connections: Annotated[list[Connection], BeforeValidator(_list_or_empty)] = Field(
        default_factory=list, alias="Connections"
    )
    number_of_points: int | None = Field(default=None, alias="NumberOfPoints")
    status_type_id: int | None = Field(default=None, alias="StatusTypeID")
    status_type: StatusType | None = Field(default=None, alias="StatusType")
    date_last_verified: datetime | None = Field(default=None, alias="DateLastVerified")


class ReferenceData(OcmModel):
    """The parts of `/referencedata` we use: the operators, to find an operator's ids by name."""

    operators: Annotated[list[OperatorInfo], BeforeValidator(_list_or_empty)] = Field(
        default_factory=list, alias="Operators"
    )
