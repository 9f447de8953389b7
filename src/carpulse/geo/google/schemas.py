"""The parts of Google's Geocoding and Directions answers we read (developers.google.com/maps/documentation)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StatusOnly(_Payload):
    status: str


class AddressComponent(_Payload):
    long_name: str
    short_name: str
    types: list[str] = Field(default_factory=list)


class GeocodeResult(_Payload):
    address_components: list[AddressComponent] = Field(default_factory=list)
    formatted_address: str = ""
    types: list[str] = Field(default_factory=list)

    def component(self, kind: str, *, short: bool = False) -> str | None:
        for part in self.address_components:
            if kind in part.types:
                return part.short_name if short else part.long_name
        return None


class GeocodeResponse(_Payload):
    status: str
    results: list[GeocodeResult] = Field(default_factory=list)
    error_message: str | None = None


class Distance(_Payload):
    value: float  # metres
    text: str = ""


class Leg(_Payload):
    distance: Distance


class Route(_Payload):
    legs: list[Leg] = Field(default_factory=list)
    summary: str = ""

    @property
    def distance_m(self) -> float:
        return sum(leg.distance.value for leg in self.legs)


class DirectionsResponse(_Payload):
    status: str
    routes: list[Route] = Field(default_factory=list)
    error_message: str | None = None
