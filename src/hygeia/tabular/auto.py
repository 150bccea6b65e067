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
4. otherwise ``tabular.cart``, the default table model, chosen for fidelity
   (SDMetrics quality, highest on each benchmark table). It pays for it in
   privacy figures (membership inference, DCR excess), most on small tables:
   where privacy matters more than fidelity, or the outcome is rare and the
   signal weak (aids), ask for ``--model copula``.

The measurements behind rule 4 are the means over the reported splits of
``benchmarks/tabular.py`` (``benchmarks/results/tabular.json``, never the splits
the models were tuned on), rendered here by ``benchmarks/figures.py`` and checked
against the result file by ``tests/unit/test_benchmark_figures.py``:

    <!-- table tabular-choice -->
    | dataset | model | quality | TSTR AUC | MIA AUC | DCR excess |
    | --- | --- | --- | --- | --- | --- |
    | flchain | cart | 0.964 | 0.831 | 0.517 | 0.139 |
    | flchain | copula | 0.919 | 0.822 | 0.494 | 0.008 |
    | aids | cart | 0.985 | 0.686 | 0.543 | 0.152 |
    | aids | copula | 0.983 | 0.691 | 0.507 | 0.049 |
    | support2 | cart | 0.981 | 0.885 | 0.504 | 0.070 |
    | support2 | copula | 0.927 | 0.837 | 0.498 | 0.012 |
    <!-- /table -->

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

__all__ = ["DEFAULT_MODEL", "MIN_TREE_ROWS", "choose_model"]

#: The default table model, and the table size below which the copula is chosen instead.
DEFAULT_MODEL = "tabular.cart"
MIN_TREE_ROWS = 500

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
        "measured best on SDMetrics quality on the benchmark tables (benchmarks/results/tabular.json)"
    )
