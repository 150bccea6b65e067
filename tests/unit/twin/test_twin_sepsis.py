"""The sepsis back-end: the shipped ICU-Sepsis tables, the paper's exact policy values, episodes and plans."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hygeia.errors import ConfigError
from hygeia.twin import Dose, Plan, compare, simulator_for
from hygeia.twin._sepsis import N_ICU, SURVIVAL, SepsisMDP, SepsisSimulator


@pytest.fixture(scope="module")
def mdp() -> SepsisMDP:
    return SepsisMDP.load()


def test_tables_are_the_published_mdp(mdp):
    assert mdp.transitions.shape == (716 * 25, 716)
    np.testing.assert_allclose(np.asarray(mdp.transitions.sum(axis=1)).ravel(), 1.0, atol=1e-12)
    assert mdp.initial.sum() == pytest.approx(1.0) and mdp.initial[N_ICU:].sum() == 0
    np.testing.assert_allclose(mdp.clinician[:N_ICU].sum(axis=1), 1.0, atol=1e-9)
    # a reward of 1 is paid exactly on the transitions into survival
    r = mdp.rewards.tocoo()
    assert set(np.unique(r.data)) == {1.0} and set(r.col) == {SURVIVAL}
    assert mdp.gamma == 1.0 and mdp.admissible.shape == (716, 25) and mdp.sofa.shape == (716,)


def test_policy_values_match_the_paper(mdp):
    # Choudhary, Gupta & Thomas 2024: random 0.780, clinicians 0.782, optimal 0.875 (gamma = 1)
    assert round(mdp.value(mdp.policy("random")), 3) == 0.780
    assert round(mdp.value(mdp.policy("clinician")), 3) == 0.782
    assert round(mdp.value(mdp.policy("optimal")), 3) == 0.875
    # the optimal values are a fixed point of the Bellman optimality operator and dominate the clinicians'
    v = mdp.optimal_values
    q = mdp.expected_reward + (mdp.transitions @ v).reshape(716, 25)
    np.testing.assert_allclose(q.max(axis=1)[:N_ICU], v[:N_ICU], atol=1e-9)
    assert np.all(v[:N_ICU] >= mdp.values(mdp.policy("clinician"))[:N_ICU] - 1e-9)


def test_monte_carlo_agrees_with_the_exact_value(mdp):
    run = SepsisSimulator().simulate(Plan("c", horizon_h=400, settings={"policy": "clinician"}), n=4000, seed=11)
    survived = run.final("discharged_alive").mean() + (run.final("in_icu") * (1 - run.final("mortality_risk"))).mean()
    se = np.sqrt(0.25 / 4000)
    assert abs(survived - 0.7818) < 4 * se
    # once an episode ends it stays ended, and the three states partition the episodes
    total = run.series("discharged_alive") + run.series("died") + run.series("in_icu")
    assert np.all(total == 1) and np.all(np.diff(run.series("in_icu"), axis=1) <= 0)
    assert run.times_h[1] == 4.0


def test_registered_and_deterministic():
    sim = simulator_for("sepsis", sofa=6)
    plan = Plan("r", settings={"policy": "random"}, horizon_h=48)
    a, b = sim.simulate(plan, n=50, seed=5), sim.simulate(plan, n=50, seed=5)
    np.testing.assert_array_equal(a.values, b.values)


def test_common_random_numbers_and_overrides():
    plans = [Plan("clinicians", settings={"policy": "clinician"}, horizon_h=48),
             Plan("no vasopressor", doses=(Dose("vasopressor", 0, "level"),), settings={"policy": "clinician"}, horizon_h=48),
             Plan("fixed", doses=(Dose("iv_fluids", 2, "level"), Dose("vasopressor", 1, "level", at_h=8)),
                  settings={"policy": "clinician"}, horizon_h=48)]
    c = compare(SepsisSimulator(), plans, n=300, seed=2)
    np.testing.assert_array_equal(c.runs[0].params["start_state"], c.runs[1].params["start_state"])
    assert np.all(c.runs[1].series("vasopressor") == 0)
    fixed = c.runs[2]
    icu = fixed.series("in_icu") == 1
    assert np.all(fixed.series("iv_fluids")[icu[:, :-1].nonzero()[0], icu[:, :-1].nonzero()[1]] == 2)
    # the vasopressor is fixed from 8 h (step 2); before that the clinicians' policy chooses it
    assert np.all(fixed.series("vasopressor")[:, 2][icu[:, 2]] == 1)
    assert set(np.unique(fixed.series("vasopressor")[:, 0])) != {1.0}


def test_time_varying_risk_is_exact(mdp):
    # with levels fixed for the whole stay, the step-0 risk is 1 - V of the overridden stationary policy
    plan = Plan("fixed", doses=(Dose("iv_fluids", 1, "level"), Dose("vasopressor", 0, "level")), horizon_h=8)
    run = SepsisSimulator().simulate(plan, n=200, seed=1)
    pi = np.zeros((716, 25))
    pi[:, 1 * 5 + 0] = 1
    v = mdp.values(pi)
    np.testing.assert_allclose(run.series("mortality_risk")[:, 0], 1 - v[run.params["start_state"]])


def test_sofa_weights_the_start_states(mdp):
    low = SepsisSimulator(sofa=3).prior(3000, seed=1)["start_state"]
    high = SepsisSimulator(sofa=14).prior(3000, seed=1)["start_state"]
    assert mdp.sofa[low].mean() < 5
    assert mdp.sofa[high].mean() > 12
    assert set(np.unique(low)) <= set(np.flatnonzero(mdp.initial > 0))
    with pytest.raises(ConfigError, match="no initial state has a SOFA score near 60"):
        mdp.start_distribution(60, 0.5)


def test_rules_and_action_tables(mdp):
    rules = [{"sofa_min": 10, "fluid": 3, "vasopressor": 2}, {"fluid": 1, "vasopressor": 0}]
    sim = SepsisSimulator()
    pi = sim.plan_policy(Plan("r", settings={"rules": rules}))
    assert np.all(pi[mdp.sofa >= 10].argmax(axis=1) == 17) and np.all(pi[mdp.sofa < 10].argmax(axis=1) == 5)
    table = np.zeros((5, 5))
    table[0, 0] = 1
    run = sim.simulate(Plan("none", settings={"actions": table.tolist()}, horizon_h=24), n=100, seed=1)
    assert run.series("iv_fluids").max() == 0 and run.series("vasopressor").max() == 0


@pytest.mark.parametrize(("plan", "message"), [
    (Plan("x", doses=(Dose("vasopressor", 2.5, "level"),), settings={"policy": "clinician"}),
     "level 2.5 is not one of 0, 1, 2, 3, 4"),
    (Plan("x", doses=(Dose("vasopressor", 7, "level"),), settings={"policy": "clinician"}), "level 7 is not one of"),
    (Plan("x", settings={"policy": "best"}), "'best' is not a policy; choose one of: clinician, random, optimal"),
    (Plan("x", settings={"policy": "random", "actions": [[1]]}), "give one of policy, actions or rules"),
    (Plan("x", settings={"actions": [[1, 2]]}), "expected a 5 x 5 table of non-negative weights"),
    (Plan("x", settings={"rules": [{"sofa_min": 4, "fluid": 1}]}), "the last rule must have no sofa_min/sofa_max"),
    (Plan("x", settings={"rules": [{"fluid": 9}]}), "fluid 9 is not a level 0, 1, 2, 3 or 4"),
    (Plan("x", settings={"dose": 1}), "settings.dose: unknown setting"),
    (Plan("x"), "no policy, and the doses leave a level open from 0 h"),
    (Plan("x", doses=(Dose("iv_fluids", 1, "level"), Dose("vasopressor", 0, "level", at_h=8))),
     "leave a level open from 0 h"),
    (Plan("x", doses=(Dose("insulin", 1, "level"),)), "unknown drug 'insulin'; this simulator knows: iv_fluids, vasopressor"),
    (Plan("x", doses=(Dose("iv_fluids", 1, "mL"),), settings={"policy": "clinician"}), "unit 'mL' is not one of level"),
])
def test_bad_plans(plan, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        SepsisSimulator().simulate(plan, n=5, seed=1)


def test_from_record_reads_a_sofa_score():
    import pandas as pd

    t = pd.Timestamp("2024-03-01 10:00")
    rows = [("condition", "91302008", "Sepsis (disorder)", t, np.nan),
            ("medication", "242969", "4 ML norepinephrine 1 MG/ML Injection", t + pd.Timedelta(hours=2), np.nan),
            ("procedure", "40617009", "Artificial ventilation (regime/therapy)", t + pd.Timedelta(hours=3), np.nan),
            ("observation", "2160-0", "Creatinine", t + pd.Timedelta(hours=1), 2.4),
            ("observation", "777-3", "Platelets", t + pd.Timedelta(hours=1), 120.0),
            ("observation", "777-3", "Platelets", t - pd.Timedelta(days=30), 10.0)]  # long before: not counted
    events = pd.DataFrame(rows, columns=["kind", "code", "display", "time", "numeric_value"])
    twin = SepsisSimulator.from_record({"subject_id": 4}, events)
    # cardiovascular 3 + respiratory 3 + renal 2 + coagulation 1
    assert twin.simulator.sofa == 9.0 and twin.taken["sofa"] == 9 and twin.subject_id == 4
    assert twin.taken["sofa_components"]["liver"] == "0: not in the record (0)"
    assert twin.observations is None
    with pytest.raises(ConfigError, match="no sepsis"):
        SepsisSimulator.from_record({}, events.iloc[3:])
