"""A synthetic fleet: vehicles of catalogue versions and their weekly readings, aged by a degradation model.

Deterministic: every draw comes from a generator seeded by the fleet's seed and the vehicle's number, and every
time from `until`, so the same seed and `until` give the same VINs and values (and vehicle n is the same whatever
the fleet's size). Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from carpulse.models import ObservationKind
from carpulse.simulator.vins import Template, templates, with_check_digit

SOURCE = "simulator"
ACQUISITION_EVERY = timedelta(days=7)
# Fleets are mostly Teslas (the makes whose rated range gives a state of health), Model 3 and Y most of all.
TESLA_SHARE = 0.5
POPULAR_TESLAS = ("Model 3", "Model Y")
POPULAR_SHARE = 0.8

# Ageing, as percent of capacity lost: calendar fade grows with the square root of age (SEI growth), cycle fade
# with full-charge equivalents. NMC/NCA lose about 5 % over the first 80,000 km (about five years) and about 11 %
# by 270,000 km (reference logbook-and-battery §4.5); LFP ages more with time and far less with cycling.
CALENDAR_LOSS = {"LFP": 2.0, "NMC": 1.6}  # % per sqrt(year)
CYCLE_LOSS = {"LFP": 0.003, "NMC": 0.008}  # % per full-charge equivalent
# Reading noise of the displayed range, relative: BMS estimate jitter, and LFP's flat voltage curve on top.
RANGE_NOISE = {"LFP": 0.02, "NMC": 0.008}
LOW_LEVEL_SHARE = 0.05  # readings taken nearly empty, which the estimator sets aside


@dataclass(frozen=True)
class Truth:
    """What the simulator made the battery be at one reading."""

    captured_at: datetime
    soh_percent: float


@dataclass(frozen=True)
class SimulatedVehicle:
    vin: str
    template: Template
    brand: str
    readings: tuple[dict[str, object], ...]  # observation column values
    truth: tuple[Truth, ...]

    @property
    def make(self) -> str:
        return self.template.entry.make

    @property
    def model(self) -> str:
        return self.template.entry.model

    @property
    def model_id(self) -> str:
        return self.template.entry.model_id


def _family(chemistry: str | None) -> str:
    return "LFP" if chemistry == "LFP" else "NMC"


def true_soh_percent(chemistry: str | None, age_years: float, cycles: float, factor: float) -> float:
    """The state of health the model gives a pack of this age and use; `factor` scales a car's own ageing."""
    family = _family(chemistry)
    loss = CALENDAR_LOSS[family] * math.sqrt(max(age_years, 0.0)) + CYCLE_LOSS[family] * max(cycles, 0.0)
    return 100.0 - factor * loss


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _pick(rng: random.Random, until: date) -> Template:
    pool = templates(until)
    tesla = [template for template in pool if template.entry.make == "Tesla"]
    others = [template for template in pool if template.entry.make != "Tesla"]
    if tesla and (not others or rng.random() < TESLA_SHARE):
        popular = [template for template in tesla if template.entry.model in POPULAR_TESLAS]
        return rng.choice(popular if popular and rng.random() < POPULAR_SHARE else tesla)
    by_make = sorted({template.entry.make for template in others})
    make = rng.choice(by_make)
    return rng.choice([template for template in others if template.entry.make == make])


def _decimal(value: float, places: str) -> str:
    return str(Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def vehicle(seed: int, number: int, *, months: int, until: date) -> SimulatedVehicle:
    """Vehicle `number` of the fleet of `seed`, read weekly over the `months` before `until`."""
    # Reproducible on purpose: these draws make test data, never secrets.
    rng = random.Random(f"carpulse-simulator:{seed}:{number}")  # noqa: S311
    template = _pick(rng, until)
    entry = template.entry
    base = random.Random(f"carpulse-simulator:{seed}").randrange(1_000_000)  # noqa: S311
    vin = with_check_digit(template.prefix, base + number)
    # Sold between the July before its model year and the June of it, and early enough to be read at least once.
    delivered = min(date(template.model_year - 1, 7, 1) + timedelta(days=rng.randrange(365)), until - ACQUISITION_EVERY)
    start = max(delivered, until - timedelta(days=round(months * 30.44)))
    km_per_day = rng.lognormvariate(math.log(40), 0.4)
    factor = max(0.4, rng.gauss(1.0, 0.15))
    chemistry = entry.chemistry
    rated = entry.baseline.rated_range_km if entry.baseline is not None else None
    full_range = float(rated if rated is not None else entry.rated_range_km or 400)
    at_time = time(hour=rng.randrange(6, 22), minute=rng.randrange(60), tzinfo=UTC)
    brand = _slug(entry.make)
    version = f"{max(template.model_year, start.year)}.{rng.randrange(2, 40)}"
    readings: list[dict[str, object]] = []
    truth: list[Truth] = []
    day = start + timedelta(days=rng.randrange(7))
    odometer = km_per_day * (day - delivered).days
    while day < until:
        captured_at = datetime.combine(day, at_time)
        age = (day - delivered).days / 365.25
        soh = true_soh_percent(chemistry, age, odometer / full_range, factor)
        level = rng.randrange(10, 20) if rng.random() < LOW_LEVEL_SHARE else rng.randrange(30, 96)
        if rated is not None:
            shown = full_range * soh / 100
        else:
            # Other makes show a range from recent consumption: the season moves it more than the pack does.
            season = 0.85 + 0.15 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365.25)
            shown = full_range * soh / 100 * season
        range_km = shown * level / 100 * (1 + rng.gauss(0, RANGE_NOISE[_family(chemistry)]))
        if rng.random() < 0.05:  # an over-the-air update now and then
            version = f"{day.year}.{rng.randrange(2, 40)}"
        for kind, value, unit in (
            (ObservationKind.odometer, _decimal(odometer, "1"), "km"),
            (ObservationKind.battery_level, str(level), "%"),
            (ObservationKind.range, _decimal(range_km, "0.1"), "km"),
            (ObservationKind.software_version, version, None),
        ):
            readings.append({"vin": vin, "kind": kind, "value": value, "unit": unit, "captured_at": captured_at})
        truth.append(Truth(captured_at, soh))
        day += ACQUISITION_EVERY
        odometer += km_per_day * ACQUISITION_EVERY.days * rng.uniform(0.5, 1.5)
    return SimulatedVehicle(vin, template, brand, tuple(readings), tuple(truth))


def fleet(seed: int, vehicles: int, *, months: int, until: date) -> Iterator[SimulatedVehicle]:
    """The fleet's vehicles one by one (a large fleet need not be held at once)."""
    for number in range(vehicles):
        yield vehicle(seed, number, months=months, until=until)
