"""One synthetic table measured the way the tabular benchmark reports it.

``measure(train, holdout, synthetic, dataset)`` returns SDMetrics' QualityReport
score (the reference), and from Hygeia's own audit: TSTR/TRTR ROC AUC for the
dataset's binary outcome (follow-up time and cause of death left out of the
features — they reveal the outcome), membership-inference AUC, exact-copy rate,
DCR closer-to-train share and the largest subgroup outcome-rate error by sex.

Example (from the repository root):
    .venv/bin/python -c "import sys; sys.path.insert(0, 'benchmarks'); import tabular_measure as m; print(m.demo())"
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import pandas as pd
import tabular_datasets

__all__ = ["LEAKY", "cpu_seconds", "measure", "quality", "sdv_metadata"]

#: Columns left out of the utility features: they reveal the outcome.
LEAKY = {"flchain": ["futime", "chapter"], "aids": ["time"], "support2": ["time"], "pbcseq": ["futime"]}
SUBGROUP = {"flchain": "sex", "aids": "sex", "support2": "fac_sex", "pbcseq": "sex"}


def sdv_metadata(df: pd.DataFrame, types: dict[str, str] | None = None) -> dict[str, Any]:
    """SDMetrics single-table metadata from Hygeia's detected column types."""
    from hygeia.tabular import Metadata

    meta = Metadata.detect(df, types=types)
    kinds = {"numeric": "numerical", "categorical": "categorical", "datetime": "datetime", "id": "id", "text": "id"}
    return {"columns": {c.name: {"sdtype": kinds[c.type]} for c in meta.columns}}


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, types: dict[str, str] | None = None) -> dict[str, float]:
    """SDMetrics QualityReport: overall, column shapes, column pair trends."""
    from sdmetrics.reports import QualityReport

    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(
            {"table": real}, {"table": synthetic[real.columns]}, {"tables": {"table": sdv_metadata(real, types)}},
            verbose=False,
        )
    props = report.get_properties().set_index("Property")["Score"]
    return {
        "quality": float(report.get_score()),
        "column_shapes": float(props["Column Shapes"]),
        "column_pair_trends": float(props["Column Pair Trends"]),
    }


def measure(
    train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, dataset: str, *, seed: int = 0
) -> dict[str, Any]:
    """Quality, utility, privacy and fairness figures of one synthetic table."""
    from hygeia.evaluate import evaluate_tables

    target = tabular_datasets.TARGETS[dataset]
    out: dict[str, Any] = quality(train, synthetic)
    drop = [c for c in LEAKY.get(dataset, []) if c in train.columns]
    report = evaluate_tables(
        train.drop(columns=drop), synthetic[train.columns].drop(columns=drop), holdout=holdout.drop(columns=drop),
        target=target, subgroups=[SUBGROUP[dataset]], seed=seed,
    )
    util, priv, fair = report["utility"], report["privacy"], report["fairness"]
    full = evaluate_tables(train, synthetic[train.columns], holdout=holdout, seed=seed)["privacy"]
    out.update(
        tstr_auc=util["train_synthetic_test_real"],
        trtr_auc=util["train_real_test_real"],
        mia_auc=full["mia_auc"],
        exact_copy_rate=full["exact_copy_rate"],
        dcr_closer_to_train_share=full["dcr_closer_to_train_share"],
        dcr_share_excess=full["dcr_share_excess"],
        subgroup_outcome_rate_error=fair["max_outcome_rate_error"],
    )
    return out


def cpu_seconds(fn: Any) -> tuple[Any, float]:
    """Run ``fn()`` and return (result, CPU seconds of this process, all threads)."""
    start = time.process_time()
    result = fn()
    return result, time.process_time() - start


def demo() -> dict[str, Any]:
    """Bootstrap of the training rows (a copy, the worst case for privacy) on flchain."""
    df = tabular_datasets.load("flchain")
    train, holdout = tabular_datasets.split(df)
    fake = train.sample(len(train), replace=True, random_state=0).reset_index(drop=True)
    return measure(train, holdout, fake, "flchain")
