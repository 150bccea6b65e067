"""Fairness: a planted subgroup distortion shows up, an honest copy does not."""

from __future__ import annotations

import numpy as np

from hygeia.evaluate import bands, evaluate_tables


def _row(report, column, group):
    return next(r for r in report["fairness"]["subgroups"] if r["column"] == column and r["group"] == group)


def test_planted_outcome_distortion_in_one_group(cohort, holdout, fresh):
    distorted = fresh.copy()
    women = distorted["sex"] == "F"
    distorted.loc[women, "diabetes"] = "yes"  # every woman diabetic
    report = evaluate_tables(cohort, distorted, holdout=holdout, target="diabetes")
    f = report["fairness"]
    assert set(f["columns"]) >= {"age", "sex", "race"}
    women_row, men_row = _row(report, "sex", "F"), _row(report, "sex", "M")
    assert women_row["outcome_rate_error"] > 0.5
    assert men_row["outcome_rate_error"] < 0.1
    assert women_row["utility_gap"] > men_row["utility_gap"] + 0.05


def test_planted_representation_distortion(cohort, holdout, fresh):
    thinned = fresh[~((fresh["race"] == "black") & (np.arange(len(fresh)) % 10 != 0))]
    report = evaluate_tables(cohort, thinned, holdout=holdout, subgroups=["race"])
    black = _row(report, "race", "black")
    assert black["synthetic_share"] < black["real_share"] / 3
    assert black["representation_error"] > 0.1
    assert report["fairness"]["max_representation_error"] == black["representation_error"] or (
        report["fairness"]["max_representation_error"] >= black["representation_error"]
    )
    assert _row(report, "race", "asian")["representation_error"] < 0.1


def test_honest_draw_has_small_errors(cohort, fresh):
    f = evaluate_tables(cohort, fresh, target="diabetes", subgroups=["sex", "age"])["fairness"]
    assert f["max_representation_error"] < 0.06
    assert f["max_outcome_rate_error"] < 0.1
    # No holdout: the model-free comparisons are made, the utility gaps are not.
    assert f["outcome"] == {"task": "classification", "positive": "yes"}
    assert f["max_utility_gap"] is None and f["not_measured"]["utility_gap"].startswith("no holdout was given")


def test_age_bands():
    import pandas as pd

    assert bands(pd.Series([5.0, 18.0, 64.0, np.nan]), "age_years", None).tolist() == ["0-17", "18-39", "40-64", "(missing)"]
