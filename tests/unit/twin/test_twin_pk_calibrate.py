"""Vancomycin personalized from measured levels: posterior draws whose 90% intervals cover held-out levels."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from hygeia.errors import ConfigError
from hygeia.twin import Dose, Plan
from hygeia.twin._pk_simulator import PKPDSimulator

PLAN = Plan("q12h", doses=(Dose("vancomycin", 1000.0, "mg", route="iv_infusion", duration_h=1.0, every_h=12.0,
                                times=7),), horizon_h=80.0)
MEASURED = np.array([11.9, 25.5])
HELD_OUT = np.array([47.9, 61.0, 71.9, 73.5])


def coverage(patients: int, seed: int, n: int = 400) -> float:
    """Share of held-out levels inside the posterior predictive 90% interval over simulated patients."""
    rng = np.random.default_rng(seed)
    inside = []
    for _ in range(patients):
        sim = PKPDSimulator(weight_kg=float(rng.uniform(50, 110)), age_y=float(rng.uniform(25, 85)),
                            sex=str(rng.choice(["m", "f"])), creatinine_mg_dl=float(rng.uniform(0.6, 1.8)))
        truth = sim.prior(1, seed=int(rng.integers(2**31)))
        levels = sim.measure(PLAN, truth, np.concatenate([MEASURED, HELD_OUT]), seed=int(rng.integers(2**31)))[0]
        obs = pd.DataFrame({"time_h": MEASURED, "output": "vancomycin_plasma", "value": levels[:2]})
        post = sim.calibrate(obs, plan=PLAN, n=n, seed=int(rng.integers(2**31)))
        lo, hi = np.quantile(sim.measure(PLAN, post, HELD_OUT, seed=int(rng.integers(2**31))), (0.05, 0.95), axis=0)
        inside += list((levels[2:] >= lo) & (levels[2:] <= hi))
    return float(np.mean(inside))


def test_posterior_is_samples_that_move_toward_the_levels():
    sim = PKPDSimulator(weight_kg=80.0, age_y=60.0, sex="m", creatinine_mg_dl=1.0)
    obs = pd.DataFrame({"time_h": [11.9, 25.5, 35.9], "output": "vancomycin_plasma", "value": [15.0, 30.0, 24.0]})
    post = sim.calibrate(obs, plan=PLAN, n=300, seed=1)
    prior = sim.prior(300, seed=1)
    assert np.std(post["vancomycin.eta_cl"]) > 0 and len(np.unique(post["vancomycin.eta_cl"])) > 50
    assert np.std(post["vancomycin.eta_cl"]) < np.std(prior["vancomycin.eta_cl"])
    # high troughs: the posterior clearance is below the population's
    assert np.median(post["vancomycin.k10"] * post["vancomycin.v1"]) < np.median(prior["vancomycin.k10"] * prior["vancomycin.v1"])
    info = sim.calibration_["vancomycin"]
    assert info["ess"] > 300 and info["levels"] == 3
    run = sim.simulate(PLAN, params=post, seed=2, step_h=0.5)
    assert run.values.shape == (300, 161, 6)
    again = PKPDSimulator(weight_kg=80.0, age_y=60.0, sex="m", creatinine_mg_dl=1.0).calibrate(obs, plan=PLAN, n=300, seed=1)
    assert np.array_equal(again["vancomycin.v1"], post["vancomycin.v1"])


def test_held_out_coverage_small():
    assert 0.8 <= coverage(12, seed=5, n=200) <= 0.97


@pytest.mark.slow
def test_held_out_coverage_is_85_to_95_percent():
    assert 0.85 <= coverage(100, seed=5) <= 0.95


def test_calibration_errors_say_what_to_fix():
    sim = PKPDSimulator(weight_kg=80.0, height_cm=180.0, age_y=60.0, sex="m", creatinine_mg_dl=1.0)
    obs = pd.DataFrame({"time_h": [1.0], "output": "vancomycin_plasma", "value": [10.0]})
    with pytest.raises(ConfigError, match=re.escape("needs the doses given while they were measured")):
        sim.calibrate(obs)
    with pytest.raises(ConfigError, match=re.escape("the schnider model publishes no between-patient variability")):
        sim.calibrate(obs.assign(output="propofol_plasma"), plan=PLAN)
    with pytest.raises(ConfigError, match=re.escape("observations lack column(s) value")):
        sim.calibrate(obs.drop(columns="value"), plan=PLAN)
    with pytest.raises(ConfigError, match=re.escape("levels must be finite, non-negative")):
        sim.calibrate(obs.assign(value=-1.0), plan=PLAN)
    with pytest.raises(ConfigError, match=re.escape("cannot calibrate to 'vancomycin_auc24'")):
        sim.calibrate(obs.assign(output="vancomycin_auc24"), plan=PLAN)
