"""Column shapes and pair trends agree with SDMetrics' QualityReport on flchain.

flchain ships with scikit-survival (GPL): it is a test-time dependency only and is
never imported from ``src/``. SDMetrics (MIT) is the reference implementation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

sksurv_datasets = pytest.importorskip(
    "sksurv.datasets", reason="the flchain data set ships with scikit-survival: pip install scikit-survival"
)
reports = pytest.importorskip("sdmetrics.reports", reason="the reference QualityReport is in sdmetrics: pip install sdmetrics")

from hygeia.evaluate import evaluate_tables  # noqa: E402

pytestmark = pytest.mark.slow


def _flchain() -> pd.DataFrame:
    x, y = sksurv_datasets.load_flchain()
    df = x.copy()
    for c in df.select_dtypes("category").columns:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    df["futime"] = y["futime"]
    df["death"] = np.where(y["death"], "yes", "no")
    return df.reset_index(drop=True)


def _variants(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    half = df.sample(frac=0.5, random_state=1).reset_index(drop=True)
    shuffled = df.apply(lambda s: s.sample(frac=1, random_state=int(rng.integers(1 << 30))).to_numpy())
    noisy = df.sample(len(df), replace=True, random_state=2).reset_index(drop=True)
    for c in ("age", "kappa", "lambda", "creatinine", "futime"):
        noisy[c] = noisy[c] * rng.lognormal(0, 0.1, len(noisy))
    flipped = noisy.copy()
    flip = rng.random(len(flipped)) < 0.3
    flipped.loc[flip, "sex"] = np.where(flipped.loc[flip, "sex"] == "F", "M", "F")
    return {"half": half, "shuffled": shuffled, "noisy": noisy, "noisy_flipped": flipped}


def _metadata(df: pd.DataFrame) -> dict:
    numeric = {"age", "kappa", "lambda", "creatinine", "futime"}
    columns = {c: {"sdtype": "numerical" if c in numeric else "categorical"} for c in df.columns}
    return {"tables": {"flchain": {"columns": columns}}}


def _types(df: pd.DataFrame) -> dict[str, str]:
    numeric = {"age", "kappa", "lambda", "creatinine", "futime"}
    return {c: "numeric" if c in numeric else "categorical" for c in df.columns}


@pytest.mark.parametrize("variant", ["half", "shuffled", "noisy", "noisy_flipped"])
def test_agrees_with_sdmetrics_quality_report(variant):
    real = _flchain()
    synthetic = _variants(real)[variant]
    report = reports.QualityReport()
    # Average every pair, as the published CorrelationSimilarity/ContingencySimilarity
    # property does; recent sdmetrics defaults to counting only strongly associated pairs.
    report.real_correlation_threshold = 0
    report.real_association_threshold = 0
    with warnings.catch_warnings():  # the reference library's own deprecation noise is not ours to fail on
        warnings.simplefilter("ignore")
        report.generate({"flchain": real}, {"flchain": synthetic}, _metadata(real), verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    ours = evaluate_tables(real, synthetic, column_types=_types(real), seed=0)["fidelity"]
    assert ours["column_shapes"] == pytest.approx(props["Column Shapes"], abs=0.02)
    assert ours["column_pair_trends"] == pytest.approx(props["Column Pair Trends"], abs=0.02)
    assert ours["overall"] == pytest.approx(report.get_score(), abs=0.02)
