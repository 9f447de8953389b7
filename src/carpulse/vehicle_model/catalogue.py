"""The model catalogue as shipped: Tesla's configurations from `battery.catalogue` plus `catalogue.toml`.

One source per figure: a Tesla entry takes its usable capacity, rated range, chemistry and model years from the
battery baselines (the figures reports are computed with) and only its nominal capacity and warranty from the
file; the other makes' entries come from the file alone.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any, Protocol

from carpulse.battery.catalogue import configurations
from carpulse.battery.estimator import PackBaseline
from carpulse.vin.schemas import DecodedVin

# A Tesla configuration's trim badge → drive and motor layout (VIN position 8 names the latter).
_TESLA_DRIVES = {
    "50": ("RWD", "single"),
    "74": ("RWD", "single"),
    "74d": ("AWD", "dual"),
    "75d": ("AWD", "dual"),
    "100d": ("AWD", "dual"),
    "p74d": ("AWD", "dual_performance"),
    "plaid": ("AWD", "tri"),
    "awd": ("AWD", "dual"),
    "cyberbeast": ("AWD", "tri"),
}
_TESLA_BODIES = {"Model S": "liftback", "Model 3": "sedan", "Model X": "SUV", "Model Y": "SUV", "Cybertruck": "pickup"}
TESLA_RANGE_RATING = "EPA rated (shown by the car at 100 %)"
WLTP = "WLTP"


@dataclass(frozen=True)
class Figure:
    """Where a catalogue figure comes from, and whether that source is the maker's own word."""

    source: str
    confirmed: bool


@dataclass(frozen=True)
class CatalogueEntry:
    model_id: str
    make: str
    model: str
    version: str
    year_from: int
    year_to: int | None
    body: str | None
    drive: str | None
    motor: str | None
    chemistry: str | None
    nominal_kwh: Decimal | None
    usable_kwh: Decimal | None
    rated_range_km: Decimal | None
    rated_range_error_percent: Decimal | None
    range_rating: str
    warranty_years: int | None
    warranty_km: int | None
    warranty_unlimited_km: bool
    warranty_retained_percent: int | None
    factories: tuple[str, ...] = ()
    sources: dict[str, Figure] = field(default_factory=dict)
    # The battery baseline a state of health is computed against: only for cars that show a rated range.
    baseline: PackBaseline | None = None

    def covers(self, year: int) -> bool:
        return self.year_from <= year and (self.year_to is None or year <= self.year_to)

    def row(self) -> dict[str, Any]:
        """The entry as `vehicle_model` column values."""
        values = {name: getattr(self, name) for name in ROW_FIELDS}
        values["factories"] = list(self.factories)
        values["sources"] = {name: {"source": f.source, "confirmed": f.confirmed} for name, f in self.sources.items()}
        return values


