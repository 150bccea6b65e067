"""Utility: TSTR against TRTR for classification, regression and survival."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.evaluate import c_index, evaluate_tables
from hygeia.evaluate._utility import NO_HOLDOUT_REASON


def test_c_index_known_answers():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.array([1, 1, 1, 0])
    assert c_index(t, e, -t) == 1.0
    assert c_index(t, e, t) == 0.0
    assert c_index(t, e, np.zeros(4)) == 0.5


def test_classification_copy_matches_real(cohort, holdout):
    u = evaluate_tables(cohort, cohort, holdout=holdout, target="diabetes")["utility"]
    assert u["task"] == "classification" and u["metric"] == "roc_auc"
    assert u["train_real_test_real"] > 0.65
    assert u["gap"] == pytest.approx(0.0, abs=1e-9)


def test_label_noise_lowers_tstr(cohort, holdout):
    rng = np.random.default_rng(0)
    noisy = cohort.assign(diabetes=rng.permutation(cohort["diabetes"].to_numpy()))
    u = evaluate_tables(cohort, noisy, holdout=holdout, target="diabetes")["utility"]
    assert u["gap"] > 0.1


def test_regression_r2(cohort, holdout, fresh):
    u = evaluate_tables(cohort, fresh, holdout=holdout, target="sbp")["utility"]
    assert u["task"] == "regression" and u["metric"] == "r2"
    assert u["test_set"] == "holdout"
    assert u["train_synthetic_test_real"] > 0.6
    low, high = u["gap_ci95"]
    assert low <= u["gap"] <= high and high - low < 0.2


def test_without_holdout_utility_is_not_measured(cohort):
    u = evaluate_tables(cohort, cohort.copy(), target="diabetes")["utility"]
    assert u == {"status": "not measured", "task": "classification", "target": "diabetes", "metric": "roc_auc",
                 "reason": NO_HOLDOUT_REASON}
    assert "Pass --holdout" in NO_HOLDOUT_REASON


def test_without_outcome_utility_is_not_measured(cohort, holdout):
    u = evaluate_tables(cohort, cohort, holdout=holdout)["utility"]
    assert u["status"] == "not measured" and u["reason"].startswith("no outcome was declared: pass --target COL")


def test_a_copy_is_no_better_than_real_data_and_noise_is_reported(cohort, holdout):
    boot = cohort.sample(len(cohort), replace=True, random_state=3).reset_index(drop=True)
    u = evaluate_tables(cohort, boot, holdout=holdout, target="diabetes")["utility"]
    low, high = u["gap_ci95"]
    assert low < 0 < high  # a bootstrap of the training rows: within noise of real data
    assert u["train_synthetic_test_real"] < u["train_real_test_real"] + (high - low)


def test_survival_c_index(cohort, holdout):
    def with_survival(df: pd.DataFrame, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        t = rng.exponential(1000 * np.exp(-0.04 * (df["age"] - 55)))
        return df.assign(time=np.minimum(t, 2000.0), event=(t < 2000).astype(int))

    real, hold = with_survival(cohort, 1), with_survival(holdout, 2)
    u = evaluate_tables(real, real, holdout=hold, time_column="time", event_column="event")["utility"]
    assert u["task"] == "survival" and u["metric"] == "c_index"
    assert u["train_real_test_real"] > 0.65
    assert u["train_synthetic_test_real"] == pytest.approx(u["train_real_test_real"])
