"""flchain (scikit-survival, GPL: test-time only) as a plain table for the evaluation tests.

``chapter`` (cause of death) and ``futime`` (follow-up time) reveal ``death``, so
:func:`utility_table` leaves them out when ``death`` is the utility target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

NUMERIC = ("age", "kappa", "lambda", "creatinine", "futime")
LEAKS_DEATH = ("chapter", "futime")


def flchain() -> pd.DataFrame:
    """All 7,874 rows: labels as Python objects (None when missing), ``death`` as yes/no."""
    datasets = pytest.importorskip(
        "sksurv.datasets", reason="the flchain data set ships with scikit-survival: pip install scikit-survival"
    )
    x, y = datasets.load_flchain()
    df = x.copy()
    for c in df.select_dtypes("category").columns:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    df["futime"] = y["futime"]
    df["death"] = np.where(y["death"], "yes", "no")
    return df.reset_index(drop=True)


def utility_table() -> pd.DataFrame:
    """flchain without the columns that give ``death`` away, rows shuffled (seed 0)."""
    return flchain().drop(columns=list(LEAKS_DEATH)).sample(frac=1, random_state=0).reset_index(drop=True)


def shuffled_columns(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Every column permuted independently: the marginals stay, every association is destroyed."""
    rng = np.random.default_rng(seed)
    return df.apply(lambda s: s.sample(frac=1, random_state=int(rng.integers(1 << 30))).to_numpy())


def column_types(df: pd.DataFrame) -> dict[str, str]:
    return {c: "numeric" if c in NUMERIC else "categorical" for c in df.columns}
