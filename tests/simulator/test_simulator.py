"""The simulated fleet: valid VINs of catalogue versions, deterministic histories, honest estimates from them."""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.battery.estimator import estimate, point_estimate
from carpulse.battery.samples import samples_from_observations
from carpulse.models import Observation
from carpulse.simulator.fleet import fleet
from carpulse.simulator.service import simulator
from carpulse.vehicle_model.catalogue import candidates
from carpulse.vehicle_model.service import vehicle_models
from carpulse.vin.decoder import check, decode
from tests.conftest import production_overrides
from tests.test_cli import run_carpulse

UNTIL = date(2025, 6, 1)


class TestFleet:
    def test_vins_are_valid_and_decode_to_their_version(self) -> None:
        vehicles = list(fleet(5, 200, months=12, until=UNTIL))
        assert len({vehicle.vin for vehicle in vehicles}) == 200
        for vehicle in vehicles:
            assert check(vehicle.vin) == vehicle.vin
            decoded = decode(vehicle.vin)
            assert decoded.check_digit_valid
            assert vehicle.model_id in [entry.model_id for entry in candidates(decoded)]
        assert len({vehicle.make for vehicle in vehicles}) == 6

    def test_same_seed_same_fleet_other_seed_other_vins(self) -> None:
        first = [(v.vin, v.readings) for v in fleet(5, 20, months=6, until=UNTIL)]
        again = [(v.vin, v.readings) for v in fleet(5, 20, months=6, until=UNTIL)]
        other = {v.vin for v in fleet(6, 20, months=6, until=UNTIL)}
        assert first == again
        assert not other & {vin for vin, _ in first}

    def test_lfp_packs_age_more_by_time_than_by_distance(self) -> None:
        from carpulse.simulator.fleet import true_soh_percent

        assert true_soh_percent("LFP", 4, 0, 1) < true_soh_percent("NCA", 4, 0, 1)
        assert true_soh_percent("LFP", 0, 800, 1) > true_soh_percent("NCM", 0, 800, 1)


class TestWritten:
    async def test_estimates_fall_near_the_truth_and_a_rerun_writes_nothing(self, db: AsyncSession) -> None:
        simulation = await simulator.simulate(db, vehicles=60, months=12, seed=11, until=UNTIL)
        assert simulation.written == sum(len(vehicle.readings) for vehicle in simulation.vehicles)
        rated = [vehicle for vehicle in simulation.vehicles if vehicle.template.entry.baseline is not None]
        assert len(rated) >= 20
        close = 0
        for vehicle in rated:
            dynamic = await vehicle_models.dynamic_for_vin(db, vehicle.vin, synthetic=True)
            health = dynamic.battery_health
            assert health.status == "estimated", vehicle.vin
            assert health.soh_percent is not None
            assert health.first_sample_at is not None
            truth = statistics.median(t.soh_percent for t in vehicle.truth if health.first_sample_at <= t.captured_at)
            assert health.soh_low_percent is not None
            assert health.soh_high_percent is not None
            assert health.soh_low_percent <= truth <= health.soh_high_percent, vehicle.vin
            if health.samples_used >= 20 and vehicle.template.entry.chemistry != "LFP":
                assert abs(health.soh_percent - truth) < 1.0, vehicle.vin
                close += 1
            assert dynamic.odometer is not None
            assert dynamic.odometer.source == "simulator"
        assert close >= 10
        again = await simulator.simulate(db, vehicles=60, months=12, seed=11, until=UNTIL)
        assert again.written == 0

    async def test_trendline_bins_are_populated(self, db: AsyncSession) -> None:
        simulation = await simulator.simulate(db, vehicles=120, months=12, seed=12, until=UNTIL)
        counts = Counter(
            vehicle.model_id for vehicle in simulation.vehicles if vehicle.template.entry.baseline is not None
        )
        model_id, count = counts.most_common(1)[0]
        trend = await vehicle_models.trendline(db, model_id, synthetic=True, min_cohort=2)
        published = [b for b in trend.by_age.bins if not b.withheld]
        assert published
        assert max(b.vehicles or 0 for b in published) <= count
        for curve_bin in published:
            assert curve_bin.p10 is not None
            assert curve_bin.p90 is not None
            assert curve_bin.p10 <= curve_bin.p50 <= curve_bin.p90  # type: ignore[operator]
        assert not (await vehicle_models.trendline(db, model_id, synthetic=False, min_cohort=2)).by_age.bins

    async def test_the_point_estimate_is_the_estimates_number(self, db: AsyncSession) -> None:
        [vehicle] = [v for v in fleet(13, 30, months=3, until=UNTIL) if v.template.entry.baseline is not None][:1]
        rows = [Observation(source="simulator", **reading) for reading in vehicle.readings]
        samples = samples_from_observations(rows)
        baseline = vehicle.template.entry.baseline
        assert baseline is not None
        now = vehicle.truth[-1].captured_at
        assert point_estimate(samples, baseline, now=now) == estimate(samples, baseline, now=now).soh_percent


def _environment(extra: dict[str, str]) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {name: value for name, value in os.environ.items() if name in keep} | extra


def _flattened(values: dict[str, Any], prefix: str = "CARPULSE_") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in values.items():
        key = f"{prefix}{name.upper()}"
        if isinstance(value, dict):
            flat |= _flattened(value, f"{key}__")
        else:
            flat[key] = json.dumps(value) if isinstance(value, list) else str(value)
    return flat


class TestCommand:
    def test_writes_once_and_prints_json(self, tmp_path: Path) -> None:
        env = _environment({"CARPULSE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}"})
        assert run_carpulse(["migrate"], env, tmp_path).returncode == 0
        arguments = ["simulate", "--vehicles", "5", "--months", "2", "--seed", "3", "--until", "2025-06-01", "--json"]
        first = run_carpulse(arguments, env, tmp_path)
        assert first.returncode == 0, first.stderr
        printed = json.loads(first.stdout)
        assert len(printed["vehicles"]) == 5
        assert set(printed["vehicles"][0]) == {"vin", "make", "model", "model_id", "observations"}
        assert printed["written"] == sum(vehicle["observations"] for vehicle in printed["vehicles"]) > 0
        second = json.loads(run_carpulse(arguments, env, tmp_path).stdout)
        assert second["written"] == 0
        assert second["vehicles"] == printed["vehicles"]

    def test_refused_in_production(self, tmp_path: Path) -> None:
        env = _environment(
            _flattened(production_overrides()) | {"CARPULSE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}
        )
        result = run_carpulse(["simulate", "--vehicles", "1"], env, tmp_path)
        assert result.returncode == 2, result.stderr
        assert "refused in production" in result.stderr
        assert not (tmp_path / "p.db").exists()
