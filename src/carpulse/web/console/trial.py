"""What the try-it page offers: the data endpoints a key can call, and example VINs and model ids to call them with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import DataSharing, ObservationKind
from carpulse.observation.repository import ObservationRepository
from carpulse.vehicle_model.service import vehicle_models

# VINs whose check digits are right and whose models the catalogue knows: static data answers for them anywhere.
CATALOGUE_VINS = (
    "5YJ3E1EB5LF000001",  # 2020 Model 3, Fremont
    "5YJYGDEE9MF000001",  # 2021 Model Y, Fremont
    "5YJSA1E24MF000001",  # 2021 Model S, Fremont
    "7SAYGDEEXPF000001",  # 2023 Model Y, Austin
)
EXAMPLE_READINGS = 4  # VINs with readings offered for the dynamic endpoint
EXAMPLE_MODELS = 4


@dataclass(frozen=True)
class Call:
    """One endpoint the page can call: its id (the usage endpoint name), the path with `{…}` for its input."""

    id: str
    method: str
    path: str
    parameter: str | None  # "vin", "model", "query" or None
    billable: bool


CALLS = (
    Call("vehicle.static", "GET", "/api/v1/vehicle/static/{vin}", "vin", True),
    Call("vehicle.dynamic", "GET", "/api/v1/vehicle/dynamic/{vin}", "vin", True),
    Call("models", "GET", "/api/v1/models?query={query}", "query", False),
    Call("models.warranty", "GET", "/api/v1/models/{model}/warranty", "model", True),
    Call("models.trendline", "GET", "/api/v1/models/{model}/trendline", "model", True),
    Call("billing.usage", "GET", "/api/v1/billing/usage?group_by=endpoint", None, False),
)


@dataclass(frozen=True)
class ExampleVin:
    vin: str
    has_readings: bool


async def example_vins(db: AsyncSession, *, synthetic: bool) -> list[ExampleVin]:
    """VINs with readings the Data API sells (the simulator's, with the sandbox), then catalogue-only ones."""
    with_readings = await ObservationRepository(db).shared_vins(
        sharing=(DataSharing.vehicle_data,),  # what the dynamic endpoint sells per VIN
        synthetic=synthetic,
        kind=ObservationKind.odometer,
    )
    chosen = [ExampleVin(vin, True) for vin in with_readings[:EXAMPLE_READINGS]]
    known = {example.vin for example in chosen}
    return chosen + [ExampleVin(vin, False) for vin in CATALOGUE_VINS if vin not in known]


async def example_models(db: AsyncSession) -> list[tuple[str, str]]:
    """(model id, readable name) of a few catalogue models."""
    page = await vehicle_models.list_models(db, None, None, EXAMPLE_MODELS, 0)
    return [(item.model_id, f"{item.make} {item.model} {item.version}") for item in page.items]
