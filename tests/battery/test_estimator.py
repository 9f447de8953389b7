"""Battery state of health: honest numbers with a band, or a status and a reason instead of a number."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carpulse.battery.catalogue import BASELINE_KEYS, BASELINES, baseline_for
from carpulse.battery.estimator import (
    FLAG_ABOVE_NOMINAL,
    FLAG_FEW_SAMPLES,
    FLAG_FIRMWARE_CHANGED,
    FLAG_LFP,
    FLAG_LOW_STATE_OF_CHARGE,
    FLAG_STALE_SAMPLES,
    MESSAGE_KEYS,
    METHOD_RATED_RANGE,
    REASON_ALL_REJECTED,
    REASON_NO_BASELINE,
    REASON_NO_SAMPLES,
    REJECTED_FUTURE,
    REJECTED_INVALID,
    REJECTED_LOW_LEVEL,
    BatteryHealth,
    BatterySample,
    PackBaseline,
    estimate,
    sources,
)
from carpulse.battery.samples import samples_from_snapshot
from carpulse.kit.i18n import LOCALES, catalogue, message_ids, say
from carpulse.provider.base import Reading, VehicleIdentity, VehicleSnapshot
from carpulse.provider.tesla.adapter import identify, model_from_vin, normalize_vehicle_data, year_from_vin
from fakes.tesla_fleet.catalog import MODELS
from fakes.tesla_fleet.fleet import Account, Vehicle, build_accounts
from fakes.tesla_fleet.vehicle_data import vehicle_data

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
VIN_FREMONT_M3_2022 = "5YJ3E7EB1NF000001"
VIN_SHANGHAI_M3_2022 = "LRW3E7EB1NC000001"


def tesla_baseline(identity: VehicleIdentity, config: dict[str, str] | None) -> PackBaseline | None:
    """The baseline of a car as the Tesla adapter identifies it from its `vehicle_config`."""
    return baseline_for(identify(identity, config or {}))


def baseline(key: str) -> PackBaseline:
    return next(entry for entry in BASELINES if entry.key == key)


LONG_RANGE = baseline("model_3_long_range_awd_2022_18in")  # US-built NCA, EPA 358 mi
LONG_RANGE_2024 = baseline("model_3_long_range_awd_2024_18in")  # NCA, current rating
RWD_LFP = baseline("model_3_rear_wheel_drive_lfp_2022")  # LFP, current rating


def sample(
    pack: PackBaseline,
    soh: str,
    level: int,
    *,
    days_ago: float = 1,
    usable: int | None = None,
    software: str | None = "2026.14.3",
) -> BatterySample:
    """A reading as the car reports it: rated range at `level` of a pack at `soh` percent, rounded like the adapter."""
    usable_level = level if usable is None else usable
    rated = pack.rated_range_km * Decimal(soh) / 100 * usable_level / 100
    return BatterySample(
        captured_at=NOW - timedelta(days=days_ago),
        battery_level_percent=Decimal(level),
        usable_level_percent=Decimal(usable_level),
        rated_range_km=rated.quantize(Decimal("0.1")),
        odometer_km=Decimal(42_000),
        software_version=software,
    )


def width(health: BatteryHealth) -> Decimal:
    assert health.soh_low_percent is not None
    assert health.soh_high_percent is not None
    return health.soh_high_percent - health.soh_low_percent


def assert_no_number(health: BatteryHealth) -> None:
    assert health.soh_percent is None
    assert health.soh_low_percent is None
    assert health.soh_high_percent is None
    assert health.usable_capacity_kwh is None
    assert health.usable_capacity_low_kwh is None
    assert health.usable_capacity_high_kwh is None
    assert health.implied_full_range_km is None


def english_ids() -> frozenset[str]:
    return frozenset(str(message.id) for message in catalogue("en") if message.id)


def fake_fleet(seed: int, anchor: date) -> Iterator[tuple[Account, Vehicle]]:
    moment = datetime.combine(anchor, datetime.min.time(), tzinfo=UTC)
    for account in build_accounts(seed, anchor, lambda: moment).values():
        for vehicle in account.vehicles:
            yield account, vehicle


def fake_snapshot(account: Account, vehicle: Vehicle, seed: int, now: datetime) -> VehicleSnapshot:
    """The Tesla fake's vehicle_data for one car, normalized by our real adapter."""
    data = vehicle_data(vehicle, account, seed=seed, now=now, sections=None, location=False)
    snapshot = VehicleSnapshot(
        identity=VehicleIdentity(vin=vehicle.vin, model=model_from_vin(vehicle.vin), year=year_from_vin(vehicle.vin)),
        captured_at=now,
        online_state="online",
        raw={"vehicle_data": data},
    )
    normalize_vehicle_data(snapshot, data)
    return snapshot


