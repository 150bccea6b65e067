"""The Simulator interface: prior draws, common random numbers, bounds and alerts, the twin folder."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from hygeia.errors import ConfigError, OutputError
from hygeia.twin import (
    SIMULATORS,
    Dose,
    Output,
    Plan,
    Simulator,
    compare,
    register,
    simulator_for,
)
from hygeia.twin._twin import Twin, simulate_twin, write_twin


class Decay(Simulator):
    """A drug given as boluses, eliminated with a per-patient rate, measured with noise (test only)."""

    name = "test-decay"
    drugs: ClassVar = {"x": ["mg"]}
    outputs = (Output("level", "mg/L", low=0.0, high=50.0, safe_high=8.0, high_event="toxic level"),)
    default_horizon_h = 12.0
    default_step_h = 0.5

    def __init__(self, volume_l: float = 1.0) -> None:
        self.volume_l = volume_l

    def prior(self, n, *, seed=None):
        return {"k": np.random.default_rng(seed).lognormal(np.log(0.3), 0.3, n)}

    def calibrate(self, observations, *, plan=None, n=200, seed=None):
        # conjugate-free importance resampling of the prior given noisy levels after a 1 mg bolus at 0 h
        rng = np.random.default_rng(seed)
        k = rng.lognormal(np.log(0.3), 0.3, 20 * n)
        pred = np.exp(-k[:, None] * observations["time_h"].to_numpy()[None, :]) / self.volume_l
        loglik = -0.5 * (((observations["value"].to_numpy()[None, :] - pred) / 0.02) ** 2).sum(axis=1)
        w = np.exp(loglik - loglik.max())
        return {"k": k[rng.choice(len(k), n, p=w / w.sum())]}

    def _simulate(self, plan, params, times, rng):
        level = np.zeros((len(params["k"]), len(times)))
        for d in plan.administrations():
            after = times >= d.at_h
            level[:, after] += d.amount / self.volume_l * np.exp(-params["k"][:, None] * (times[after] - d.at_h))
        return (level * rng.lognormal(0.0, 0.05, level.shape))[:, :, None]


@pytest.fixture()
def decay():
    register(Decay)
    yield Decay()
    SIMULATORS.pop(Decay.name)


def test_registry_and_prior_draws(decay):
    assert isinstance(simulator_for("test-decay", volume_l=2.0), Decay)
    with pytest.raises(ConfigError, match="no simulator 'nope'; choose one of: .*test-decay"):
        simulator_for("nope")
    t = decay.simulate(Plan("A", doses=(Dose("x", 1.0),)), n=50, seed=3)
    assert t.values.shape == (50, 25, 1) and t.times_h[-1] == 12.0
    again = decay.simulate(Plan("A", doses=(Dose("x", 1.0),)), n=50, seed=3)
    np.testing.assert_array_equal(t.values, again.values)
    assert t.meta["simulator"] == {"volume_l": 1.0}


def test_common_random_numbers_make_paired_differences_exact(decay):
    c = compare(decay, [Plan("A", doses=(Dose("x", 1.0),)), Plan("B", doses=(Dose("x", 3.0),))], n=40, seed=5)
    np.testing.assert_allclose(c.runs[1].values, 3.0 * c.runs[0].values)
    diff = c.difference("level", lambda r: r.exposure("level"))
    np.testing.assert_allclose(diff, 2.0 * c.runs[0].exposure("level"))


def test_alerts_bounds_and_measures(decay):
    plan = Plan("overdose", doses=(Dose("x", 10.0), Dose("x", 60.0, at_h=6.0)), targets={"level": (1.0, 5.0)})
    t = decay.simulate(plan, n=30, seed=1)
    assert t.series("level").max() <= 50.0  # clipped at the physiological bound
    events = {a.event: a for a in t.alerts}
    assert events["toxic level"].probability == 1.0 and events["toxic level"].first_time_h == 0.0
    assert events["went above the upper physiological bound (kept at it)"].first_time_h == 6.0
    assert "toxic level: level crosses 8 mg/L in 100% of simulations" in events["toxic level"].message("mg/L")
    tir = t.time_in_range("level", 1.0, 5.0)
    assert tir.shape == (30,) and np.all((tir > 0) & (tir < 1))
    assert t.probability("level", above=8.0) == 1.0
    s = t.summary()
    assert s["outputs"]["level"]["time_in_target"]["range"] == [1.0, 5.0] and len(s["alerts"]) == 2
    with pytest.raises(ConfigError, match="no output 'glucose'; this simulation has: level"):
        t.series("glucose")


def test_bad_plan_refused_before_simulating(decay):
    with pytest.raises(ConfigError, match="unknown drug 'y'"):
        decay.simulate(Plan("bad", doses=(Dose("y", 1.0),)), n=5, seed=1)


def test_calibration_and_twin_folder(decay, tmp_path):
    true_k = 0.45
    times = np.array([0.5, 1.0, 2.0, 4.0])
    obs = pd.DataFrame({"time_h": times, "output": "level",
                        "value": np.exp(-true_k * times) * np.random.default_rng(0).lognormal(0, 0.01, 4)})
    twin = Twin(decay, obs, Plan("history", doses=(Dose("x", 1.0),)), subject_id=7, taken={"weight": "70 kg"})
    plans = [Plan("A", doses=(Dose("x", 2.0),), targets={"level": (0.5, 3.0)}),
             Plan("B", doses=(Dose("x", 2.0), Dose("x", 9.0, at_h=4.0)))]
    result = simulate_twin(twin, plans, n=100, seed=11)
    assert result.calibrated
    k = result.runs[0].params["k"]
    assert np.quantile(k, 0.05) < true_k < np.quantile(k, 0.95) and np.std(k) < 0.05
    out = write_twin(result, tmp_path / "twin")
    data = json.loads((out / "twin.json").read_text())
    assert data["made_by"]["seed"] == 11 and data["made_by"]["calibrated"] and data["observations"] == 4
    assert data["subject_id"] == 7 and data["taken_from_record"] == {"weight": "70 kg"}
    assert [d["plan"] for d in data["differences"]] == ["B"] and data["differences"][0]["probability_higher"] == 1.0
    csv = pd.read_csv(out / "trajectories.csv")
    assert set(csv["plan"]) == {"A", "B"} and (csv["q05"] <= csv["q95"]).all()
    html = (out / "report.html").read_text()
    assert html.count("<svg") == 1 and "toxic level" in html and "posterior, calibrated to 4" in html
    with pytest.raises(OutputError, match="already exists"):
        write_twin(result, out)
    with pytest.raises(ConfigError, match="n must be at least 1"):
        simulate_twin(twin, plans, n=0)
