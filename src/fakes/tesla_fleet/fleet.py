"""The synthetic fleet: accounts and their vehicles, a pure function of (seed, anchor date).

Every account draws from its own random stream (seeded by the fake's seed and the account's name), so
the order in which accounts or their charging histories are built never changes what they contain.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from fakes.tesla_fleet import vin as vin_codes
from fakes.tesla_fleet.catalog import (
    DISPLAY_NAMES,
    EXTERIOR_COLORS,
    MARKETS,
    MODELS,
    Market,
    Model,
    Region,
    Trim,
    firmware_versions,
)

if TYPE_CHECKING:
    from fakes.tesla_fleet.charging import ChargingHistory

Clock = Callable[[], datetime]
VehicleState = Literal["online", "asleep", "offline"]
Usage = Literal["normal", "fleet", "heavy", "none"]


@dataclass(eq=False)
class Vehicle:
    """One car. `state` follows a pending wake-up lazily, so it is right whenever it is read."""

    vin: str
    id: int
    vehicle_id: int
    display_name: str
    model: Model
    trim: Trim
    model_year: int
    delivered_on: date
    odometer_miles: float
    degradation_percent: float
    exterior_color: str
    wheel_type: str
    market: Market
    firmware: str  # car_version: "<year>.<week>.<n> <git hash>"
    available_update: str | None  # a newer release downloaded and waiting to be installed
    charging_months: int
    charging_sessions_per_month: float
    charging_invoices: int | None = None  # exactly this many invoiced sessions (the heavy user's 500)
    access_type: Literal["OWNER", "DRIVER"] = "OWNER"
    hide_private: bool = False
    no_connectivity: bool = False
    in_service: bool = False
    clock: Clock = field(default=lambda: datetime.now(UTC), repr=False)
    wake_at: datetime | None = None
    _state: VehicleState = "online"

    @property
    def state(self) -> VehicleState:
        if self.wake_at is not None and self.clock() >= self.wake_at:
            self._state, self.wake_at = "online", None
        return self._state

    @state.setter
    def state(self, value: VehicleState) -> None:
        self._state, self.wake_at = value, None

    def wake(self, delay: timedelta) -> None:
        """Start waking up: online after `delay`, never without connectivity."""
        if self.no_connectivity or self.state == "online" or self.wake_at is not None:
            return
        if delay <= timedelta(0):
            self._state = "online"
        else:
            self.wake_at = self.clock() + delay

    @property
    def model_name(self) -> str:
        return self.model.name

    @property
    def car_type(self) -> str:
        # Pre-refresh Model S cars report the older car type.
        if self.model.name == "Model S" and self.delivered_on < date(2021, 6, 1):
            return "models2"
        return self.model.car_type

    @property
    def range_at_full_miles(self) -> float:
        """Rated range at 100 % today: the new car's range less its battery degradation."""
        return round(self.trim.rated_range_miles * (1 - self.degradation_percent / 100), 2)

    def age_years(self, today: date) -> float:
        return (today - self.delivered_on).days / 365.25


@dataclass(eq=False)
class Account:
    """A Tesla account pinned to one Fleet API region."""

    name: str
    region: Region
    market: Market
    user_id: int
    subject: str
    email: str
    full_name: str
    vault_uuid: str
    vehicles: list[Vehicle]
    seed: int = field(repr=False)
    anchor: date = field(repr=False)
    _charging: ChargingHistory | None = field(default=None, repr=False)

    @property
    def charging(self) -> ChargingHistory:
        """The account's Supercharger history, built on first use."""
        if self._charging is None:
            from fakes.tesla_fleet.charging import build_history

            self._charging = build_history(self)
        return self._charging

    def vehicle(self, tag: str) -> Vehicle | None:
        """The vehicle with this VIN or numeric id, if it is this account's."""
        for vehicle in self.vehicles:
            if tag in (vehicle.vin, str(vehicle.id)):
                return vehicle
        return None


@dataclass(frozen=True)
class _Plan:
    name: str
    country: str
    full_name: str
    models: tuple[str | None, ...]  # None: drawn at random
    usage: Usage = "normal"
    min_age_days: int = 30
    states: tuple[VehicleState, ...] = ()
    no_connectivity: tuple[int, ...] = ()
    in_service: tuple[int, ...] = ()
    driver: bool = False