class TestSamplesFromSnapshot:
    def snapshot(self, **readings: Reading[float] | Reading[str] | None) -> VehicleSnapshot:
        return VehicleSnapshot(
            identity=VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3"),
            captured_at=NOW,
            online_state="online",
            **readings,
        )

    def test_the_live_reading_becomes_one_sample(self) -> None:
        at = NOW - timedelta(minutes=3)
        snapshot = self.snapshot(
            battery_level=Reading(value=68.0, unit="%", captured_at=at, source="tesla_fleet"),
            usable_battery_level=Reading(value=67.0, unit="%", captured_at=at, source="tesla_fleet"),
            range=Reading(value=324.2, unit="km", captured_at=at, source="tesla_fleet"),
            odometer=Reading(value=40_026.4, unit="km", captured_at=at, source="tesla_fleet"),
            software_version=Reading(value="2026.14.3", captured_at=at, source="tesla_fleet"),
        )

        assert samples_from_snapshot(snapshot) == [
            BatterySample(
                captured_at=at,
                battery_level_percent=Decimal("68.0"),
                usable_level_percent=Decimal("67.0"),
                rated_range_km=Decimal("324.2"),
                odometer_km=Decimal("40026.4"),
                software_version="2026.14.3",
            )
        ]

    def test_the_usable_level_is_what_the_range_is_extrapolated_from(self) -> None:
        snapshot = self.snapshot(
            battery_level=Reading(value=68.0, unit="%", source="tesla_fleet"),
            usable_battery_level=Reading(value=64.0, unit="%", source="tesla_fleet"),
            range=Reading(value=300.0, unit="km", source="tesla_fleet"),
        )

        (only,) = samples_from_snapshot(snapshot)

        assert only.level_percent == Decimal(64)
        assert only.captured_at == NOW  # no reading time: the snapshot's

    def test_miles_are_converted(self) -> None:
        snapshot = self.snapshot(
            battery_level=Reading(value=50.0, unit="%", source="tesla_fleet"),
            range=Reading(value=100.0, unit="mi", source="tesla_fleet"),
        )

        (only,) = samples_from_snapshot(snapshot)

        assert only.rated_range_km == Decimal("160.9344")
        assert only.level_percent == Decimal(50)

    @pytest.mark.parametrize(
        "readings",
        [
            {},
            {"battery_level": Reading(value=50.0, unit="%", source="t")},
            {"range": Reading(value=200.0, unit="km", source="t")},
            {
                "battery_level": Reading(value=50.0, unit="%", source="t"),
                "range": Reading(value=200.0, unit="furlong", source="t"),
            },
            {
                "battery_level": Reading(value=float("nan"), unit="%", source="t"),
                "range": Reading(value=200.0, unit="km", source="t"),
            },
        ],
    )
    def test_no_sample_without_level_and_rated_range(self, readings: dict[str, Reading[float]]) -> None:
        assert samples_from_snapshot(self.snapshot(**readings)) == []


