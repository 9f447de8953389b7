from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from fakes.tesla_fleet import NAMED_ACCOUNTS, TeslaFleetFake, Vehicle
from tests.fakes.tesla_fleet.flows import Clock

# Written out independently of the fake: ISO 3779 / 49 CFR 565 transliteration and weights.
VALUES = dict(
    zip("0123456789ABCDEFGHJKLMNPRSTUVWXYZ", [*range(10), *range(1, 9), *range(1, 6), 7, 9, *range(2, 10)], strict=True)
)
WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
YEAR_CODES = {2017: "H", 2018: "J", 2019: "K", 2020: "L", 2021: "M", 2022: "N", 2023: "P", 2024: "R", 2025: "S"}
YEAR_CODES |= {2026: "T", 2027: "V"}
WMIS = {
    "Model S": {"5YJ"},
    "Model X": {"5YJ"},
    "Model 3": {"5YJ", "LRW"},
    "Model Y": {"5YJ", "7SA", "LRW", "XP7"},
    "Cybertruck": {"7G2"},
}
MODEL_LETTERS = {"Model S": "S", "Model X": "X", "Model 3": "3", "Model Y": "Y", "Cybertruck": "C"}


def expected_check_digit(vin: str) -> str:
    remainder = sum(VALUES[char] * weight for char, weight in zip(vin, WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def every_vehicle(fake: TeslaFleetFake) -> list[Vehicle]:
    return [vehicle for account in fake.accounts.values() for vehicle in account.vehicles]


class TestNamedAccounts:
    @pytest.mark.parametrize(
        ("name", "vehicles", "region"),
        [("solo", 1, "eu"), ("family", 3, "eu"), ("fleet", 12, "eu"), ("us", 2, "na"), ("charger", 1, "eu")],
    )
    def test_exist_with_their_size_and_region(
        self, fake: TeslaFleetFake, name: str, vehicles: int, region: str
    ) -> None:
        account = fake.accounts[name]

        assert len(account.vehicles) == vehicles
        assert account.region == region

    def test_every_model_and_every_region_is_present(self, fake: TeslaFleetFake) -> None:
        assert {vehicle.model_name for vehicle in fake.accounts["fleet"].vehicles} == set(WMIS)
        assert {account.region for account in fake.accounts.values()} == {"na", "eu", "cn"}
        assert set(fake.accounts) == set(NAMED_ACCOUNTS)
        assert all(1 <= len(account.vehicles) <= 12 for account in fake.accounts.values())


class TestVins:
    def test_check_digits_are_valid_for_every_vehicle(self, fake: TeslaFleetFake) -> None:
        vins = [vehicle.vin for vehicle in every_vehicle(fake)]

        assert len(vins) == len(set(vins))
        for vin in vins:
            assert len(vin) == 17
            assert not set(vin) & set("IOQ")
            assert vin[8] == expected_check_digit(vin), vin

    def test_manufacturer_model_and_year_codes(self, fake: TeslaFleetFake) -> None:
        for vehicle in every_vehicle(fake):
            assert vehicle.vin[:3] in WMIS[vehicle.model_name]
            assert vehicle.vin[3] == MODEL_LETTERS[vehicle.model_name]
            assert vehicle.vin[9] == YEAR_CODES[vehicle.model_year]
            assert vehicle.model_year - vehicle.delivered_on.year in (0, 1)


class TestAgesAndMileage:
    def test_ages_are_zero_to_eight_years_and_after_the_model_launch(self, fake: TeslaFleetFake) -> None:
        for vehicle in every_vehicle(fake):
            assert 0 <= vehicle.age_years(fake.anchor) <= 8
            assert vehicle.delivered_on >= vehicle.model.introduced

    def test_odometer_and_degradation_grow_with_use(self, fake: TeslaFleetFake) -> None:
        vehicles = sorted(every_vehicle(fake), key=lambda vehicle: vehicle.odometer_miles)
        young, old = vehicles[: len(vehicles) // 3], vehicles[-len(vehicles) // 3 :]

        for vehicle in vehicles:
            assert 0 < vehicle.odometer_miles / max(vehicle.age_years(fake.anchor), 0.05) < 40_000
            assert 0 <= vehicle.degradation_percent <= 25
        assert sum(v.degradation_percent for v in old) / len(old) > sum(v.degradation_percent for v in young) / len(
            young
        )

    def test_charging_history_stays_within_24_months_and_the_cars_life(self, fake: TeslaFleetFake) -> None:
        for account in fake.accounts.values():
            vehicles = {vehicle.vin: vehicle for vehicle in account.vehicles}
            for session in account.charging.sessions:
                assert session.start.date() >= vehicles[session.vin].delivered_on
                assert (fake.anchor - session.start.date()).days <= 24 * 31


class TestDeterminism:
    def test_same_seed_same_fleet(self) -> None:
        clock = Clock(datetime(2026, 3, 1, tzinfo=UTC))
        first, second = TeslaFleetFake(seed=3, clock=clock), TeslaFleetFake(seed=3, clock=clock)

        assert snapshot(first) == snapshot(second)
        assert [s.to_json() for s in first.accounts["fleet"].charging.sessions] == [
            s.to_json() for s in second.accounts["fleet"].charging.sessions
        ]

    def test_other_seed_other_fleet(self) -> None:
        clock = Clock()

        assert snapshot(TeslaFleetFake(seed=1, clock=clock)) != snapshot(TeslaFleetFake(seed=2, clock=clock))

    def test_reset_rebuilds_the_same_fleet(self, fake: TeslaFleetFake) -> None:
        before = snapshot(fake)
        fake.accounts["solo"].vehicles[0].display_name = "Renamed"

        fake.reset()

        assert snapshot(fake) == before

    @pytest.mark.parametrize("seed", [1, 2, 3, 42, 2026])
    def test_every_seed_keeps_the_named_accounts_promises(self, seed: int) -> None:
        fake = TeslaFleetFake(seed=seed)

        assert len(fake.accounts["charger"].charging.invoices) >= 500
        assert {vehicle.model_name for vehicle in fake.accounts["fleet"].vehicles} == set(WMIS)
        assert all(vehicle.vin[8] == expected_check_digit(vehicle.vin) for vehicle in every_vehicle(fake))


def snapshot(fake: TeslaFleetFake) -> list[tuple[object, ...]]:
    return [
        (name, vehicle.vin, vehicle.id, vehicle.display_name, vehicle.odometer_miles, vehicle.degradation_percent)
        for name, account in fake.accounts.items()
        for vehicle in account.vehicles
    ]


class TestBuildCost:
    def test_builds_well_under_half_a_second(self) -> None:
        started = time.perf_counter()
        fake = TeslaFleetFake(seed=99)
        built = time.perf_counter() - started
        histories = sum(len(account.charging.sessions) for account in fake.accounts.values())

        assert built < 0.25
        assert histories > 0