_PLANS: tuple[_Plan, ...] = (
    _Plan("solo", "DE", "Alex Example", ("Model 3",)),
    _Plan("family", "NL", "Sam de Vries", ("Model Y", "Model 3", "Model X")),
    _Plan(
        "fleet",
        "SE",
        "Nordic Leasing AB",
        ("Model 3", "Model Y", "Model S", "Model X", "Cybertruck", *(None,) * 7),
        "fleet",
    ),
    _Plan("us", "US", "Jordan Miller", ("Model Y", "Cybertruck")),
    _Plan("charger", "NO", "Ingrid Hansen", ("Model 3",), "heavy", min_age_days=800),
    _Plan("sleepy", "DE", "Nils Schläfer", (None, None), "none", states=("asleep", "offline"), no_connectivity=(1,)),
    _Plan("driver", "CA", "Taylor Tremblay", (None,), driver=True),
    _Plan("china", "CN", "Li Wei", ("Model 3", "Model Y")),
    _Plan("service", "CH", "Andrea Keller", ("Model S", None), in_service=(0,)),
    _Plan("garage", "GB", "Chris Walker", ()),
)
NAMED_ACCOUNTS = tuple(plan.name for plan in _PLANS)
_RANDOM_MODELS = ("Model 3", "Model 3", "Model Y", "Model Y", "Model Y", "Model S", "Model X", "Cybertruck")
_ANNUAL_MILES = {"eu": 8_500, "na": 12_000, "cn": 9_000}
_USAGE_FACTOR = {"normal": 1.0, "none": 0.8, "fleet": 1.8, "heavy": 2.4}


def build_accounts(seed: int, anchor: date, clock: Clock) -> dict[str, Account]:
    """Every synthetic account, keyed by name."""
    return {plan.name: _build_account(plan, seed, anchor, clock) for plan in _PLANS}


def _build_account(plan: _Plan, seed: int, anchor: date, clock: Clock) -> Account:
    rng = random.Random(f"tesla-fleet:{seed}:{plan.name}")  # noqa: S311 - the fleet is a function of the seed
    market = MARKETS[plan.country]
    models = plan.models or tuple(None for _ in range(rng.randint(4, 9)))
    names = list(DISPLAY_NAMES)
    rng.shuffle(names)
    vehicles = []
    for index, model_name in enumerate(models):
        model = MODELS[model_name or rng.choice(_RANDOM_MODELS)]
        display_name = f"Fleet {index + 1:02d}" if plan.usage == "fleet" else names[index]
        vehicle = _build_vehicle(rng, plan, index, model, market, anchor, display_name, clock)
        vehicles.append(vehicle)
    return Account(
        name=plan.name,
        region=market.region,
        market=market,
        user_id=rng.randint(100_000, 9_999_999),
        subject=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        email=f"{plan.name}.owner@example.com",
        full_name=plan.full_name,
        vault_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        vehicles=vehicles,
        seed=seed,
        anchor=anchor,
    )


def _introduced_in(model: Model, market: Market) -> date:
    # Model 3 and Model Y reached Europe and China later than North America.
    if market.region != "na" and model.name == "Model 3":
        return date(2019, 2, 7)
    if market.region != "na" and model.name == "Model Y":
        return date(2021, 8, 26)
    return model.introduced