class TestHealthyPack:
    def test_a_healthy_pack_reads_close_to_its_rating(self) -> None:
        samples = [sample(LONG_RANGE, "97", level) for level in (80, 72, 65, 90, 58)]

        health = estimate(samples, LONG_RANGE, now=NOW)

        assert health.status == "estimated"
        assert health.method == METHOD_RATED_RANGE
        assert health.reason is None
        assert health.flags == ()
        assert health.baseline == LONG_RANGE
        assert health.soh_percent is not None
        assert abs(health.soh_percent - Decimal("97.0")) <= Decimal("0.1")
        assert health.soh_low_percent is not None
        assert health.soh_high_percent is not None
        assert health.soh_low_percent < Decimal(97) < health.soh_high_percent
        assert width(health) < Decimal(8)
        assert health.samples_rejected == ()
        assert len(health.samples_used) == 5

    def test_usable_capacity_follows_the_state_of_health(self) -> None:
        health = estimate([sample(LONG_RANGE, "97", level) for level in (80, 70, 60)], LONG_RANGE, now=NOW)

        assert health.usable_capacity_kwh == (LONG_RANGE.usable_kwh * Decimal("0.97")).quantize(Decimal("0.1"))
        assert health.usable_capacity_low_kwh is not None
        assert health.usable_capacity_high_kwh is not None
        assert health.usable_capacity_low_kwh < health.usable_capacity_kwh < health.usable_capacity_high_kwh

    def test_a_cold_pack_is_judged_by_its_usable_level(self) -> None:
        # Cold: part of the energy is locked, usable level drops below battery level and rated range follows it.
        samples = [sample(LONG_RANGE, "97", level, usable=level - 4) for level in (80, 72, 65)]

        health = estimate(samples, LONG_RANGE, now=NOW)

        assert health.soh_percent is not None
        assert abs(health.soh_percent - Decimal("97.0")) <= Decimal("0.2")

    def test_a_car_from_the_tesla_fake(self) -> None:
        """A car whose fake rating matches its real one: our estimate's band holds the fake's true state of health."""
        anchor, seed = date(2026, 6, 1), 11
        account, vehicle = next(
            (account, vehicle)
            for account, vehicle in fake_fleet(seed, anchor)
            if vehicle.model.name == "Model 3" and vehicle.trim.badging == "50" and vehicle.vin.startswith("LRW")
        )
        snapshot = fake_snapshot(account, vehicle, seed, NOW)
        config = snapshot.raw["vehicle_data"]["vehicle_config"]

        pack = tesla_baseline(snapshot.identity, config)
        health = estimate(samples_from_snapshot(snapshot), pack, now=NOW)

        assert pack is not None
        assert pack.chemistry == "LFP"
        assert health.status == "estimated"
        assert health.soh_low_percent is not None
        assert health.soh_high_percent is not None
        true_soh = Decimal(100) - Decimal(str(vehicle.degradation_percent))
        assert health.soh_low_percent <= true_soh <= health.soh_high_percent


class TestDegradedPack:
    def test_a_degraded_pack_reads_low(self) -> None:
        samples = [sample(LONG_RANGE, "82", level, days_ago=day) for day, level in enumerate((85, 70, 62, 77))]

        health = estimate(samples, LONG_RANGE, now=NOW)

        assert health.status == "estimated"
        assert health.soh_percent is not None
        assert health.soh_high_percent is not None
        assert abs(health.soh_percent - Decimal(82)) <= Decimal("0.1")
        assert health.soh_high_percent < Decimal(90)
        assert health.implied_full_range_km is not None
        assert health.implied_full_range_km < LONG_RANGE.rated_range_km * Decimal("0.83")

    def test_an_outlier_does_not_move_the_median(self) -> None:
        steady = [sample(LONG_RANGE, "82", level) for level in (85, 70, 62, 77)]
        outlier = sample(LONG_RANGE, "99", 66)

        health = estimate([*steady, outlier], LONG_RANGE, now=NOW)

        assert health.soh_percent is not None
        assert abs(health.soh_percent - Decimal(82)) <= Decimal("0.1")
        assert width(health) > width(estimate(steady, LONG_RANGE, now=NOW))


class TestInsufficientData:
    def test_a_single_reading_at_low_charge_gives_no_number(self) -> None:
        low = sample(LONG_RANGE, "95", 12)

        health = estimate([low], LONG_RANGE, now=NOW)

        assert health.status == "insufficient_data"
        assert health.reason == REASON_ALL_REJECTED
        assert_no_number(health)
        assert health.samples_used == ()
        assert [(rejected.sample, rejected.reason) for rejected in health.samples_rejected] == [
            (low, REJECTED_LOW_LEVEL)
        ]
        assert health.baseline == LONG_RANGE

    def test_no_readings_at_all(self) -> None:
        health = estimate([], LONG_RANGE, now=NOW)

        assert health.status == "insufficient_data"
        assert health.reason == REASON_NO_SAMPLES
        assert_no_number(health)

    def test_readings_just_above_the_floor_are_used_but_flagged(self) -> None:
        health = estimate([sample(LONG_RANGE, "95", level) for level in (20, 35, 44)], LONG_RANGE, now=NOW)

        assert health.status == "estimated"
        assert FLAG_LOW_STATE_OF_CHARGE in health.flags
        assert health.samples_rejected == ()

    def test_one_reading_above_half_charge_clears_the_low_charge_flag(self) -> None:
        health = estimate([sample(LONG_RANGE, "95", level) for level in (30, 35, 60)], LONG_RANGE, now=NOW)

        assert FLAG_LOW_STATE_OF_CHARGE not in health.flags


