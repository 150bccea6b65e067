"""Fidelity metrics: known answers, shuffled columns, detection, α/β."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.evaluate import (
    alpha_precision_beta_recall,
    column_pair_trends,
    column_shapes,
    detection_auc,
    infer_column_types,
    ks_complement,
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


def test_alpha_precision_beta_recall(cohort, fresh):
    types = {"age": "numeric", "bmi": "numeric", "sbp": "numeric"}
    enc = Encoder(list(types), types).fit(cohort)
    good = alpha_precision_beta_recall(enc.transform(cohort), enc.transform(fresh))
    # A perfect generator covers about half the real rows by this definition (Alaa et al.).
    assert good["alpha_precision"] > 0.85 and good["beta_recall"] > 0.4
    collapsed = fresh.assign(age=55.0, bmi=27.0, sbp=133.0)
    bad = alpha_precision_beta_recall(enc.transform(cohort), enc.transform(collapsed))
    assert bad["beta_recall"] < good["beta_recall"] - 0.2
