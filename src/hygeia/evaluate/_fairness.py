"""Fairness: is every subgroup as well represented, and as well served, as in real data?

Per subgroup of each audited column (sex, race, ethnicity, age band, or any
declared column):

* representation error: ``|share in synthetic - share in real|``;
* outcome-rate error: ``|outcome rate in synthetic - in real|`` within the group
  (rate of the rarer class of a binary target, of the rarest class of a
  multi-class one, mean of a numeric one, event rate in survival);
* utility gap: the TRTR score minus the TSTR score on the group's holdout rows.

The first two compare the synthetic table with the real one and need no model,
so they are measured with or without a holdout. The utility gap reuses the
utility models' predictions on the holdout; without a holdout it is **not
measured** (``utility_gap`` is ``None`` and ``not_measured`` says why), never
computed on training rows.

Numeric columns are cut into bands: clinical age bands for columns named like
``age``, real quartiles otherwise.

Example:
    >>> import pandas as pd
    >>> bands(pd.Series([10.0, 30.0, 70.0]), "age", None).tolist()
    ['0-17', '18-39', '65+']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hygeia.evaluate._utility import NO_HOLDOUT_REASON, Predictions, score_predictions

__all__ = ["bands", "default_subgroups", "fairness"]

_DEMOGRAPHIC = ("sex", "gender", "race", "ethnicity", "age")
_AGE_EDGES = [-np.inf, 18, 40, 65, np.inf]
_AGE_LABELS = ["0-17", "18-39", "40-64", "65+"]
_MAX_GROUPS = 20


def default_subgroups(types: dict[str, str]) -> list[str]:
    """Columns whose name marks a demographic attribute (sex, gender, race, ethnicity, age)."""
    return [c for c, t in types.items() if t not in ("id", "text") and any(k in str(c).lower() for k in _DEMOGRAPHIC)]


def bands(s: pd.Series, name: str, real_edges: np.ndarray | None) -> pd.Series:
    """Group labels of one column: values for labels, bands for numbers."""
    if s.dtype == object:
        return s.fillna("(missing)").astype(str)
    if "age" in str(name).lower() and real_edges is None:
        cut = pd.cut(s, _AGE_EDGES, right=False, labels=_AGE_LABELS)
    else:
        edges = np.unique(real_edges)
        if len(edges) < 2:
            return pd.Series(np.where(s.isna(), "(missing)", "all"), index=s.index)
        edges[0], edges[-1] = -np.inf, np.inf
        labels = [f"Q{i + 1}" for i in range(len(edges) - 1)]
        cut = pd.cut(s, edges, labels=labels)
    return cut.astype(object).where(s.notna(), "(missing)").astype(str)


def _outcome(df: pd.DataFrame, task: str | None, target: str | None, event: str | None, positive):
    if task is None:
        return None
    if task == "classification":
        return df[target].astype(object).eq(positive).astype(float)
    if task == "regression":
        return df[target].astype(float)
    e = pd.to_numeric(df[event], errors="coerce") if df[event].dtype != object else df[event].isin(["1", "True", "true", "yes"])
    return e.astype(float)


def fairness(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    types: dict[str, str],
    *,
    subgroups: list[str] | None,
    target: str | None,
    event_column: str | None,
    predictions: Predictions | None,
    task: str | None = None,
) -> dict:
    """Per-subgroup representation, outcome and utility gaps (prepared tables in).

    Args:
        real, synthetic: prepared tables.
        types: column types.
        subgroups: columns to audit; by default :func:`default_subgroups`.
        target, event_column: the outcome (rates of its rarer class, mean, or event rate).
        predictions: the utility models' holdout predictions, or ``None`` (no holdout).
        task: the outcome task (``classification``, ``regression``, ``survival``),
            needed for outcome rates when ``predictions`` is ``None``.

    Returns:
        ``{"columns", "outcome", "subgroups": [...], "max_representation_error",
        "max_outcome_rate_error", "max_utility_gap", "not_measured": {metric: reason}}``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"sex": ["F", "M", "F", "M"]})
        >>> fairness(df, df, {"sex": "categorical"}, subgroups=None, target=None, event_column=None,
        ...          predictions=None)["max_representation_error"]
        0.0
    """
    columns = list(subgroups) if subgroups is not None else default_subgroups(types)
    task = predictions.task if predictions is not None else task
    positive = None
    if task == "classification":
        counts = real[target].dropna().value_counts()
        positive = counts.index[-1] if len(counts) else None
    y_real = _outcome(real, task, target, event_column, positive)
    y_syn = _outcome(synthetic, task, target, event_column, positive)
    rows = []
    for c in columns:
        edges = None
        if types[c] in ("numeric", "datetime") and "age" not in str(c).lower():
            edges = np.nanquantile(real[c].to_numpy(float), [0, 0.25, 0.5, 0.75, 1])
        g_real, g_syn = bands(real[c], c, edges), bands(synthetic[c], c, edges)
        g_test = bands(predictions.test[c], c, edges) if predictions is not None else None
        share_real = g_real.value_counts(normalize=True)
        share_syn = g_syn.value_counts(normalize=True)
        for g in list(share_real.index[:_MAX_GROUPS]) + [k for k in share_syn.index if k not in share_real.index][:5]:
            row = {
                "column": c,
                "group": str(g),
                "n_real": int((g_real == g).sum()),
                "n_synthetic": int((g_syn == g).sum()),
                "real_share": float(share_real.get(g, 0.0)),
                "synthetic_share": float(share_syn.get(g, 0.0)),
            }
            row["representation_error"] = abs(row["real_share"] - row["synthetic_share"])
            row["real_rate"] = row["synthetic_rate"] = row["outcome_rate_error"] = None
            row["utility_real"] = row["utility_synthetic"] = row["utility_gap"] = None
            if y_real is not None:
                rr = y_real[g_real == g].mean() if row["n_real"] else np.nan
                sr = y_syn[g_syn == g].mean() if row["n_synthetic"] else np.nan
                row["real_rate"] = None if np.isnan(rr) else float(rr)
                row["synthetic_rate"] = None if np.isnan(sr) else float(sr)
                if row["real_rate"] is not None and row["synthetic_rate"] is not None:
                    row["outcome_rate_error"] = abs(row["real_rate"] - row["synthetic_rate"])
            if predictions is not None:
                m = (g_test == g).to_numpy()
                if m.sum() >= 2:
                    p = predictions
                    ev = p.event[m] if p.event is not None else None
                    ur = score_predictions(p.task, p.y[m], p.real_model[m], p.classes, ev)
                    us = score_predictions(p.task, p.y[m], p.synthetic_model[m], p.classes, ev)
                    if not (np.isnan(ur) or np.isnan(us)):
                        row |= {"utility_real": ur, "utility_synthetic": us, "utility_gap": ur - us}
            rows.append(row)

    def worst(key: str) -> float | None:
        vals = [r[key] for r in rows if r[key] is not None]
        return float(max(np.abs(vals))) if vals else None

    not_measured = {}
    if task is None:
        not_measured["outcome_rate_error"] = "no outcome was declared: pass --target COL (or --time-column and --event-column)"
        not_measured["utility_gap"] = not_measured["outcome_rate_error"]
    elif predictions is None:
        not_measured["utility_gap"] = NO_HOLDOUT_REASON
    return {
        "columns": columns,
        "outcome": None if task is None else {"task": task, "positive": None if positive is None else str(positive)},
        "subgroups": rows,
        "max_representation_error": worst("representation_error"),
        "max_outcome_rate_error": worst("outcome_rate_error"),
        "max_utility_gap": worst("utility_gap"),
        "not_measured": not_measured,
    }
