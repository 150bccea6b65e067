"""The evaluation protocol on a real clinical table (flchain, scikit-survival, test time only).

Nothing is scored on the rows a generator learned from: without a holdout, a
verbatim copy gets utility "not measured"; with one, a copy is no better than the
real data beyond the bootstrap noise; and distances to the training set do not
change with the size of the holdout.
"""

from __future__ import annotations

import numpy as np
import pytest
from _flchain import utility_table

from hygeia.evaluate import evaluate_tables

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def split():
    df = utility_table()
    return df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)


def test_a_copy_without_holdout_gets_no_utility_score(split):
    train, _ = split
    report = evaluate_tables(train, train.copy(), target="death", seed=0)
    assert report["utility"]["status"] == "not measured"
    assert report["utility"]["reason"].startswith("no holdout was given")
    assert report["privacy"]["mia_auc"] is None and report["privacy"]["dcr_closer_to_train_share"] is None
    assert report["fairness"]["max_utility_gap"] is None
    assert report["privacy"]["exact_copy_rate"] == pytest.approx(1.0)


@pytest.mark.parametrize("copy", ["verbatim", "bootstrap"])
def test_a_copy_is_not_better_than_real_data_beyond_noise(split, copy):
    train, holdout = split
    synthetic = train.copy() if copy == "verbatim" else train.sample(len(train), replace=True, random_state=4)
    u = evaluate_tables(train, synthetic.reset_index(drop=True), holdout=holdout.iloc[:2000], target="death",
                        seed=0)["utility"]
    assert u["status"] == "measured" and u["test_set"] == "holdout" and u["n_test"] == 2000
    assert 0.6 < u["train_real_test_real"] < 0.95  # a real prediction task, not a leak
    low, high = u["gap_ci95"]
    assert high >= 0.0  # TSTR is never better than TRTR beyond the 95 % interval
    assert u["train_synthetic_test_real"] <= u["train_real_test_real"] + (high - low)


def test_near_copies_get_the_same_dcr_whatever_the_holdout_size(split):
    train, rest = split
    rng = np.random.default_rng(0)
    near = train.copy()
    for c in ("age", "kappa", "lambda", "creatinine"):
        near[c] = near[c] * rng.lognormal(0, 0.02, len(near))
    figures = {}
    for n in (4000, 400):
        p = evaluate_tables(train, near, holdout=rest.iloc[:n], seed=0)["privacy"]
        figures[n] = (p["dcr_median_synthetic_to_train"], p["nndr_median"], p["dcr_reference_rows"])
        assert p["dcr_share_excess"] > 0.8  # near-copies are caught at either size
        assert p["dcr_share_expected"] == pytest.approx(len(train) / (len(train) + n))
    assert figures[4000] == figures[400]
    assert figures[400][2] == len(train)
