"""The 'effects' simulator: plans name arms, paired draws, survival curves, records to covariates."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from hygeia.errors import ConfigError
from hygeia.twin import (
    CoxPH,
    Dose,
    EffectsSimulator,
    Plan,
    TLearner,
    compare,
    covariates_from_record,
    simulator_for,
)


@pytest.fixture(scope="module")
def learner():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.uniform(30, 80, 800), "male": rng.integers(0, 2, 800).astype(float)})
    arm = np.where(rng.uniform(size=800) < 0.5, "B", "A")
    y = 0.1 * X["age"] + np.where(arm == "B", -5.0 + 0.05 * X["age"], 0.0) + rng.normal(size=800)
    return TLearner(outcome_model=LinearRegression(), seed=0).fit(X, arm, y)


def test_plans_name_arms_and_draws_are_paired(learner):
    sim = simulator_for("effects", model=learner, covariates={"age": 60.0, "male": 1.0}, outcome="sbp_change",
                        unit="mmHg", safe_high=8.0, high_event="little change")
    plans = [Plan("usual"), Plan("new", settings={"treatment": "B"}), Plan("new by dose", doses=(Dose("treatment", 1),))]
    assert [sim.arm_of(p) for p in plans] == ["A", "B", "B"]
    c = compare(sim, plans[:2], n=500, seed=3)
    a, b = c.runs
    assert a.values.shape == (500, 1, 1) and a.times_h.tolist() == [0.0] and b.meta["arm"] == "B"
    diff = c.difference("sbp_change", lambda r: r.final("sbp_change"))
    expected = float(learner.effect(pd.DataFrame({"age": [60.0], "male": [1.0]}))[0])
    # common random numbers: the same rank u in each arm's residuals, so the paired difference is nearly the CATE
    assert np.median(diff) == pytest.approx(expected, abs=0.1)
    assert np.std(diff) < 0.2 * np.std(b.final("sbp_change"))
    p = learner.predict(pd.DataFrame({"age": [60.0], "male": [1.0]}), "B")
    lo, hi = np.quantile(b.final("sbp_change"), [0.05, 0.95])
    assert lo == pytest.approx(p.low[0], abs=0.25) and hi == pytest.approx(p.high[0], abs=0.25)
    assert b.summary()["outputs"]["sbp_change"]["unit"] == "mmHg"
    alert = {x.event: x for x in a.alerts}["little change"]  # arm A: 0.1 * 60 = 6 +- 1, past 8 in a few draws
    assert alert.probability == pytest.approx(np.mean(a.final("sbp_change") > 8.0)) and 0 < alert.probability < 0.1
    assert not b.alerts


def test_through_simulate_twin_and_write_twin(learner, tmp_path):
    import json

    from hygeia.twin import Twin, simulate_twin, write_twin

    sim = EffectsSimulator(model=learner, covariates={"age": 70.0, "male": 0.0}, outcome="sbp_change", unit="mmHg")
    result = simulate_twin(Twin(sim), [Plan("A"), Plan("B", settings={"treatment": "B"})], n=100, seed=2)
    out = write_twin(result, tmp_path / "twin")
    doc = json.loads((out / "twin.json").read_text())
    assert doc["made_by"]["backend"] == "effects"
    assert doc["made_by"]["simulator"]["covariates"] == {"age": 70.0, "male": 0.0}
    assert doc["made_by"]["simulator"]["model"]["class"] == "TLearner"
    assert (out / "report.html").stat().st_size > 0


def test_bad_plans_and_models(learner):
    sim = EffectsSimulator(model=learner, covariates=[60.0, 1.0])
    with pytest.raises(ConfigError, match=re.escape("plan 'x' names arm 'C'; the model knows 'A', 'B'")):
        sim.simulate(Plan("x", settings={"treatment": "C"}), n=5, seed=0)
    with pytest.raises(ConfigError, match="names several arms"):
        sim.simulate(Plan("x", doses=(Dose("treatment", 1),), settings={"treatment": "A"}), n=5, seed=0)
    with pytest.raises(ConfigError, match="names arm 2;"):
        sim.simulate(Plan("x", doses=(Dose("treatment", 2),)), n=5, seed=0)
    with pytest.raises(ConfigError, match="unknown drug 'aspirin'"):
        sim.simulate(Plan("x", doses=(Dose("aspirin", 1),)), n=5, seed=0)
    with pytest.raises(ConfigError, match="no value for male"):
        EffectsSimulator(model=learner, covariates={"age": 60.0})
    with pytest.raises(ConfigError, match="not fitted yet"):
        EffectsSimulator(model=TLearner(), covariates=[1.0])
    with pytest.raises(ConfigError, match="model must be a fitted EffectLearner"):
        EffectsSimulator(model=LinearRegression(), covariates=[1.0])


def test_cox_survival_curves_under_each_arm():
    from sksurv.datasets import load_aids

    X, y = load_aids(endpoint="aids")
    cov = pd.DataFrame({"tx": X["tx"].astype(float), "cd4": X["cd4"]})
    cox = CoxPH().fit(cov, y["time"], y["censor"])
    sim = EffectsSimulator(model=cox, covariates={"tx": 0.0, "cd4": 50.0}, treatment_column="tx", time_unit_h=24.0)
    c = compare(sim, [Plan("control"), Plan("indinavir", doses=(Dose("treatment", 1, unit="arm"),), horizon_h=24 * 250)],
                n=200, seed=0)
    control, idv = c.runs
    assert control.times_h[-1] == pytest.approx(24 * cox.baseline_times_[-1])  # default horizon: last event time
    assert idv.times_h[-1] == 24 * 250 and idv.outputs[0].name == "survival"
    s = idv.series("survival")
    assert np.all((s >= 0) & (s <= 1)) and np.all(np.diff(s, axis=1) <= 1e-12)
    point = cox.predict_survival(pd.DataFrame({"tx": [1.0], "cd4": [50.0]}), [250.0])[0, 0]
    assert np.median(idv.final("survival")) == pytest.approx(point, abs=0.02)
    assert len(idv.times_h) == 101
    ctrl = np.array([np.interp(24 * 250, control.times_h, s) for s in control.series("survival")])
    assert np.mean(idv.final("survival") > ctrl) > 0.95  # indinavir lowers the hazard in nearly every draw


def test_covariates_from_record():
    person = {"birth_time": pd.Timestamp("1950-06-01"), "sex": "M", "death_time": pd.NaT}
    events = pd.DataFrame({
        "kind": ["observation", "observation", "observation", "condition", "condition", "condition"],
        "code": ["39156-5", "39156-5", "72166-2", "44054006", "195967001", "59621000"],
        "time": pd.to_datetime(["2010-01-01", "2018-01-01", "2017-01-01", "2012-01-01", "2000-01-01", "2019-01-01"]),
        "end_time": pd.to_datetime([None, None, None, None, "2005-01-01", None]),
        "numeric_value": [27.0, 29.5, None, None, None, None],
        "text_value": [None, None, "SNOMED-CT|8517006|Ex-smoker (finding)", None, None, None]})
    row = covariates_from_record(person, events, at="2018-06-01", rename={"male": "sex"})
    got = row.iloc[0].to_dict()
    assert got["age"] == pytest.approx(68.0, abs=0.01) and got["sex"] == 1.0 and got["bmi"] == 29.5
    assert (got["smoker"], got["former_smoker"]) == (0.0, 1.0)
    # diabetes is active; asthma ended in 2005; hypertension begins after 'at'
    assert (got["diabetes"], got["asthma"], got["hypertension"]) == (1.0, 0.0, 0.0)
    latest = covariates_from_record(person, events)  # at the last event
    assert latest.iloc[0]["hypertension"] == 1.0
    with pytest.raises(ConfigError, match="pass at="):
        covariates_from_record(person, events.iloc[:0])


def test_a_generated_patient_through_a_model_fitted_on_a_table(tmp_path):
    from hygeia.population import generate
    from hygeia.twin import load_patient

    generate(n=8, seed=5, out=str(tmp_path / "run"), workers=1)
    rows = [covariates_from_record(*load_patient(tmp_path / "run", sid)) for sid in range(1, 9)]
    table = pd.concat(rows, ignore_index=True)
    assert table["age"].between(0, 120).all() and set(table["male"]) <= {0.0, 1.0}
    # a model fitted on a table with the same columns (bmi filled where a record has none)
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"age": rng.uniform(20, 90, n), "male": rng.integers(0, 2, n).astype(float),
                      "bmi": rng.normal(27, 4, n), "hypertension": rng.integers(0, 2, n).astype(float)})
    t = rng.integers(0, 2, n)
    y = 0.05 * X["age"] + t * (1.0 + X["hypertension"]) + rng.normal(size=n)
    model = TLearner(outcome_model=LinearRegression(), seed=0).fit(X, t, y)
    row = rows[0].fillna({"bmi": 27.0})
    sim = EffectsSimulator(model=model, covariates=row.iloc[0].to_dict())
    c = compare(sim, [Plan("no"), Plan("yes", doses=(Dose("treatment", 1),))], n=200, seed=1)
    gain = np.median(c.difference("outcome", lambda r: r.final("outcome")))
    assert gain == pytest.approx(1.0 + row["hypertension"].iloc[0], abs=0.3)
