"""The blood pressure back-end: Law 2003 dose-response, kinetics, conjugate calibration and its coverage, records."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from hygeia.errors import ConfigError
from hygeia.twin import Dose, Plan, compare, simulator_for
from hygeia.twin._bp import (
    LAW_2003,
    ONSET_DAYS,
    BloodPressureSimulator,
    _parse_medication,
    bp_reduction,
)


def daily(drug: str, amount: float, days: int, unit: str = "mg", at_day: float = 0) -> Dose:
    return Dose(drug, amount, unit, at_h=24.0 * at_day, every_h=24.0, times=days)


@pytest.mark.parametrize("drug_class", sorted(LAW_2003))
def test_dose_response_reproduces_law_2003(drug_class):
    for j in range(2):  # SBP, DBP
        got = [float(bp_reduction(drug_class, m)[j]) for m in (0.5, 1.0, 2.0)]
        np.testing.assert_allclose(got, LAW_2003[drug_class][j], atol=0.25)
    assert float(bp_reduction(drug_class, 0.0)[0]) == 0.0


def test_pooled_figures_half_dose_and_additivity():
    std = np.mean([bp_reduction(c, 1.0)[0] for c in LAW_2003])
    half = np.mean([bp_reduction(c, 0.5)[0] for c in LAW_2003])
    # Law 2003 (all categories): 9.1 mmHg at the standard dose, 7.1 ("20% lower") at half of it
    assert std == pytest.approx(9.1, abs=0.3) and half / std == pytest.approx(7.1 / 9.1, abs=0.03)
    sim = BloodPressureSimulator()
    t = np.array([0.0, 60 * 24.0])
    both = sim.effect_curve(Plan("2", doses=(daily("amlodipine", 5, 60), daily("lisinopril", 10, 60))), t)[-1]
    one = sim.effect_curve(Plan("a", doses=(daily("amlodipine", 5, 60),)), t)[-1]
    other = sim.effect_curve(Plan("l", doses=(daily("lisinopril", 10, 60),)), t)[-1]
    np.testing.assert_allclose(both, one + other, rtol=1e-9)
    np.testing.assert_allclose(one, np.array(bp_reduction("ccb", 1.0)), rtol=1e-3)  # steady state after 60 days
    # two drugs of one class share one dose-response curve (not additive)
    twice = sim.effect_curve(Plan("2 ARB", doses=(daily("losartan", 50, 60), daily("valsartan", 80, 60))), t)[-1]
    np.testing.assert_allclose(twice, np.array(bp_reduction("arb", 2.0)), rtol=1e-3)


def test_larger_reduction_from_higher_baseline():
    low, high = BloodPressureSimulator(baseline_sbp=154.0), BloodPressureSimulator(baseline_sbp=164.0)
    # Law 2003: 1.0 mmHg SBP more per 10 mmHg higher pretreatment pressure (at the standard dose, 9.1 mmHg)
    assert 9.1 * (high.prior_moments()[0][2] - low.prior_moments()[0][2]) == pytest.approx(1.0, abs=1e-9)


def test_onset_kinetics():
    sim = BloodPressureSimulator()
    tau = ONSET_DAYS["thiazide"]
    t = np.array([0.0, tau * 24, 28 * 24.0, 29 * 24.0, (29 + tau) * 24])
    sbp = sim.effect_curve(Plan("t", doses=(daily("hydrochlorothiazide", 25, 29),)), t)[:, 0]
    full = float(bp_reduction("thiazide", 1.0)[0])
    assert sbp[0] == 0 and sbp[1] / full == pytest.approx(1 - np.exp(-1), abs=0.01) and sbp[2] / full > 0.97
    assert sbp[4] / sbp[3] == pytest.approx(np.exp(-1), abs=0.01)  # washes out after the last dose
    # a regimen already taken starts at its steady state
    cont = BloodPressureSimulator(current={"hydrochlorothiazide": 25.0}).effect_curve(
        Plan("c", doses=(daily("hydrochlorothiazide", 25, 29),)), t)[:, 0]
    np.testing.assert_allclose(cont[:3], full, rtol=1e-3)


def _patient(sim, plan, seed):
    truth = sim.prior(1, seed=seed)
    run = sim.simulate(plan, params=truth, seed=seed, step_h=24)
    obs = pd.concat([pd.DataFrame({"time_h": run.times_h, "output": o, "value": run.series(f"{o}_reading")[0],
                                   "source": "home"}) for o in ("sbp", "dbp")], ignore_index=True)
    return truth, run, obs


def test_prediction_intervals_cover_held_out_readings():
    # 14 untreated days, then amlodipine 5 mg; calibrate on days 0-27, predict days 28-55 (held out)
    sim = BloodPressureSimulator(reading="home")
    history = Plan("h", doses=(daily("amlodipine", 5, 42, at_day=14),), horizon_h=55 * 24)
    hits = []
    for i in range(100):
        _, run, obs = _patient(sim, history, seed=100 + i)
        post = sim.calibrate(obs[obs["time_h"] < 28 * 24], plan=history, n=300, seed=i)
        pred = sim.simulate(history, params=post, seed=5000 + i, step_h=24)
        held = run.times_h >= 28 * 24
        for o in ("sbp", "dbp"):
            lo, hi = np.quantile(pred.series(f"{o}_reading"), (0.05, 0.95), axis=0)
            y = run.series(f"{o}_reading")[0]
            hits.extend(((y >= lo) & (y <= hi))[held])
    coverage = float(np.mean(hits))
    assert 0.85 <= coverage <= 0.95, coverage


def test_calibration_learns_baseline_and_response():
    sim = BloodPressureSimulator(reading="home")
    history = Plan("h", doses=(daily("losartan", 100, 90, at_day=30),), horizon_h=119 * 24)
    truth, _, obs = _patient(sim, history, seed=7)
    post = sim.calibrate(obs, plan=history, n=2000, seed=1)
    prior = sim.prior(2000, seed=1)
    for name in ("b_sbp", "theta_sbp"):
        assert post[name].std() < 0.5 * prior[name].std()
        assert abs(post[name].mean() - truth[name][0]) < 3 * post[name].std()


def test_common_random_numbers_and_alerts():
    sim = simulator_for("bp", baseline_sbp=118, baseline_dbp=75, reading="office")
    plans = [Plan("none", horizon_h=28 * 24),
             Plan("three drugs", doses=(daily("amlodipine", 10, 28), daily("hydrochlorothiazide", 50, 28),
                                        daily("ramipril", 10, 28)), horizon_h=28 * 24)]
    c = compare(sim, plans, n=400, seed=3)
    a, b = c.runs
    # the same reading scatter under both plans (common random numbers), wherever no bound clipped a value
    inside = np.ones(a.series("sbp").shape, bool)
    for run in (a, b):
        for o in ("sbp", "sbp_reading"):
            inside &= (run.series(o) > 50) & (run.series(o) < 280)
    assert inside.mean() > 0.95
    np.testing.assert_allclose((a.series("sbp_reading") - a.series("sbp"))[inside],
                               (b.series("sbp_reading") - b.series("sbp"))[inside])
    # most patients' pressure falls; a few non-responders (theta <= 0) see none, or a small rise
    assert np.mean(b.final("sbp") < a.final("sbp")) > 0.8 and np.mean(b.final("sbp") - a.final("sbp")) < -15
    hypo = [x for x in b.alerts if x.event == "hypotension"]
    assert hypo and hypo[0].threshold == 90 and 0 < hypo[0].probability < 1
    assert not [x for x in a.alerts if x.event == "hypotension"] or a.probability("sbp", below=90) < hypo[0].probability


@pytest.mark.parametrize(("plan", "message"), [
    (Plan("x", doses=(daily("aspirin", 75, 7),)), "unknown drug 'aspirin'"),
    (Plan("x", doses=(daily("amlodipine", 5, 7, unit="standard_dose"),)), "unit 'standard_dose' is not one of mg"),
    (Plan("x", doses=(Dose("amlodipine", 5, "mg", route="iv_bolus"),)), "antihypertensives here are oral"),
    (Plan("x", doses=(daily("amlodipine", 40, 7),)), "40 mg every 24 h is 8.0 x the standard daily dose (5 mg)"),
    (Plan("x", doses=(daily("ccb", 5, 7, unit="standard_dose"),)), "5.0 x the standard daily dose"),
    (Plan("x", doses=(daily("lisinopril", 10, 7), daily("lisinopril", 20, 7, at_day=3))),
     "doses 1 and 2 (lisinopril): overlap from 72 h to 168 h"),
    (Plan("x", doses=(daily("lisinopril", -10, 7),)), "amount -10 is negative"),
    (Plan("x", settings={"policy": "clinician"}), "the bp back-end reads no settings"),
])
def test_bad_plans(plan, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        BloodPressureSimulator().simulate(plan, n=5, seed=1)


def test_bad_regimen_and_observations():
    with pytest.raises(ConfigError, match=re.escape("current regimen (warfarin): unknown drug")):
        BloodPressureSimulator(current={"warfarin": 5}).simulate(Plan("x"), n=2, seed=1)
    sim = BloodPressureSimulator()
    with pytest.raises(ConfigError, match="need columns time_h, output, value; got t, v"):
        sim.calibrate(pd.DataFrame({"t": [0], "v": [1]}))
    with pytest.raises(ConfigError, match="no sbp or dbp reading"):
        sim.calibrate(pd.DataFrame({"time_h": [0.0], "output": ["glucose"], "value": [100.0]}))
    with pytest.raises(ConfigError, match=re.escape("1 reading(s) are not blood pressures, e.g. sbp 1200 at 0 h")):
        sim.calibrate(pd.DataFrame({"time_h": [0.0], "output": ["sbp"], "value": [1200.0]}))


def test_from_record():
    t0 = pd.Timestamp("2020-01-01")
    rows = []
    for day in range(0, 400, 20):
        rows.append({"kind": "observation", "code": "8480-6", "display": "Systolic blood pressure",
                     "time": t0 + pd.Timedelta(days=day), "end_time": pd.NaT, "numeric_value": 150.0 - day / 40})
        rows.append({"kind": "observation", "code": "8462-4", "display": "Diastolic blood pressure",
                     "time": t0 + pd.Timedelta(days=day), "end_time": pd.NaT, "numeric_value": 92.0})
    rows.append({"kind": "medication", "code": "197361", "display": "amlodipine 5 MG Oral Tablet",
                 "time": t0 + pd.Timedelta(days=100), "end_time": pd.NaT, "numeric_value": np.nan})
    rows.append({"kind": "medication", "code": "686924", "display": "carvedilol 3.125 MG Oral Tablet",
                 "time": t0 + pd.Timedelta(days=50), "end_time": t0 + pd.Timedelta(days=200), "numeric_value": np.nan})
    rows.append({"kind": "medication", "code": "313096", "display": "spironolactone 25 MG Oral Tablet",
                 "time": t0, "end_time": pd.NaT, "numeric_value": np.nan})
    twin = BloodPressureSimulator.from_record({"subject_id": 3}, pd.DataFrame(rows))
    assert twin.subject_id == 3 and len(twin.observations) == 40
    assert set(twin.observations["output"]) == {"sbp", "dbp"} and twin.observations["time_h"].min() == 60 * 24
    assert twin.simulator.current == {"amlodipine": 5.0}  # carvedilol had stopped
    assert {d.drug for d in twin.history.doses} == {"amlodipine", "carvedilol"}
    carvedilol = next(d for d in twin.history.doses if d.drug == "carvedilol")
    assert carvedilol.every_h == 12.0 and carvedilol.times == 300  # twice daily for 150 days
    assert twin.taken["not_modelled"] == ["spironolactone 25 MG Oral Tablet"]
    post = twin.simulator.calibrate(twin.observations, plan=twin.history, n=100, seed=1)
    assert abs(np.mean(post["b_dbp"]) - 92) < 8
    with pytest.raises(ConfigError, match="no blood pressure reading"):
        BloodPressureSimulator.from_record({}, pd.DataFrame(rows[-3:]))


def test_parse_medication():
    assert _parse_medication("24 HR metoprolol succinate 25 MG Extended Release Oral Tablet") == ("metoprolol", 25.0)
    assert _parse_medication("losartan potassium 50 MG Oral Tablet") == ("losartan", 50.0)
    assert _parse_medication("sacubitril 24 MG / valsartan 26 MG Oral Tablet [Entresto]") is None
    assert _parse_medication("amoxicillin 500 MG Oral Tablet") is None
