"""Column shapes and pair trends agree with SDMetrics' QualityReport on flchain.

flchain ships with scikit-survival (GPL): it is a test-time dependency only and is
never imported from ``src/``. SDMetrics (MIT) is the reference implementation. The
headline pair-trend score follows the QualityReport's defaults (only pairs whose
real association passes its threshold count); the all-pairs mean follows the
report with both thresholds set to 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _flchain import NUMERIC, column_types, flchain, shuffled_columns

from hygeia.evaluate import evaluate_tables

reports = pytest.importorskip("sdmetrics.reports", reason="the reference QualityReport is in sdmetrics: pip install sdmetrics")

pytestmark = pytest.mark.slow


def _variants(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    half = df.sample(frac=0.5, random_state=1).reset_index(drop=True)
    noisy = df.sample(len(df), replace=True, random_state=2).reset_index(drop=True)
    for c in NUMERIC:
        noisy[c] = noisy[c] * rng.lognormal(0, 0.1, len(noisy))
    flipped = noisy.copy()
    flip = rng.random(len(flipped)) < 0.3
    flipped.loc[flip, "sex"] = np.where(flipped.loc[flip, "sex"] == "F", "M", "F")
    return {"half": half, "shuffled": shuffled_columns(df), "noisy": noisy, "noisy_flipped": flipped}


def _metadata(df: pd.DataFrame) -> dict:
    columns = {c: {"sdtype": "numerical" if t == "numeric" else "categorical"} for c, t in column_types(df).items()}
    return {"tables": {"flchain": {"columns": columns}}}


def _quality(real: pd.DataFrame, synthetic: pd.DataFrame, *, all_pairs: bool) -> tuple[pd.Series, float]:
    report = reports.QualityReport()
    if all_pairs:  # the published CorrelationSimilarity/ContingencySimilarity average over every pair
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    with warnings.catch_warnings():  # the reference library's own deprecation noise is not ours to fail on
        warnings.simplefilter("ignore")
        report.generate({"flchain": real}, {"flchain": synthetic}, _metadata(real), verbose=False)
    return report.get_properties().set_index("Property")["Score"], report.get_score()


@pytest.mark.parametrize("variant", ["half", "shuffled", "noisy", "noisy_flipped"])
def test_agrees_with_sdmetrics_quality_report(variant):
    real = flchain()
    synthetic = _variants(real)[variant]
    ours = evaluate_tables(real, synthetic, column_types=column_types(real), seed=0)["fidelity"]
    default, default_score = _quality(real, synthetic, all_pairs=False)
    every, _ = _quality(real, synthetic, all_pairs=True)
    assert ours["column_shapes"] == pytest.approx(default["Column Shapes"], abs=0.02)
    assert ours["column_pair_trends"] == pytest.approx(default["Column Pair Trends"], abs=0.02)
    assert ours["column_pair_trends_all_pairs"] == pytest.approx(every["Column Pair Trends"], abs=0.02)
    assert ours["overall"] == pytest.approx(default_score, abs=0.02)


def test_shuffled_columns_lose_the_headline_pair_trends():
    """Independently shuffled columns score at least 0.05 below the real table, within 0.03 of SDMetrics."""
    real = flchain()
    shuffled = shuffled_columns(real)
    same = evaluate_tables(real, real, column_types=column_types(real), seed=0)["fidelity"]
    lost = evaluate_tables(real, shuffled, column_types=column_types(real), seed=0)["fidelity"]
    default, _ = _quality(real, shuffled, all_pairs=False)
    assert same["column_pair_trends"] == pytest.approx(1.0)
    assert lost["column_pair_trends"] <= same["column_pair_trends"] - 0.05
    assert lost["column_pair_trends"] == pytest.approx(default["Column Pair Trends"], abs=0.03)
    # The all-pairs mean hides the loss: most flchain pairs are not associated at all.
    assert lost["column_pair_trends_all_pairs"] > lost["column_pair_trends"] + 0.05
