"""Privacy metrics: a copy of the training data is caught; a fresh draw is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.evaluate import attack_risk, evaluate_tables, exact_copy_rate, k_anonymity, wilson


def test_wilson_known_values():
    centre, low, high = wilson(50, 100)
    assert centre == pytest.approx(0.5)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-3)
    assert attack_risk(100, 10, 10, 0)["risk"] == 0.0


def test_copy_of_training_data_is_flagged(cohort, holdout):
    report = evaluate_tables(cohort, cohort.copy(), holdout=holdout, target="diabetes", sensitive=["diabetes"])
    p = report["privacy"]
    assert p["exact_copy_rate"] == pytest.approx(1.0)
    assert p["mia_auc"] > 0.95
    assert p["dcr_closer_to_train_share"] > 0.95
    assert p["singling_out"]["risk"] > 0.5
    assert p["attribute_inference"]["diabetes"]["attack_rate"] > 0.95


def test_fresh_draw_is_not_flagged(cohort, holdout, fresh):
    report = evaluate_tables(cohort, fresh, holdout=holdout)
    p = report["privacy"]
    assert p["exact_copy_rate"] == pytest.approx(0.0)
    assert 0.4 < p["mia_auc"] < 0.6
    assert 0.4 < p["dcr_closer_to_train_share"] < 0.6
    assert p["dcr_share_expected"] == pytest.approx(0.5) and abs(p["dcr_share_excess"]) < 0.1
    low, high = p["singling_out"]["ci"]
    assert low <= p["singling_out"]["risk"] <= high
    assert p["singling_out"]["risk"] < 0.2


def test_no_holdout_leaves_holdout_metrics_not_measured(cohort):
    p = evaluate_tables(cohort, cohort)["privacy"]
    assert p["mia_auc"] is None and p["dcr_closer_to_train_share"] is None
    assert p["not_measured"]["mia_auc"].startswith("no holdout was given")
    assert p["attack_control"] == "random guess (no holdout)"


def test_dcr_does_not_depend_on_the_holdout_size(cohort, holdout):
    rng = np.random.default_rng(0)
    near = cohort.assign(bmi=cohort["bmi"] + rng.normal(0, 0.5, len(cohort)))
    figures = []
    for n in (1500, 150, None):
        h = None if n is None else holdout.iloc[:n]
        p = evaluate_tables(cohort, near, holdout=h, seed=3)["privacy"]
        assert p["dcr_reference_rows"] == len(cohort)
        figures.append((p["dcr_median_synthetic_to_train"], p["nndr_median"]))
    assert figures[0] == figures[1] == figures[2]


def test_exact_copy_rate_counts_rows():
    train = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    syn = pd.DataFrame({"a": [1.0, 2.0, 1.0, 3.0], "b": ["x", "x", "x", "y"]})
    assert exact_copy_rate(train, syn, ["a", "b"]) == pytest.approx(0.5)


def test_k_anonymity_and_l_diversity():
    syn = pd.DataFrame({"sex": ["F", "F", "M", "M", "M"], "band": ["a", "a", "b", "b", "b"], "dx": ["x", "y", "x", "x", "x"]})
    out = k_anonymity(syn, syn, ["sex", "band"], ["dx"])
    assert out["k_synthetic"] == 2
    assert out["l_diversity"] == {"dx": 1}
    assert out["share_rows_in_classes_below_5"] == 1.0


def test_dcr_share_excess_does_not_shrink_with_the_holdout(cohort, holdout, fresh):
    rng = np.random.default_rng(1)
    near = cohort.assign(bmi=cohort["bmi"] + rng.normal(0, 0.5, len(cohort)))
    for n in (1500, 150):
        small = holdout.iloc[:n]
        copied = evaluate_tables(cohort, near, holdout=small, seed=3)["privacy"]
        honest = evaluate_tables(cohort, fresh, holdout=small, seed=3)["privacy"]
        assert copied["dcr_share_expected"] == pytest.approx(1500 / (1500 + n))
        assert copied["dcr_share_excess"] > 0.8, n
        assert abs(honest["dcr_share_excess"]) < 0.15, n