class TestRejectedReadings:
    def test_each_bad_reading_is_set_aside_with_its_reason(self) -> None:
        good = [sample(LONG_RANGE, "95", level) for level in (80, 70, 60)]
        future = sample(LONG_RANGE, "95", 75, days_ago=-1)
        empty = sample(LONG_RANGE, "95", 0)
        overfull = sample(LONG_RANGE, "95", 101)
        no_range = BatterySample(captured_at=NOW, battery_level_percent=Decimal(50), rated_range_km=Decimal(0))
        naive = BatterySample(
            captured_at=datetime(2026, 5, 1, 12, 0), battery_level_percent=Decimal(50), rated_range_km=Decimal(250)
        )

        health = estimate([*good, future, empty, overfull, no_range, naive], LONG_RANGE, now=NOW)

        assert health.status == "estimated"
        assert set(health.samples_used) == set(good)
        assert {(rejected.sample, rejected.reason) for rejected in health.samples_rejected} == {
            (future, REJECTED_FUTURE),
            (empty, REJECTED_INVALID),
            (overfull, REJECTED_INVALID),
            (no_range, REJECTED_INVALID),
            (naive, REJECTED_INVALID),
        }


class TestLfpPack:
    def test_lfp_is_flagged_and_its_band_is_wider(self) -> None:
        levels = (80, 70, 60, 90)
        lfp = estimate([sample(RWD_LFP, "94", level) for level in levels], RWD_LFP, now=NOW)
        nca = estimate([sample(LONG_RANGE_2024, "94", level) for level in levels], LONG_RANGE_2024, now=NOW)

        assert RWD_LFP.rating_error_percent == LONG_RANGE_2024.rating_error_percent
        assert FLAG_LFP in lfp.flags
        assert FLAG_LFP not in nca.flags
        assert lfp.soh_percent == nca.soh_percent
        assert width(lfp) > width(nca)


class TestFirmwareChange:
    def test_readings_from_two_software_versions_are_flagged(self) -> None:
        samples = [
            sample(LONG_RANGE, "95", 80, days_ago=20, software="2026.8.6"),
            sample(LONG_RANGE, "95", 70, days_ago=10, software="2026.8.6"),
            sample(LONG_RANGE, "95", 60, days_ago=2, software="2026.14.3"),
        ]

        assert FLAG_FIRMWARE_CHANGED in estimate(samples, LONG_RANGE, now=NOW).flags

    def test_one_version_or_an_unknown_one_is_not(self) -> None:
        samples = [
            sample(LONG_RANGE, "95", 80, software="2026.14.3"),
            sample(LONG_RANGE, "95", 70, software=None),
            sample(LONG_RANGE, "95", 60, software="2026.14.3"),
        ]

        assert FLAG_FIRMWARE_CHANGED not in estimate(samples, LONG_RANGE, now=NOW).flags


class TestFewSamples:
    @pytest.mark.parametrize(("count", "flagged"), [(1, True), (2, True), (3, False), (8, False)])
    def test_fewer_than_three_readings_are_flagged(self, count: int, flagged: bool) -> None:
        samples = [sample(LONG_RANGE, "95", 60 + 4 * index) for index in range(count)]

        assert (FLAG_FEW_SAMPLES in estimate(samples, LONG_RANGE, now=NOW).flags) is flagged

    def test_a_single_reading_still_carries_a_scatter_allowance(self) -> None:
        one = estimate([sample(LONG_RANGE, "95", 80)], LONG_RANGE, now=NOW)
        many = estimate([sample(LONG_RANGE, "95", 80) for _ in range(12)], LONG_RANGE, now=NOW)

        assert width(one) > width(many)


