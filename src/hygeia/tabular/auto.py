"""``--model auto``: which table generator to fit, with the reason recorded.

The rules, first match wins:

1. a privacy budget (``epsilon``) is given: ``tabular.dp``, the differentially
   private marginal model; only it (and the neural model when asked for by
   name) gives a formal guarantee. A longitudinal table with ``epsilon`` is
   refused: no sequence model is differentially private yet.
2. the metadata names a ``sequence_key`` or ``sequence_index``: ``tabular.sequence``,
   which keeps each subject's rows together and in time order.
3. fewer than :data:`MIN_TREE_ROWS` rows: ``tabular.copula``; with leaves of at
   least 50 rows a tree has fewer than 10 leaves (none below 100 rows, where
   CART draws every column on its own), while a copula needs only marginals
   and one correlation matrix.
4. otherwise ``tabular.cart``, the default table model. Both models meet the
   flchain targets (see :data:`MEASURED`); CART is chosen for fidelity: SDMetrics
   quality 0.975 vs 0.934 on flchain, 0.985 vs 0.923 on support2, 0.987 vs
   0.983 on aids, and TSTR 0.880 vs 0.829 on support2, at a privacy cost the
   targets allow (flchain MIA 0.537 vs 0.499, DCR share 0.530 vs 0.486). Where
   privacy matters more than fidelity, or the outcome is rare and the signal
   weak (aids: TSTR 0.663 for CART, 0.751 for the copula, over five splits
   0.655 vs 0.692 with TRTR 0.690), ask for ``--model copula``.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [40.5, 51.0, 63.25, 70.0] * 150, "sex": list("FMFM") * 150})
    >>> choose_model(df)[0]
    'tabular.cart'
    >>> choose_model(df, epsilon=1.0)[:2]
    ('tabular.dp', {'epsilon': 1.0})
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hygeia.errors import ConfigError
from hygeia.tabular.metadata import Metadata

__all__ = ["DEFAULT_MODEL", "MEASURED", "MIN_TREE_ROWS", "choose_model"]

#: The default table model, and the table size below which the copula is chosen instead.
DEFAULT_MODEL = "tabular.cart"
MIN_TREE_ROWS = 500

#: What the choice rests on: ``scripts/tune_tabular.py --models cart,copula --datasets flchain,aids,support2``
#: (benchmarks/tabular_measure.py; 80/20 split seed 0; 10,000 rows, sample seed 0; fit CPU-seconds on a
#: shared 2-core machine). Targets on flchain: quality >= 0.90, TSTR >= 0.80, MIA <= 0.55, no exact
#: copies, DCR share <= 0.55, subgroup error <= 0.02, fit <= 1 CPU-second.
MEASURED: dict[str, dict[str, dict[str, float]]] = {
    "tabular.cart": {
        "flchain": {
            "quality": 0.9753, "tstr_auc": 0.8289, "trtr_auc": 0.8385,
            "mia_auc": 0.5371, "exact_copy_rate": 0.0, "dcr_closer_to_train_share": 0.5298,
            "subgroup_outcome_rate_error": 0.0048, "fit_cpu_s": 0.29,
        },
        "aids": {
            "quality": 0.9871, "tstr_auc": 0.663, "trtr_auc": 0.7285,
            "mia_auc": 0.5667, "exact_copy_rate": 0.0, "dcr_closer_to_train_share": 0.5208,
            "subgroup_outcome_rate_error": 0.0008, "fit_cpu_s": 0.06,
        },
        "support2": {
            "quality": 0.9845, "tstr_auc": 0.8803, "trtr_auc": 0.8836,
            "mia_auc": 0.5061, "exact_copy_rate": 0.0, "dcr_closer_to_train_share": 0.4996,
            "subgroup_outcome_rate_error": 0.0076, "fit_cpu_s": 3.09,
        },
    },
    "tabular.copula": {
        "flchain": {
            "quality": 0.9337, "tstr_auc": 0.8271, "trtr_auc": 0.8385,
            "mia_auc": 0.4989, "exact_copy_rate": 0.0, "dcr_closer_to_train_share": 0.486,
            "subgroup_outcome_rate_error": 0.0039, "fit_cpu_s": 0.09,
        },
        "aids": {
            "quality": 0.9827, "tstr_auc": 0.7513, "trtr_auc": 0.7285,
            "mia_auc": 0.4927, "exact_copy_rate": 0.0, "dcr_closer_to_train_share": 0.4978,
            "subgroup_outcome_rate_error": 0.0025, "fit_cpu_s": 0.08,
        },
        "support2": {
            "quality": 0.9228, "tstr_auc": 0.8285, "trtr_auc": 0.8836,
            "mia_auc": 0.5038, "exact_copy_rate": 0.0, "dcr_closer_to_train_share": 0.4996,
            "subgroup_outcome_rate_error": 0.0037, "fit_cpu_s": 0.46,
        },
    },
}


def choose_model(
    df: pd.DataFrame, metadata: Metadata | None = None, *, epsilon: float | None = None
) -> tuple[str, dict[str, Any], str]:
    """Pick the generator for ``df`` (see the module documentation for the rules).

    Args:
        df: the real table.
        metadata: its metadata (detected when ``None``).
        epsilon: differential privacy budget, if one is wanted.

    Returns:
        ``(registered generator name, constructor parameters, reason)``.

    Raises:
        ConfigError: for a non-positive ``epsilon``, or ``epsilon`` with a longitudinal table.
    """
    meta = metadata if metadata is not None else Metadata.detect(df)
    sequence = meta.sequence_key is not None or meta.sequence_index is not None
    if epsilon is not None:
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise ConfigError(f"epsilon must be a positive number; got {epsilon!r}. Pass e.g. --epsilon 1.0.")
        if sequence:
            raise ConfigError(
                f"epsilon={epsilon} was given for a longitudinal table (sequence_key={meta.sequence_key!r}, "
                f"sequence_index={meta.sequence_index!r}), but no sequence model is differentially private; "
                "drop --epsilon, or fit one row per subject without the sequence key"
            )
        return "tabular.dp", {"epsilon": float(epsilon)}, (
            f"a privacy budget was given (epsilon={epsilon}); the DP marginal model is the one with a formal guarantee"
        )
    if sequence:
        return "tabular.sequence", {}, (
            f"the metadata declares a longitudinal table (sequence_key={meta.sequence_key!r}, "
            f"sequence_index={meta.sequence_index!r}); the sequence model keeps each subject's rows in order"
        )
    if len(df) < MIN_TREE_ROWS:
        return "tabular.copula", {}, (
            f"the table has {len(df)} rows (< {MIN_TREE_ROWS}); too few for trees with leaves of 50 rows, "
            "the Gaussian copula needs only marginals and correlations"
        )
    return DEFAULT_MODEL, {}, (
        f"default table model for {len(df)} rows x {len(meta.modelled)} modelled columns: sequential CART, "
        "measured best on quality (flchain 0.975, support2 0.985) with TSTR, privacy and subgroup figures "
        "within the targets on flchain"
    )