def _build_vehicle(
    rng: random.Random,
    plan: _Plan,
    index: int,
    model: Model,
    market: Market,
    anchor: date,
    display_name: str,
    clock: Clock,
) -> Vehicle:
    # Draws never depend on the date (no randint over a date-dependent range), so a vehicle keeps
    # its identity from one day to the next; only its delivery date moves along with the anchor.
    max_age_days = min(8 * 365, (anchor - _introduced_in(model, market)).days)
    min_age_days = min(plan.min_age_days, max_age_days)
    age_days = min_age_days + int(rng.random() * (max_age_days - min_age_days + 1))
    delivered_on = anchor - timedelta(days=age_days)
    years = age_days / 365.25
    trim = _trim(rng, model, delivered_on)
    model_year = delivered_on.year + (1 if delivered_on.month >= 10 else 0)
    wmi, plant = _factory(rng.random(), model, market, delivered_on)
    body = model.body_code_rhd if market.rhd else model.body_code
    vin = vin_codes.build(wmi, f"{model.letter}{body}{trim.motor_code}", model_year, plant, rng.randint(1, 999_999))
    odometer = years * _ANNUAL_MILES[market.region] * _USAGE_FACTOR[plan.usage] * rng.uniform(0.6, 1.4)
    # Capacity drops a few percent over the first tens of thousands of miles, then slowly with age.
    degradation = 3.5 * (1 - math.exp(-odometer / 25_000)) + 0.8 * years + rng.uniform(-0.8, 1.2)
    months_old = age_days // 30
    invoices: int | None = None
    if plan.usage == "heavy":
        # Drawn generously (about 650 sessions), then thinned to exactly 500 invoices across the two years.
        months, per_month, invoices = 24, 28.0, 500
    elif plan.usage == "none":
        months, per_month = 0, 0.0
    else:
        months = min(months_old, rng.randint(0, 24))
        per_month = rng.uniform(3.0, 10.0) if plan.usage == "fleet" else rng.uniform(0.5, 5.0)
    state: VehicleState = plan.states[index] if index < len(plan.states) else "online"
    if not plan.models:
        state = rng.choices(("online", "asleep", "offline"), weights=(6, 3, 1))[0]
    releases = firmware_versions(anchor)
    candidates = releases[-3:] if years < 6 else releases
    firmware = candidates[int(rng.random() * len(candidates))]
    update = releases[-1] if firmware != releases[-1] and rng.random() < 0.5 else None
    vehicle = Vehicle(
        vin=vin,
        id=rng.randrange(10**15, 10**16),
        vehicle_id=rng.randrange(10**9, 2 * 10**9),
        display_name=display_name,
        model=model,
        trim=trim,
        model_year=model_year,
        delivered_on=delivered_on,
        odometer_miles=round(odometer + rng.uniform(20, 400), 6),
        degradation_percent=round(min(25.0, max(0.0, degradation)), 1),
        exterior_color=rng.choice(EXTERIOR_COLORS),
        wheel_type=rng.choice(model.wheels),
        market=market,
        firmware=f"{firmware} {rng.getrandbits(48):012x}",
        available_update=update,
        charging_months=months,
        charging_sessions_per_month=per_month,
        charging_invoices=invoices,
        access_type="DRIVER" if plan.driver else "OWNER",
        hide_private=plan.driver,
        no_connectivity=index in plan.no_connectivity,
        in_service=index in plan.in_service,
        clock=clock,
    )
    vehicle.state = "offline" if vehicle.no_connectivity else state
    return vehicle


def _trim(rng: random.Random, model: Model, delivered_on: date) -> Trim:
    trims = model.trims
    if model.name in ("Model S", "Model X"):
        # The 75 kWh packs were dropped in 2019; Plaid arrived with the 2021 refresh.
        trims = tuple(
            trim
            for trim in trims
            if (trim.badging != "75d" or delivered_on < date(2019, 5, 1))
            and (trim.badging != "plaid" or delivered_on >= date(2021, 6, 10))
        )
    return trims[int(rng.random() * len(trims))]


def _factory(draw: float, model: Model, market: Market, delivered_on: date) -> tuple[str, str]:
    """World manufacturer identifier and plant code (F Fremont, A Austin, C Shanghai, B Berlin)."""
    if model.name == "Cybertruck":
        return "7G2", "A"
    if model.name == "Model 3":
        if market.region == "cn" or (market.region == "eu" and delivered_on >= date(2021, 1, 1)):
            return "LRW", "C"
        return "5YJ", "F"
    if model.name == "Model Y":
        if market.region == "cn" or (market.region == "eu" and delivered_on < date(2022, 3, 22)):
            return "LRW", "C"
        if market.region == "eu":
            return "XP7", "B"
        if delivered_on < date(2022, 1, 1):
            return "5YJ", "F"
        return "7SA", "F" if draw < 0.5 else "A"
    return "5YJ", "F"