class TestStaleSamples:
    def test_readings_older_than_a_month_are_flagged(self) -> None:
        samples = [sample(LONG_RANGE, "95", level, days_ago=40 + level) for level in (80, 70, 60)]

        assert FLAG_STALE_SAMPLES in estimate(samples, LONG_RANGE, now=NOW).flags

    def test_one_recent_reading_is_enough(self) -> None:
        samples = [sample(LONG_RANGE, "95", 80, days_ago=90), sample(LONG_RANGE, "95", 70, days_ago=2)]

        assert FLAG_STALE_SAMPLES not in estimate(samples, LONG_RANGE, now=NOW).flags


class TestAboveNominal:
    def test_a_reading_above_the_rating_is_reported_not_clamped(self) -> None:
        health = estimate([sample(LONG_RANGE, "106", level) for level in (80, 70, 60)], LONG_RANGE, now=NOW)

        assert health.soh_percent is not None
        assert abs(health.soh_percent - Decimal(106)) <= Decimal("0.1")
        assert FLAG_ABOVE_NOMINAL in health.flags

    def test_a_little_above_is_normal_for_a_new_pack(self) -> None:
        health = estimate([sample(LONG_RANGE, "102", level) for level in (80, 70, 60)], LONG_RANGE, now=NOW)

        assert health.soh_percent is not None
        assert health.soh_percent > Decimal(100)
        assert FLAG_ABOVE_NOMINAL not in health.flags


