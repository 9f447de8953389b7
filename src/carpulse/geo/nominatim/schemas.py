"""The parts of Nominatim's `/reverse?format=jsonv2` answer we read (nominatim.org/release-docs/latest/api/Reverse)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NominatimAddress(BaseModel):
    model_config = ConfigDict(extra="ignore")

    house_number: str | None = None
    road: str | None = None
    pedestrian: str | None = None
    postcode: str | None = None
    city: str | None = None
    town: str | None = None
    village: str | None = None
    municipality: str | None = None
    country_code: str | None = None

    @property
    def street(self) -> str | None:
        return self.road or self.pedestrian

    @property
    def place(self) -> str | None:
        return self.city or self.town or self.village or self.municipality


class ReversePlace(BaseModel):
    model_config = ConfigDict(extra="ignore")

    display_name: str | None = None
    address: NominatimAddress = Field(default_factory=NominatimAddress)
    error: str | None = None  # "Unable to geocode": nothing there (an answer, not a failure)
