"""Evaluation of synthetic tables: fidelity, utility, privacy and fairness.

Plain functions over pandas DataFrames; :func:`evaluate_tables` runs the whole
audit and returns a JSON-ready dict.

Example:
    >>> import pandas as pd
    >>> from hygeia.evaluate import evaluate_tables
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "g": ["a", "b", "a", "b"]})
    >>> evaluate_tables(real, real)["privacy"]["exact_copy_rate"]
    1.0
"""

from hygeia.evaluate._audit import evaluate_tables, jsonable
from hygeia.evaluate._caveats import caveats
from hygeia.evaluate._coverage import knn_precision_recall, manifold_coverage
from hygeia.evaluate._fairness import bands, default_subgroups, fairness
from hygeia.evaluate._fidelity import (
    ASSOCIATION_THRESHOLD,
    CORRELATION_THRESHOLD,
    column_pair_trends,
    column_shapes,
    correlation_matrices,
    detection_auc,
    ks_complement,
    marginals,
    pair_trend_scores,
    tv_complement,
)
from hygeia.evaluate._metadata import COLUMN_TYPES, Encoder, infer_column_types, prepare, validate_inputs
from hygeia.evaluate._privacy import attack_risk, distance_metrics, exact_copy_rate, k_anonymity, privacy, wilson
from hygeia.evaluate._utility import NOT_MEASURED, c_index, fit_cox, outcome_task, utility

__all__ = [
    "ASSOCIATION_THRESHOLD",
    "COLUMN_TYPES",
    "CORRELATION_THRESHOLD",
    "Encoder",
    "NOT_MEASURED",
    "attack_risk",
    "bands",
    "c_index",
    "caveats",
    "column_pair_trends",
    "column_shapes",
    "correlation_matrices",
    "default_subgroups",
    "detection_auc",
    "distance_metrics",
    "evaluate_tables",
    "exact_copy_rate",
    "fairness",
    "fit_cox",
    "infer_column_types",
    "jsonable",
    "k_anonymity",
    "knn_precision_recall",
    "ks_complement",
    "manifold_coverage",
    "marginals",
    "outcome_task",
    "pair_trend_scores",
    "prepare",
    "privacy",
    "tv_complement",
    "utility",
    "validate_inputs",
    "wilson",
]
