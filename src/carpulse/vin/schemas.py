from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DecodedVin(BaseModel):
    """What a VIN says by itself; a part it does not say (or we cannot read) is None, never guessed."""

    model_config = ConfigDict(frozen=True)

    vin: str = Field(examples=["5YJ3E7EB1KF123456"])
    wmi: str = Field(description="world manufacturer identifier, positions 1-3", examples=["5YJ"])
    manufacturer: str | None = Field(default=None, examples=["Tesla"])
    make: str | None = Field(default=None, description="the brand the car is sold under", examples=["Tesla"])
    region: str | None = Field(default=None, examples=["North America"])
    country: str | None = Field(default=None, examples=["United States"])
    model: str | None = Field(default=None, examples=["Model 3"])
    model_candidates: tuple[str, ...] = Field(
        default=(), description="models the code is shared by, when it does not name one"
    )
    model_year: int | None = Field(default=None, examples=[2019])
    plant_code: str = Field(description="position 11", examples=["F"])
    plant: str | None = Field(default=None, examples=["Fremont, California"])
    body: str | None = Field(default=None, examples=["sedan, left-hand drive"])
    restraints: str | None = Field(default=None, description="restraint system code (Tesla position 6)")
    battery: str | None = Field(default=None, description="battery or fuel type (Tesla position 7)")
    chemistry_hint: str | None = Field(default=None, description="a chemistry the VIN implies (LFP), if any")
    drive: str | None = Field(default=None, examples=["AWD"])
    motor: str | None = Field(default=None, examples=["dual"])
    check_digit_valid: bool
    check_digit_enforced: bool
    unconfirmed: tuple[str, ...] = Field(
        default=(), description="decoded parts read from tables with a weak or secondary source"
    )
