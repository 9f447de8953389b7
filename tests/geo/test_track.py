"""measure(): cleaning, length and simplification of a GPS track, with properties checked by hypothesis."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carpulse.geo.track import Fix, geodesic_m, measure

T0 = datetime(2026, 5, 4, 7, 30, tzinfo=UTC)
HELSINKI = (60.1699, 24.9384)
M_PER_DEG_LAT = 111_412.0  # at 60° N


def north(metres: float, *, of: tuple[float, float] = HELSINKI) -> tuple[float, float]:
    return of[0] + metres / M_PER_DEG_LAT, of[1]


def line(count: int, *, step_m: float = 150.0, every_s: float = 10.0, accuracy: float | None = 5.0) -> list[Fix]:
    """A straight drive north: `count` fixes `step_m` apart."""
    return [Fix(*north(i * step_m), T0 + timedelta(seconds=i * every_s), accuracy_m=accuracy) for i in range(count)]


def straight_length(fixes: list[Fix]) -> float:
    return geodesic_m(fixes[0].lat, fixes[0].lon, fixes[-1].lat, fixes[-1].lon)


class TestGeodesic:
    def test_helsinki_to_tallinn_is_about_80_km(self) -> None:
        assert geodesic_m(60.1699, 24.9384, 59.4370, 24.7536) == pytest.approx(82_100, rel=0.01)

    def test_measured_steps_agree_with_the_exact_geodesic(self) -> None:
        fixes = [
            Fix(60.17 + 0.01 * i, 24.94 + 0.013 * (i % 3), T0 + timedelta(minutes=i), accuracy_m=None)
            for i in range(20)
        ]
        exact = sum(geodesic_m(a.lat, a.lon, b.lat, b.lon) for a, b in itertools.pairwise(fixes))
        # Accuracy unknown (15 m assumed) costs each ~1.2 km step ~0.1 m of noise correction.
        assert measure(fixes, max_accuracy_m=50).distance_m == pytest.approx(exact, rel=2e-4)

    def test_a_step_across_the_antimeridian_is_short(self) -> None:
        fixes = [
            Fix(65.0, 179.999, T0),
            Fix(65.0, -179.999, T0 + timedelta(seconds=5)),
            Fix(65.0, -179.998, T0 + timedelta(seconds=10)),
        ]
        assert measure(fixes).distance_m < 200


class TestCleaning:
    def test_a_clean_straight_drive_measures_its_length(self) -> None:
        fixes = line(60)
        measured = measure(fixes)
        assert measured.dropped == 0
        assert measured.kept == fixes
        assert measured.distance_m == pytest.approx(straight_length(fixes), rel=1e-3)
        assert not measured.sparse

    def test_fixes_with_poor_accuracy_are_dropped(self) -> None:
        fixes = line(30)
        poor = Fix(*north(10 * 150 + 20), fixes[10].at + timedelta(seconds=2), accuracy_m=80)
        measured = measure([*fixes, poor])
        assert poor not in measured.kept
        assert measured.dropped == 1
        assert measure([*fixes, poor], max_accuracy_m=100).dropped == 0

    def test_duplicates_and_out_of_order_fixes_change_nothing(self) -> None:
        fixes = line(40)
        shuffled = [*fixes, *fixes[5:15]]
        random.Random(3).shuffle(shuffled)
        measured = measure(shuffled)
        assert measured.kept == fixes
        assert measured.distance_m == measure(fixes).distance_m
        assert measured.dropped == 10

    def test_two_fixes_of_one_instant_keep_the_more_accurate(self) -> None:
        fixes = line(10)
        rival = Fix(*north(40, of=(fixes[4].lat, fixes[4].lon)), fixes[4].at, accuracy_m=30)
        assert measure([rival, *fixes]).kept == fixes

    def test_a_jump_faster_than_70_m_per_s_is_dropped(self) -> None:
        fixes = line(30)
        # 2 km sideways within 10 s: 200 m/s.
        jump = Fix(fixes[12].lat, fixes[12].lon + 0.036, fixes[12].at + timedelta(seconds=5), accuracy_m=5)
        measured = measure([*fixes, jump])
        assert jump not in measured.kept
        assert measured.distance_m == pytest.approx(straight_length(fixes), rel=1e-3)

    def test_a_stale_first_fix_is_the_one_dropped(self) -> None:
        fixes = line(30)
        stale = Fix(*north(-5_000), fixes[0].at - timedelta(seconds=10), accuracy_m=5)
        measured = measure([stale, *fixes])
        assert measured.kept == fixes

    def test_a_reflection_spike_is_dropped(self) -> None:
        fixes = line(30, step_m=100)
        # 300 m off to the east and straight back: 30 m/s, possible, but not a path a car drives.
        spike = Fix(fixes[15].lat, fixes[15].lon + 300 / 55_800, fixes[15].at + timedelta(seconds=5), accuracy_m=10)
        measured = measure([*fixes, spike])
        assert spike not in measured.kept
        assert measured.distance_m == pytest.approx(straight_length(fixes), rel=2e-3)

    def test_a_real_right_angle_turn_is_kept(self) -> None:
        leg = line(10, step_m=150)
        corner = leg[-1]
        east = [
            Fix(corner.lat, corner.lon + i * 150 / 55_800, corner.at + timedelta(seconds=10 * i), accuracy_m=5)
            for i in range(1, 10)
        ]
        measured = measure([*leg, *east])
        assert measured.dropped == 0
        assert measured.distance_m == pytest.approx(18 * 150, rel=0.01)

    def test_parked_jitter_adds_no_length(self) -> None:
        rng = random.Random(7)
        drive = line(20)
        end = drive[-1]
        parked = [
            Fix(
                end.lat + rng.gauss(0, 8) / M_PER_DEG_LAT,
                end.lon + rng.gauss(0, 8) / 55_800,
                end.at + timedelta(seconds=10 * i),
                accuracy_m=12,
                speed_mps=abs(rng.gauss(0, 0.4)),
            )
            for i in range(1, 120)
        ]
        measured = measure([*drive, *parked])
        assert measured.distance_m == pytest.approx(straight_length(drive), abs=25)
        # The stop keeps its first and last instants (the trip's end time), both at its centre.
        assert measured.kept[-1].at == parked[-1].at
        assert (measured.kept[-1].lat, measured.kept[-1].lon) == (measured.kept[-2].lat, measured.kept[-2].lon)
        assert measured.dropped >= 100

    def test_a_car_creeping_in_a_jam_keeps_its_length(self) -> None:
        # 1 m/s for ten minutes between two stretches at 15 m/s: each step lies inside the jitter radius.
        metres, fixes = 0.0, []
        for i in range(100):
            fixes.append(Fix(*north(metres), T0 + timedelta(seconds=10 * i), accuracy_m=10))
            metres += 10 if 20 <= i < 80 else 150
        measured = measure(fixes)
        assert measured.distance_m == pytest.approx(straight_length(fixes), rel=0.01)

    def test_doppler_speeds_are_integrated_where_straight_lines_cut_corners(self) -> None:
        # A circle of 100 m radius driven at 10 m/s, a fix every 10 s: chords lose ~4 %, speeds do not.
        radius, speed = 100.0, 10.0
        fixes = []
        for i in range(26):
            angle = i * speed * 10 / radius
            fixes.append(
                Fix(
                    HELSINKI[0] + radius * math.sin(angle) / M_PER_DEG_LAT,
                    HELSINKI[1] + radius * (1 - math.cos(angle)) / 55_800,
                    T0 + timedelta(seconds=10 * i),
                    accuracy_m=5,
                    speed_mps=speed,
                )
            )
        without_speed = measure([Fix(f.lat, f.lon, f.at, f.accuracy_m) for f in fixes]).distance_m
        with_speed = measure(fixes).distance_m
        assert with_speed == pytest.approx(25 * speed * 10, rel=0.005)
        assert without_speed < with_speed * 0.98

    def test_a_stuck_speed_is_not_believed(self) -> None:
        fixes = [Fix(f.lat, f.lon, f.at, f.accuracy_m, speed_mps=0.0) for f in line(20)]
        assert measure(fixes).distance_m == pytest.approx(straight_length(fixes), rel=1e-3)

    def test_unusable_positions_are_dropped(self) -> None:
        fixes = line(10)
        bad = [Fix(math.nan, 24.9, T0), Fix(91.0, 24.9, T0), Fix(60.0, 181.0, T0), Fix(60.0, 24.9, T0, accuracy_m=-1)]
        assert measure([*bad, *fixes]).kept == fixes

    def test_naive_times_are_taken_as_utc(self) -> None:
        fixes = line(5)
        naive = [Fix(f.lat, f.lon, f.at.replace(tzinfo=None), f.accuracy_m) for f in fixes]
        assert [fix.at for fix in measure(naive).kept] == [fix.at for fix in fixes]


class TestSparse:
    def test_fewer_than_three_fixes_are_sparse(self) -> None:
        assert measure([]).sparse
        assert measure([]).distance_m == 0
        assert measure(line(2)).sparse
        assert not measure(line(3)).sparse

    def test_long_dropouts_are_reported_and_make_the_track_sparse(self) -> None:
        fixes = line(40)
        holed = fixes[:10] + fixes[30:]  # 200 s without a fix over 3 km of a 5.85 km track
        measured = measure(holed)
        assert measured.sparse
        (gap,) = measured.gaps
        assert gap.after == 9
        assert gap.seconds == 210
        assert gap.straight_m == pytest.approx(21 * 150, rel=1e-3)

    def test_a_long_dropout_is_sparse_even_when_the_road_came_back(self) -> None:
        out = line(20)
        back = [Fix(f.lat, f.lon + 0.001, f.at + timedelta(seconds=400), f.accuracy_m) for f in reversed(line(20))]
        measured = measure([*out, *back])
        assert measured.gaps[0].straight_m < 100
        assert measured.sparse

    def test_a_short_dropout_is_a_gap_but_not_sparse(self) -> None:
        fixes = line(100)
        measured = measure(fixes[:50] + fixes[57:])
        assert len(measured.gaps) == 1
        assert not measured.sparse


class TestSimplified:
    def test_a_straight_line_keeps_its_ends_only(self) -> None:
        fixes = line(50)
        assert measure(fixes).simplified == [fixes[0], fixes[-1]]

    def test_a_corner_survives_simplification_and_the_distance_is_from_before_it(self) -> None:
        leg = line(10)
        corner = leg[-1]
        east = [
            Fix(corner.lat, corner.lon + i * 150 / 55_800, corner.at + timedelta(seconds=10 * i), 5)
            for i in range(1, 10)
        ]
        measured = measure([*leg, *east])
        assert measured.simplified == [leg[0], corner, east[-1]]
        assert measured.distance_m > geodesic_m(leg[0].lat, leg[0].lon, east[-1].lat, east[-1].lon) * 1.3

    def test_tolerance_zero_keeps_every_fix(self) -> None:
        fixes = line(20)
        assert measure(fixes, simplify_tolerance_m=0).simplified == fixes


_offsets = st.lists(
    st.tuples(
        st.floats(-3000, 3000),  # metres north
        st.floats(-3000, 3000),  # metres east
        st.integers(0, 3600),  # seconds
        st.one_of(st.none(), st.floats(1, 60)),  # accuracy
        st.one_of(st.none(), st.floats(0, 40)),  # speed
    ),
    max_size=40,
)


def _fixes(offsets: list[tuple[float, float, int, float | None, float | None]]) -> list[Fix]:
    return [
        Fix(
            HELSINKI[0] + n / M_PER_DEG_LAT,
            HELSINKI[1] + e / 55_800,
            T0 + timedelta(seconds=s),
            accuracy_m=acc,
            speed_mps=speed,
        )
        for n, e, s, acc, speed in offsets
    ]


class TestProperties:
    @settings(max_examples=200, deadline=None)
    @given(_offsets)
    def test_the_distance_is_never_negative_and_kept_is_in_time_order(self, offsets: list) -> None:  # type: ignore[type-arg]
        measured = measure(_fixes(offsets))
        assert measured.distance_m >= 0
        assert all(a.at < b.at for a, b in zip(measured.kept, measured.kept[1:], strict=False))
        assert measured.dropped == len(offsets) - len(measured.kept)
        assert set(map(id, measured.simplified)) <= set(map(id, measured.kept))
        if measured.kept:
            assert measured.simplified[0] == measured.kept[0]
            assert measured.simplified[-1] == measured.kept[-1]

    @settings(max_examples=200, deadline=None)
    @given(_offsets, st.data())
    def test_adding_a_duplicate_changes_nothing(self, offsets: list, data: st.DataObject) -> None:  # type: ignore[type-arg]
        fixes = _fixes(offsets)
        if not fixes:
            return
        twin = data.draw(st.sampled_from(fixes))
        before, after = measure(fixes), measure([*fixes, twin])
        assert after.distance_m == before.distance_m
        assert after.kept == before.kept

    @settings(max_examples=200, deadline=None)
    @given(_offsets, st.randoms(use_true_random=False))
    def test_the_order_of_arrival_changes_nothing(self, offsets: list, rng: random.Random) -> None:  # type: ignore[type-arg]
        fixes = _fixes(offsets)
        shuffled = list(fixes)
        rng.shuffle(shuffled)
        assert measure(shuffled) == measure(fixes)

    @settings(max_examples=200, deadline=None)
    @given(st.integers(5, 80), st.floats(20, 400), st.integers(0, 10_000))
    def test_dropping_an_end_never_adds_much(self, count: int, step: float, seed: int) -> None:
        rng = random.Random(seed)
        fixes = [
            Fix(
                HELSINKI[0] + (i * step + rng.gauss(0, 8)) / M_PER_DEG_LAT,
                HELSINKI[1] + rng.gauss(0, 8) / 55_800,
                T0 + timedelta(seconds=10 * i),
                accuracy_m=12,
            )
            for i in range(count)
        ]
        whole = measure(fixes).distance_m
        # Without an end the remaining fixes can only re-clean a little differently (a stop, a spike).
        assert measure(fixes[1:]).distance_m <= whole + 30
        assert measure(fixes[:-1]).distance_m <= whole + 30
