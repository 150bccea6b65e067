"""Fidelity metrics: known answers, shuffled columns, detection, α/β."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.evaluate import (
    column_pair_trends,
    column_shapes,
    detection_auc,
    infer_column_types,
    knn_precision_recall,
    ks_complement,
    manifold_coverage,
    pair_trend_scores,
    prepare,
    tv_complement,
)
from hygeia.evaluate._metadata import Encoder


def test_ks_complement_known_answer():
    assert ks_complement(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0])) == pytest.approx(0.5)
    assert ks_complement(np.array([1.0, np.nan]), np.array([1.0])) == 1.0


def test_tv_complement_known_answer():
    real = pd.Series(["a", "a", "b", "b"])
    syn = pd.Series(["a", "a", "a", "c"])
    # TVD = (|.5-.75| + |.5-0| + |0-.25|) / 2 = 0.5
    assert tv_complement(real, syn) == pytest.approx(0.5)


def test_contingency_and_correlation_known_answers():
    types = {"x": "numeric", "y": "numeric", "g": "categorical", "h": "categorical"}
    real = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [1.0, 2, 3, 4], "g": list("aabb"), "h": list("abab")})
    syn = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [4.0, 3, 2, 1], "g": list("aabb"), "h": list("aabb")})
    pairs = column_pair_trends(real, syn, types)
    assert pairs["x | y"]["score"] == pytest.approx(0.0)  # r = 1 vs r = -1
    assert pairs["g | h"]["metric"] == "contingency"
    assert pairs["g | h"]["score"] == pytest.approx(0.5)


def test_shuffled_columns_keep_shapes_but_lose_pair_trends(cohort):
    rng = np.random.default_rng(0)
    shuffled = cohort.apply(lambda s: s.sample(frac=1, random_state=int(rng.integers(1 << 30))).to_numpy())
    types = infer_column_types(cohort)
    real, syn = prepare(cohort, types), prepare(shuffled, types)
    shapes = column_shapes(real, syn, types)
    assert min(shapes.values()) == pytest.approx(1.0)
    assert "patient_id" not in shapes
    same = column_pair_trends(real, real, types)
    lost = column_pair_trends(real, syn, types)
    assert np.mean([p["score"] for p in same.values()]) == pytest.approx(1.0)
    assert lost["age | sbp"]["score"] < 0.7  # r ≈ 0.9 becomes ≈ 0
    assert lost["age | diabetes"]["score"] < same["age | diabetes"]["score"] - 0.05


def test_detection_auc_separates_shifted_data(cohort):
    types = {"age": "numeric", "bmi": "numeric"}
    enc = Encoder(list(types), types).fit(cohort)
    shifted = cohort.assign(bmi=cohort["bmi"] + 8)
    assert detection_auc(enc.transform(cohort), enc.transform(shifted)) > 0.9


def test_manifold_coverage_known_answer():
    reference = np.array([[0.0], [1.0], [2.0], [10.0]])
    # k = 1 radii: 1, 1, 1, 8; 12 lies inside the ball of 10, 30 inside none.
    assert manifold_coverage(reference, np.array([[0.5], [12.0], [30.0], [-1.0]]), k=1) == pytest.approx(0.75)


def test_recall_matches_an_independent_draw_and_drops_for_a_collapsed_one(cohort, fresh):
    types = {"age": "numeric", "bmi": "numeric", "sbp": "numeric", "sex": "categorical"}
    enc = Encoder(list(types), types).fit(cohort)
    xr = enc.transform(cohort)
    good = knn_precision_recall(xr, enc.transform(fresh), seed=1)
    # An independent draw of the real distribution is what a perfect generator gives:
    # it scores like the reference, and well above the 0.5 of the old 1-NN β-recall.
    assert good["recall"] == pytest.approx(good["recall_reference"], abs=0.04)
    assert good["precision"] == pytest.approx(good["precision_reference"], abs=0.04)
    assert good["recall"] > 0.8 and good["n_rows"] == 750
    copy = knn_precision_recall(xr, xr.copy(), seed=1)
    assert copy["recall"] < good["recall"] + 0.06  # coverage, not a reward for copying
    older = fresh[fresh["age"] > 60]  # a generator that lost everyone under 60
    bad = knn_precision_recall(xr, enc.transform(older), seed=1)
    assert bad["recall"] < good["recall_reference"] - 0.3
    assert bad["precision"] > bad["precision_reference"] - 0.1  # the rows it makes are still realistic


def test_headline_pair_trends_count_only_associated_pairs(cohort):
    rng = np.random.default_rng(0)
    shuffled = cohort.apply(lambda s: s.sample(frac=1, random_state=int(rng.integers(1 << 30))).to_numpy())
    types = infer_column_types(cohort)
    real, syn = prepare(cohort, types), prepare(shuffled, types)
    pairs = column_pair_trends(real, syn, types)
    counted = sorted(k for k, p in pairs.items() if p["counted"])
    assert "age | sbp" in counted and "sex | race" not in counted
    assert pairs["sex | race"]["real_association"] < 0.1  # drawn independently
    scores = pair_trend_scores(pairs)
    assert scores["pairs_counted"] == len(counted) and scores["pairs_total"] == 21
    assert scores["column_pair_trends"] < scores["column_pair_trends_all_pairs"] - 0.1


def test_cramers_v_known_answer():
    types = {"g": "categorical", "h": "categorical"}
    perfect = pd.DataFrame({"g": list("aabb"), "h": list("xxyy")})
    none = pd.DataFrame({"g": list("aabb"), "h": list("xyxy")})
    assert column_pair_trends(perfect, perfect, types)["g | h"]["real_association"] == pytest.approx(1.0)
    assert column_pair_trends(none, none, types)["g | h"]["real_association"] == pytest.approx(0.0)
    assert not column_pair_trends(none, none, types)["g | h"]["counted"]