ROW_FIELDS = (
    "model_id",
    "make",
    "model",
    "version",
    "year_from",
    "year_to",
    "body",
    "drive",
    "motor",
    "chemistry",
    "nominal_kwh",
    "usable_kwh",
    "rated_range_km",
    "rated_range_error_percent",
    "range_rating",
    "warranty_years",
    "warranty_km",
    "warranty_unlimited_km",
    "warranty_retained_percent",
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _first(items: list[dict[str, Any]], baseline: PackBaseline) -> dict[str, Any] | None:
    for item in items:
        names = item.get("names") or []
        if item["model"] != baseline.model or (names and baseline.name not in names):
            continue
        if item.get("chemistry", baseline.chemistry) == baseline.chemistry:
            return item
    return None


def _tesla(data: dict[str, Any], baseline: PackBaseline) -> CatalogueEntry:
    sources = data["sources"]
    drive, motor = _TESLA_DRIVES[baseline.trims[0]]
    # Rated ranges are the EPA figures (or Tesla's own for a size it alone rated); a spanned rating is not one.
    figures = {
        "usable_kwh": Figure(f"battery baseline: {baseline.source}", False),
        "rated_range_km": Figure(f"battery baseline: {baseline.source}", baseline.rating_error_percent <= 2),
        "chemistry": Figure(f"battery baseline: {baseline.source}", False),
    }
    nominal = _first(data["tesla_nominal"], baseline)
    if nominal is not None:
        figures["nominal_kwh"] = Figure(sources["tesla_nominal"], False)
    warranty = _first(data["tesla_warranty"], baseline)
    if warranty is not None:
        for name in ("warranty_years", "warranty_km", "warranty_retained_percent"):
            if name != "warranty_retained_percent" or "retained_percent" in warranty:
                figures[name] = Figure(sources[warranty["source"]], warranty["confirmed"])
    unlimited = warranty is not None and warranty["km"] == 0
    return CatalogueEntry(
        model_id="tesla-" + _slug(baseline.key),
        make="Tesla",
        model=baseline.model,
        version=baseline.name or baseline.description,
        year_from=baseline.model_years[0],
        year_to=baseline.model_years[1],
        body=_TESLA_BODIES.get(baseline.model),
        drive=drive,
        motor=motor,
        chemistry=baseline.chemistry,
        nominal_kwh=Decimal(nominal["kwh"]) if nominal is not None else None,
        usable_kwh=baseline.usable_kwh,
        rated_range_km=baseline.rated_range_km,
        rated_range_error_percent=baseline.rating_error_percent,
        range_rating=TESLA_RANGE_RATING,
        warranty_years=warranty["years"] if warranty is not None else None,
        warranty_km=None if warranty is None or unlimited else warranty["km"],
        warranty_unlimited_km=unlimited,
        warranty_retained_percent=warranty.get("retained_percent") if warranty is not None else None,
        factories=baseline.factories,
        sources=figures,
        baseline=baseline,
    )


def _other(data: dict[str, Any], item: dict[str, Any]) -> CatalogueEntry:
    spec = Figure(data["sources"][item["spec"]], False)
    warranty = data["warranties"][item["warranty"]]
    terms = Figure(data["sources"][item["warranty"]], warranty["confirmed"])
    figures = {"chemistry": spec, "usable_kwh": spec, "rated_range_km": spec}
    if "nominal_kwh" in item:
        figures["nominal_kwh"] = spec
    figures |= {"warranty_years": terms, "warranty_km": terms, "warranty_retained_percent": terms}
    first, last = item["years"]
    return CatalogueEntry(
        model_id=_slug(f"{item['make']} {item['model']} {item['version']}"),
        make=item["make"],
        model=item["model"],
        version=item["version"],
        year_from=first,
        year_to=last or None,
        body=item.get("body"),
        drive=item.get("drive"),
        motor=None,
        chemistry=item.get("chemistry"),
        nominal_kwh=Decimal(item["nominal_kwh"]) if "nominal_kwh" in item else None,
        usable_kwh=Decimal(item["usable_kwh"]),
        rated_range_km=Decimal(item["range_km"]),
        rated_range_error_percent=None,
        range_rating=WLTP,
        warranty_years=warranty["years"],
        warranty_km=warranty["km"],
        warranty_unlimited_km=False,
        warranty_retained_percent=warranty["retained_percent"],
        sources=figures,
    )


@cache
def entries() -> tuple[CatalogueEntry, ...]:
    """Every catalogue entry, Tesla's first, in a stable order."""
    data = tomllib.loads(files("carpulse.vehicle_model").joinpath("catalogue.toml").read_text("utf-8"))
    tesla = [_tesla(data, baseline) for baseline in configurations()]
    return (*tesla, *(_other(data, item) for item in data["model"]))


@cache
def by_id() -> dict[str, CatalogueEntry]:
    return {entry.model_id: entry for entry in entries()}


class Matchable(Protocol):
    @property
    def make(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def year_from(self) -> int: ...

    @property
    def year_to(self) -> int | None: ...

    @property
    def motor(self) -> str | None: ...

    @property
    def chemistry(self) -> str | None: ...

    @property
    def factories(self) -> Sequence[str]: ...


def matches(decoded: DecodedVin, entry: Matchable) -> bool:
    """Whether a decoded VIN could be this entry: same make and model, its model year, factory, motor and
    chemistry hint (several entries match when the VIN does not tell versions apart, as most European VINs)."""
    models = (decoded.model,) if decoded.model is not None else decoded.model_candidates
    year = decoded.model_year
    return (
        entry.make == decoded.make
        and entry.model in models
        and (year is None or (entry.year_from <= year and (entry.year_to is None or year <= entry.year_to)))
        and (not entry.factories or decoded.wmi in entry.factories)
        and (decoded.motor is None or entry.motor is None or decoded.motor == entry.motor)
        and (decoded.chemistry_hint is None or entry.chemistry == decoded.chemistry_hint)
    )


def candidates(decoded: DecodedVin) -> list[CatalogueEntry]:
    """The shipped entries a decoded VIN could be."""
    return [entry for entry in entries() if matches(decoded, entry)]