class TestNoBaseline:
    def test_no_baseline_means_no_number(self) -> None:
        samples = [sample(LONG_RANGE, "95", level) for level in (80, 70, 60)]

        health = estimate(samples, None, now=NOW)

        assert health.status == "no_baseline"
        assert health.reason == REASON_NO_BASELINE
        assert health.baseline is None
        assert health.flags == ()
        assert_no_number(health)
        assert len(health.samples_used) == 3

    @pytest.mark.parametrize(
        ("identity", "config"),
        [
            (VehicleIdentity(vin="5YJRE1A10A1000001", model="Roadster", year=2010), None),
            (VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3", year=2022), None),  # no trim badge
            (VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3", trim="62", year=2019), None),
            # The US-built Model Y RWD pack's chemistry is not established.
            (VehicleIdentity(vin="7SAYGDED1PF000001", model="Model Y", trim="74", year=2023), None),
            # car_type contradicts the model from the VIN.
            (
                VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3", trim="74d", year=2022),
                {"car_type": "modely", "wheel_type": "Pinwheel18"},
            ),
            # Model year unknown and the badge spans generations with different ratings.
            (VehicleIdentity(vin="5YJ3E7EB1", model="Model 3", trim="74d"), {"wheel_type": "Pinwheel18"}),
            # A Shanghai-built Standard Range Plus before 2021 had no rating we can stand behind.
            (VehicleIdentity(vin="LRW3E7EA1LC000001", model="Model 3", trim="50", year=2020), None),
        ],
    )
    def test_cars_we_cannot_match_get_none(self, identity: VehicleIdentity, config: dict[str, str] | None) -> None:
        assert tesla_baseline(identity, config) is None


class TestBaselineFor:
    def test_model_trim_year_wheels_and_factory_pick_one_row(self) -> None:
        identity = VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3", trim="74d", year=2022)

        pack = tesla_baseline(identity, {"car_type": "model3", "trim_badging": "74d", "wheel_type": "Pinwheel18CapKit"})

        assert pack == LONG_RANGE
        assert pack.chemistry == "NCA"
        assert pack.rated_range_km == Decimal("576.1")  # 358 mi
        assert "fueleconomy.gov" in pack.source

    def test_shanghai_built_long_range_is_ncm(self) -> None:
        identity = VehicleIdentity(vin=VIN_SHANGHAI_M3_2022, model="Model 3", trim="74d", year=2022)

        pack = tesla_baseline(identity, {"wheel_type": "Pinwheel18"})

        assert pack is not None
        assert pack.key == "model_3_long_range_awd_2022_18in_ncm"
        assert pack.chemistry == "NCM"
        assert pack.rating_error_percent > LONG_RANGE.rating_error_percent

    def test_the_published_wheel_rating_is_used(self) -> None:
        identity = VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3", trim="74d", year=2022)

        pack = tesla_baseline(identity, {"wheel_type": "Stiletto19"})

        assert pack == baseline("model_3_long_range_awd_2022_19in")

    def test_unknown_wheels_span_every_published_rating(self) -> None:
        identity = VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3", trim="74d", year=2022)
        eighteen, nineteen = LONG_RANGE, baseline("model_3_long_range_awd_2022_19in")

        pack = tesla_baseline(identity, None)

        assert pack is not None
        low, high = pack.rated_range_interval_km
        assert low <= nineteen.rated_range_interval_km[0]
        assert high >= eighteen.rated_range_interval_km[1] - Decimal("0.1")
        assert nineteen.rated_range_km < pack.rated_range_km < eighteen.rated_range_km

    def test_wheels_without_a_published_rating_widen_it_downwards(self) -> None:
        identity = VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3", trim="74d", year=2022)
        nineteen = baseline("model_3_long_range_awd_2022_19in")

        pack = tesla_baseline(identity, {"wheel_type": "Stiletto20"})

        assert pack is not None
        assert pack.wheel_inches == 20
        # The top stays at the 19-inch rating (give or take the rating error, which is rounded up).
        assert nineteen.rated_range_interval_km[1] <= pack.rated_range_interval_km[1]
        assert pack.rated_range_interval_km[1] <= nineteen.rated_range_interval_km[1] + 1
        assert pack.rated_range_interval_km[0] < nineteen.rated_range_interval_km[0] * Decimal("0.94")

    def test_a_year_rated_twice_spans_both_ratings(self) -> None:
        identity = VehicleIdentity(vin="5YJSA1E2XKF000001", model="Model S", trim="100d", year=2019)

        pack = tesla_baseline(identity, {"car_type": "models2", "wheel_type": "Slipstream19"})

        assert pack is not None
        low, high = pack.rated_range_interval_km
        assert low <= Decimal(335) * Decimal("1.609344") <= Decimal(370) * Decimal("1.609344") <= high

    @pytest.mark.parametrize(
        ("car_type", "key"),
        [("models2", "model_s_long_range_plus_2021"), ("models", "model_s_long_range_2021_19in")],
    )
    def test_car_type_tells_the_2021_refresh_apart(self, car_type: str, key: str) -> None:
        identity = VehicleIdentity(vin="5YJSA1E2XMF000001", model="Model S", trim="100d", year=2021)

        pack = tesla_baseline(identity, {"car_type": car_type, "wheel_type": "Tempest19"})

        assert pack is not None
        assert pack.key == key

    def test_vin_position_seven_f_means_lfp(self) -> None:
        identity = VehicleIdentity(vin="LRW3E7FS5PC695355", model="Model 3", trim="50", year=2023)

        pack = tesla_baseline(identity, None)

        assert pack == RWD_LFP
        assert pack.rated_range_km == Decimal("437.7")  # 272 mi

    def test_the_model_can_come_from_car_type(self) -> None:
        identity = VehicleIdentity(vin="7G2CEHED1RA000001", year=2024)

        pack = tesla_baseline(identity, {"car_type": "cybertruck", "trim_badging": "cyberbeast"})

        assert pack is not None
        assert pack.key == "cybertruck_cyberbeast_2024"

    def test_a_badge_older_than_its_vin_year_takes_its_first_rating(self) -> None:
        identity = VehicleIdentity(vin="5YJXCAE4XMF000001", model="Model X", trim="plaid", year=2021)

        pack = tesla_baseline(identity, {"wheel_type": "Cyberstream20"})

        assert pack == baseline("model_x_plaid_2022_20in")

    def test_every_baseline_is_sourced_and_keyed_once(self) -> None:
        assert len({entry.key for entry in BASELINES}) == len(BASELINES)
        assert all(entry.source and entry.rated_range_km > 0 and entry.usable_kwh > 0 for entry in BASELINES)
        assert any(entry.chemistry == "LFP" and entry.model == "Model 3" for entry in BASELINES)
        assert any(entry.chemistry == "LFP" and entry.model == "Model Y" for entry in BASELINES)


class TestUncertaintyBand:
    @settings(max_examples=150, deadline=None)
    @given(
        pack=st.sampled_from(BASELINES),
        readings=st.lists(
            st.tuples(
                st.integers(min_value=20, max_value=100),
                st.decimals(min_value="70", max_value="110", places=1),
                st.integers(min_value=0, max_value=2),
                st.integers(min_value=0, max_value=60),
            ),
            min_size=1,
            max_size=12,
        ),
    )
    def test_the_band_contains_the_estimate(
        self, pack: PackBaseline, readings: list[tuple[int, Decimal, int, int]]
    ) -> None:
        samples = [
            sample(pack, str(soh), max(level, 22), usable=max(level, 22) - cold, days_ago=days)
            for level, soh, cold, days in readings
        ]

        health = estimate(samples, pack, now=NOW)

        assert health.status == "estimated"
        assert health.soh_low_percent is not None
        assert health.soh_percent is not None
        assert health.soh_high_percent is not None
        assert health.soh_low_percent < health.soh_percent < health.soh_high_percent
        assert health.usable_capacity_low_kwh is not None
        assert health.usable_capacity_kwh is not None
        assert health.usable_capacity_high_kwh is not None
        assert health.usable_capacity_low_kwh < health.usable_capacity_kwh < health.usable_capacity_high_kwh
        for value in (health.soh_percent, health.soh_low_percent, health.soh_high_percent):
            assert value.as_tuple().exponent == -1

    @settings(max_examples=100, deadline=None)
    @given(
        pack=st.sampled_from(BASELINES),
        soh=st.decimals(min_value="75", max_value="105", places=1),
        level=st.integers(min_value=40, max_value=100),
        count=st.integers(min_value=1, max_value=10),
        more=st.integers(min_value=1, max_value=20),
    )
    def test_more_consistent_readings_never_widen_it(
        self, pack: PackBaseline, soh: Decimal, level: int, count: int, more: int
    ) -> None:
        few = estimate([sample(pack, str(soh), level)] * count, pack, now=NOW)
        many = estimate([sample(pack, str(soh), level)] * (count + more), pack, now=NOW)

        assert width(many) <= width(few)

    def test_consistent_readings_narrow_it_and_scattered_ones_widen_it(self) -> None:
        levels = (85, 80, 75, 70, 65, 60, 55, 90)
        one = estimate([sample(LONG_RANGE, "92", 80)], LONG_RANGE, now=NOW)
        consistent = estimate([sample(LONG_RANGE, "92", level) for level in levels], LONG_RANGE, now=NOW)
        scattered = estimate(
            [sample(LONG_RANGE, soh, level) for soh, level in zip(("86", "98", "89", "95"), levels, strict=False)],
            LONG_RANGE,
            now=NOW,
        )

        assert width(consistent) < width(one)
        assert width(scattered) > width(consistent)

    def test_an_uncertain_rating_widens_it(self) -> None:
        identity = VehicleIdentity(vin=VIN_FREMONT_M3_2022, model="Model 3", trim="74d", year=2022)
        unknown_wheels = tesla_baseline(identity, None)
        assert unknown_wheels is not None
        levels = (80, 70, 60)

        sure = estimate([sample(LONG_RANGE, "95", level) for level in levels], LONG_RANGE, now=NOW)
        unsure = estimate([sample(unknown_wheels, "95", level) for level in levels], unknown_wheels, now=NOW)

        assert width(unsure) > width(sure)


class TestDeterminism:
    def test_the_order_of_readings_does_not_matter(self) -> None:
        samples = [
            sample(LONG_RANGE, soh, level, days_ago=day)
            for day, (soh, level) in enumerate((("91", 80), ("93", 70), ("90", 60), ("92", 15), ("92", 75)))
        ]
        shuffled = list(samples)
        random.Random(4).shuffle(shuffled)

        assert estimate(samples, LONG_RANGE, now=NOW) == estimate(shuffled, LONG_RANGE, now=NOW)


class TestMessageKeys:
    def scenarios(self) -> Sequence[BatteryHealth]:
        stale_lfp = [
            sample(RWD_LFP, "108", 30, days_ago=60, software="2025.2.1"),
            sample(RWD_LFP, "108", 45, days_ago=50, software="2025.8.1"),
            sample(RWD_LFP, "108", 10, days_ago=40),
            sample(RWD_LFP, "108", 60, days_ago=-2),
            BatterySample(captured_at=NOW, battery_level_percent=Decimal(0), rated_range_km=Decimal(0)),
        ]
        return [
            estimate(stale_lfp, RWD_LFP, now=NOW),
            estimate([sample(LONG_RANGE, "95", 10)], LONG_RANGE, now=NOW),
            estimate([], LONG_RANGE, now=NOW),
            estimate([sample(LONG_RANGE, "95", 80)], None, now=NOW),
        ]

    def test_every_key_a_result_returns_is_in_the_english_catalogue(self) -> None:
        returned = frozenset().union(*(health.message_keys() for health in self.scenarios()))

        assert {FLAG_LFP, FLAG_FIRMWARE_CHANGED, FLAG_STALE_SAMPLES, FLAG_ABOVE_NOMINAL} <= returned
        assert {REASON_ALL_REJECTED, REASON_NO_SAMPLES, REASON_NO_BASELINE} <= returned
        assert {REJECTED_LOW_LEVEL, REJECTED_FUTURE, REJECTED_INVALID} <= returned
        assert sorted(returned - english_ids()) == []

    def test_every_key_the_package_declares_is_in_the_english_catalogue(self) -> None:
        battery_ids = {key for key in english_ids() if key.startswith("battery.")}
        declared = MESSAGE_KEYS | frozenset(BASELINE_KEYS)

        assert sorted(declared - battery_ids) == []
        assert sorted(battery_ids - declared) == []


class TestFakeCoverage:
    ANCHORS = (date(2026, 6, 1), date(2024, 3, 15))

    @pytest.mark.parametrize(
        ("model", "trim"), [(model.name, trim.badging) for model in MODELS.values() for trim in model.trims]
    )
    def test_every_catalog_trim_has_a_baseline(self, model: str, trim: str) -> None:
        assert any(entry.model == model and trim in entry.trims for entry in BASELINES)

    def test_every_car_the_fake_generates_maps_but_for_the_documented_gaps(self) -> None:
        unmatched = []
        for seed in range(12):
            for anchor in self.ANCHORS:
                for account, vehicle in fake_fleet(seed, anchor):
                    moment = datetime.combine(anchor, datetime.min.time(), tzinfo=UTC)
                    snapshot = fake_snapshot(account, vehicle, seed, moment)
                    config = snapshot.raw["vehicle_data"]["vehicle_config"]
                    if tesla_baseline(snapshot.identity, config) is None:
                        unmatched.append((vehicle.model.name, vehicle.trim.badging, vehicle.vin[:3], vehicle.vin[9]))

        # US-built Model Y RWD: chemistry not established. Shanghai-built Standard Range Plus before model year
        # 2021 (VIN year L or earlier): no rating to stand behind.
        assert {
            entry
            for entry in unmatched
            if entry[:3] not in {("Model Y", "74", "5YJ"), ("Model Y", "74", "7SA")}
            and not (entry[:3] == ("Model 3", "50", "LRW") and entry[3] in "KL")
        } == set()


class TestBaselineWording:
    def test_every_baseline_is_said_from_the_catalogue_in_every_locale(self) -> None:
        used = frozenset().union(
            *(message_ids(entry.label).union(*map(message_ids, entry.citation)) for entry in BASELINES)
        )

        # Every table row is said through the catalogue; `unrated_wheels` is added by `baseline_for` at run time.
        assert used | {"battery.baseline.unrated_wheels"} == frozenset(BASELINE_KEYS)
        for locale in LOCALES:
            for entry in BASELINES:
                # A message left unfilled or an id left in would show a `%(` or a `battery.` in the text.
                said = f"{say(entry.label, locale)} {sources(entry.citation, locale)}"
                assert "%(" not in said, (locale, entry.key, said)
                assert "battery." not in said, (locale, entry.key, said)

    def test_the_baseline_reads_in_the_readers_language(self) -> None:
        identity = VehicleIdentity(vin=VIN_SHANGHAI_M3_2022, model="Model 3", trim="74d", year=2022)
        pack = tesla_baseline(identity, {"wheel_type": "Pinwheel18"})

        assert pack is not None
        assert say(pack.label, "de") == "Model 3 Long Range AWD, 18-Zoll-Räder, in Shanghai oder Berlin gebaut (NCM)"
        assert pack.description == "Model 3 Long Range AWD, 18-inch wheels, Shanghai/Berlin-built (NCM)"
        assert sources(pack.citation, "fi").startswith("EPA:n yhdistetty toimintamatka (fueleconomy.gov): 358 mailia")
