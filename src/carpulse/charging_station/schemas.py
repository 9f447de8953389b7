"""The charging-station search: its query and its answer, whose every form carries the data's attribution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

MAX_RADIUS_KM = 50.0
MAX_LIMIT = 100
OCM_URL = "https://openchargemap.org"
OCM_LICENCE = "CC BY 4.0"
OCM_NOTICE = (
    "Charging-station data from Open Charge Map (openchargemap.org), © Open Charge Map contributors, "
    "licensed CC BY 4.0, and from the data providers listed, each under its own licence."
)


class ConnectorType(StrEnum):
    """Plug families we name; `other` is any plug OCM lists that is none of these."""

    ccs = "ccs"
    type2 = "type2"
    chademo = "chademo"
    tesla = "tesla"
    type1 = "type1"
    schuko = "schuko"
    other = "other"


class ConnectorFilter(StrEnum):
    """The plug families a search may ask for."""

    ccs = "ccs"
    type2 = "type2"
    chademo = "chademo"
    tesla = "tesla"
    type1 = "type1"
    schuko = "schuko"


class StationStatus(StrEnum):
    operational = "operational"
    partly_operational = "partly_operational"
    not_operational = "not_operational"
    planned = "planned"
    removed = "removed"
    unknown = "unknown"


@dataclass(frozen=True)
class StationQuery:
    """A search around a point: within `radius_km`, optionally narrowed, at most `limit` stations."""

    lat: float
    lon: float
    radius_km: float = 5.0
    min_power_kw: float | None = None
    connector: ConnectorFilter | None = None
    operator: str | None = None
    limit: int = 20


class Connector(BaseModel):
    type: ConnectorType = Field(description="plug family")
    title: str | None = Field(default=None, description="Open Charge Map's name of the plug", examples=["CCS (Type 2)"])
    power_kw: float | None = Field(default=None, examples=[150.0])
    quantity: int | None = Field(default=None, description="how many of these plugs the site has")
    current: Literal["AC", "DC"] | None = None
    phases: int | None = Field(default=None, description="AC only: 1 or 3")
    status: StationStatus = StationStatus.unknown


class Address(BaseModel):
    line1: str | None = None
    line2: str | None = None
    town: str | None = None
    postcode: str | None = None
    region: str | None = None
    country_code: str | None = Field(default=None, examples=["FI"])
    access_notes: str | None = Field(default=None, description="how to reach the chargers, when known")


class Operator(BaseModel):
    id: int | None = Field(default=None, description="Open Charge Map's operator id (usable as `operator`)")
    name: str | None = Field(default=None, examples=["IONITY"])
    website: str | None = None


class Usage(BaseModel):
    title: str | None = Field(default=None, examples=["Public - Pay At Location"])
    cost: str | None = Field(default=None, description="free text, as the data source states it")
    pay_at_location: bool | None = None
    membership_required: bool | None = None
    access_key_required: bool | None = None


class DataProvider(BaseModel):
    id: int | None = None
    name: str | None = Field(default=None, examples=["Open Charge Map Contributors"])
    licence: str | None = None
    open_data: bool | None = Field(default=None, description="the licence is an open-data licence")
    website: str | None = None


class Site(BaseModel):
    """A charging site as Open Charge Map describes it (no distance: that depends on the search)."""

    id: int = Field(description="Open Charge Map's id (OCM-<id>)", examples=[180001])
    url: str = Field(description="the site's page at Open Charge Map")
    name: str | None = None
    operator: Operator
    address: Address
    lat: float
    lon: float
    status: StationStatus
    number_of_points: int | None = Field(default=None, description="how many vehicles can charge at once")
    max_power_kw: float | None = None
    connectors: list[Connector]
    usage: Usage
    last_verified: datetime | None = Field(default=None, description="when a user or the data source last confirmed it")
    data_provider: DataProvider | None = None


class Station(Site):
    distance_km: float = Field(description="from the searched point, along the ellipsoid", examples=[1.234])


class Attribution(BaseModel):
    """What must be shown with the data: Open Charge Map, its licence, and each data provider's licence."""

    source: str = "Open Charge Map"
    url: str = OCM_URL
    licence: str = OCM_LICENCE
    notice: str = OCM_NOTICE
    data_providers: list[DataProvider] = Field(default_factory=list, description="of the stations in this answer")


class StationList(BaseModel):
    stations: list[Station]
    count: int
    cached: bool = Field(description="answered from our cache rather than by asking Open Charge Map now")
    stale: bool = Field(description="the cached answer is past its freshness: Open Charge Map is failing right now")
    age_seconds: int = Field(description="how long ago Open Charge Map gave this answer")
    fetched_at: datetime = Field(description="when Open Charge Map gave this answer (UTC)")
    attribution: Attribution
