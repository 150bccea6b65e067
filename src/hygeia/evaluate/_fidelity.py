"""Fidelity: how closely the synthetic table follows the real one.

Definitions follow SDMetrics' published metrics so that the numbers agree:

* column shape: ``1 - KS statistic`` for numbers and dates (KSComplement),
  ``1 - total variation distance`` for labels (TVComplement), missing values dropped;
* pair trend: ``1 - |r_real - r_syn| / 2`` with Pearson's r for two numeric/date
  columns (CorrelationSimilarity); ``1 - TVD`` of the 2-D contingency table
  otherwise (ContingencySimilarity), numbers cut into 10 equal-width bins of each
  table's own range (as SDMetrics' QualityReport does) and missing values
  counted as a level;
* pair-trend score: as SDMetrics' QualityReport does by default (sdmetrics 0.32),
  the headline averages only the pairs whose *real* association is strong:
  ``|r| > 0.5`` for two numeric/date columns, Cramér's V (no bias correction,
  on the same contingency table) ``> 0.3`` otherwise. Pairs with no real
  association score near 1 whatever the generator does, so averaging every pair
  rewards a table whose columns were shuffled independently; the all-pairs mean
  is still reported beside the headline;
* overall: mean of the column-shape score and the headline pair-trend score.

Beyond these: a detection AUC (a classifier telling real rows from synthetic
ones; 0.5 is ideal) and k-NN manifold precision/recall (:mod:`._coverage`).

Example:
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    >>> column_shapes(real, real, {"x": "numeric"})
    {'x': 1.0}
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from scipy.stats.contingency import association

__all__ = [
    "ASSOCIATION_THRESHOLD",
    "CORRELATION_THRESHOLD",
    "column_pair_trends",
    "column_shapes",
    "pair_trend_scores",
    "correlation_matrices",
    "detection_auc",
    "ks_complement",
    "marginals",
    "tv_complement",
]

_CONTINUOUS = ("numeric", "datetime")
#: SDMetrics' QualityReport defaults (``DEFAULT_REAL_CORRELATION_THRESHOLD`` and
#: ``DEFAULT_REAL_ASSOCIATION_THRESHOLD`` in sdmetrics 0.32): a pair counts in the
#: headline pair-trend score only when its real association exceeds these.
CORRELATION_THRESHOLD = 0.5
ASSOCIATION_THRESHOLD = 0.3


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """``1 - D`` where D is the two-sample Kolmogorov–Smirnov statistic (NaN dropped)."""
    a = np.sort(real[~np.isnan(real)])
    b = np.sort(synthetic[~np.isnan(synthetic)])
    if a.size == 0 or b.size == 0:
        return float("nan")
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return float(1.0 - np.max(np.abs(cdf_a - cdf_b)))


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """``1 - TVD`` between the category frequencies (NaN dropped)."""
    p = real.dropna().value_counts(normalize=True)
    q = synthetic.dropna().value_counts(normalize=True)
    if p.empty or q.empty:
        return float("nan")
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, types: dict[str, str]) -> dict[str, float]:
    """Per-column shape similarity in [0, 1] (1 = identical marginal).

    Args:
        real, synthetic: prepared tables (numbers and dates as float, labels as str).
        types: column types; ``id`` columns are skipped.
    """
    out: dict[str, float] = {}
    for c, t in types.items():
        if t in _CONTINUOUS:
            out[c] = ks_complement(real[c].to_numpy(float), synthetic[c].to_numpy(float))
        elif t == "categorical":
            out[c] = tv_complement(real[c], synthetic[c])
    return out


def _codes(real: pd.DataFrame, synthetic: pd.DataFrame, c: str, t: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer levels of one column in both tables (missing is a level of its own)."""
    if t in _CONTINUOUS:
        # As SDMetrics' QualityReport does, each table is cut into 10 bins of its own
        # range (so a stray synthetic outlier shifts every bin); NaN gets level 11.
        def digitize(v: np.ndarray) -> np.ndarray:
            finite = v[~np.isnan(v)]
            edges = np.histogram_bin_edges(finite) if finite.size else np.linspace(0.0, 1.0, 11)
            return np.digitize(v, edges)

        return digitize(real[c].to_numpy(float)), digitize(synthetic[c].to_numpy(float)), 12
    r_obj = real[c].fillna("\x00<NA>").to_numpy(dtype=object)
    s_obj = synthetic[c].fillna("\x00<NA>").to_numpy(dtype=object)
    levels = pd.Index(pd.unique(np.concatenate([r_obj, s_obj])))
    return levels.get_indexer(r_obj), levels.get_indexer(s_obj), len(levels)


def _cramers_v(codes_a: np.ndarray, codes_b: np.ndarray) -> float:
    """Cramér's V of two integer-coded columns (no bias correction); NaN below 2x2."""
    _, ia = np.unique(codes_a, return_inverse=True)
    _, ib = np.unique(codes_b, return_inverse=True)
    if ia.max(initial=0) < 1 or ib.max(initial=0) < 1:
        return float("nan")
    table = np.zeros((ia.max() + 1, ib.max() + 1), dtype=np.int64)
    np.add.at(table, (ia, ib), 1)
    return float(association(table, method="cramer"))


def column_pair_trends(
    real: pd.DataFrame, synthetic: pd.DataFrame, types: dict[str, str]
) -> dict[str, dict[str, object]]:
    """Per-pair trend similarity in [0, 1], keyed ``"a | b"``.

    Args:
        real, synthetic: prepared tables (numbers and dates as float, labels as str).
        types: column types; ``id`` columns are skipped.

    Returns:
        ``{"a | b": {"columns": [a, b], "metric": "correlation" | "contingency",
        "score": float, "real": r or None, "synthetic": r or None,
        "real_association": |r| or Cramér's V, "counted": bool}}``, where
        ``counted`` says whether the pair passes SDMetrics' default threshold and
        so enters the headline score.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 7.0]})
        >>> column_pair_trends(df, df, {"x": "numeric", "y": "numeric"})["x | y"]["counted"]
        True
    """
    cols = [c for c, t in types.items() if t in (*_CONTINUOUS, "categorical")]
    cont = [c for c in cols if types[c] in _CONTINUOUS]
    r_corr = real[cont].corr() if cont else None
    s_corr = synthetic[cont].corr() if cont else None
    codes = {c: _codes(real, synthetic, c, types[c]) for c in cols}
    out: dict[str, dict[str, object]] = {}
    for a, b in itertools.combinations(cols, 2):
        if types[a] in _CONTINUOUS and types[b] in _CONTINUOUS:
            rr, ss = float(r_corr.loc[a, b]), float(s_corr.loc[a, b])
            score = float("nan") if np.isnan(rr) or np.isnan(ss) else 1.0 - abs(rr - ss) / 2.0
            strength = abs(rr)
            out[f"{a} | {b}"] = {"columns": [a, b], "metric": "correlation", "score": score, "real": rr,
                                 "synthetic": ss, "real_association": strength,
                                 "counted": bool(not np.isnan(strength) and strength > CORRELATION_THRESHOLD)}
            continue
        ra, sa, ka = codes[a]
        rb, sb, kb = codes[b]
        p = np.bincount(ra * kb + rb, minlength=ka * kb) / len(ra)
        q = np.bincount(sa * kb + sb, minlength=ka * kb) / len(sa)
        score = 1.0 - 0.5 * float(np.abs(p - q).sum())
        strength = _cramers_v(ra, rb)
        out[f"{a} | {b}"] = {"columns": [a, b], "metric": "contingency", "score": score, "real": None,
                             "synthetic": None, "real_association": strength,
                             "counted": bool(not np.isnan(strength) and strength > ASSOCIATION_THRESHOLD)}
    return out


def pair_trend_scores(pairs: dict[str, dict[str, object]]) -> dict[str, object]:
    """The headline (SDMetrics-compatible) and all-pairs means of :func:`column_pair_trends`.

    Returns:
        ``{"column_pair_trends": mean over counted pairs (NaN if none),
        "column_pair_trends_all_pairs": mean over every pair,
        "pairs_counted": int, "pairs_total": int}``.

    Example:
        >>> pair_trend_scores({"a | b": {"score": 0.5, "counted": True}, "a | c": {"score": 1.0, "counted": False}})
        {'column_pair_trends': 0.5, 'column_pair_trends_all_pairs': 0.75, 'pairs_counted': 1, 'pairs_total': 2}
    """

    def mean(values: list[float]) -> float:
        vals = [float(v) for v in values if v is not None and not np.isnan(v)]
        return float(np.mean(vals)) if vals else float("nan")

    counted = [p["score"] for p in pairs.values() if p.get("counted")]
    return {
        "column_pair_trends": mean(counted),
        "column_pair_trends_all_pairs": mean([p["score"] for p in pairs.values()]),
        "pairs_counted": len(counted),
        "pairs_total": len(pairs),
    }


def detection_auc(real_x: np.ndarray, synthetic_x: np.ndarray, *, seed: int = 0, max_rows: int = 5000) -> float:
    """Cross-validated AUC of a gradient-boosted classifier telling real from synthetic.

    0.5 means indistinguishable; 1.0 means every synthetic row is recognisable.
    """
    rng = np.random.default_rng(seed)
    a = real_x[rng.permutation(len(real_x))[:max_rows]]
    b = synthetic_x[rng.permutation(len(synthetic_x))[:max_rows]]
    x = np.vstack([a, b])
    y = np.r_[np.zeros(len(a)), np.ones(len(b))]
    n_splits = int(min(3, len(a), len(b)))
    if n_splits < 2:
        return float("nan")
    scores = np.zeros(len(y))
    for fold, (tr, te) in enumerate(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(x, y)):
        model = HistGradientBoostingClassifier(max_iter=100, random_state=seed + fold, early_stopping=False)
        model.fit(x[tr], y[tr])
        scores[te] = model.predict_proba(x[te])[:, 1]
    return float(roc_auc_score(y, scores))


def _shares(values: np.ndarray, edges: np.ndarray) -> list[float]:
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return [0.0] * (len(edges) - 1)
    counts, _ = np.histogram(np.clip(finite, edges[0], edges[-1]), bins=edges)
    return (counts / finite.size).tolist()


def marginals(real: pd.DataFrame, synthetic: pd.DataFrame, types: dict[str, str], *, bins: int = 20) -> dict:
    """Histogram (numbers, dates) or bar (labels) data per column, as shares, for plots."""
    out: dict[str, dict] = {}
    for c, t in types.items():
        if t in _CONTINUOUS:
            r, s = real[c].to_numpy(float), synthetic[c].to_numpy(float)
            both = np.concatenate([r[~np.isnan(r)], s[~np.isnan(s)]])
            edges = np.histogram_bin_edges(both, bins=bins) if both.size else np.array([0.0, 1.0])
            entry = {
                "type": t,
                "edges": edges.tolist(),
                "real": _shares(r, edges),
                "synthetic": _shares(s, edges),
                "missing": {"real": float(np.isnan(r).mean()), "synthetic": float(np.isnan(s).mean())},
            }
            if t == "datetime":
                entry["edges"] = [pd.Timestamp(int(e)).isoformat() for e in edges]
            out[c] = entry
        elif t == "categorical":
            rc = real[c].fillna("(missing)").value_counts(normalize=True)
            sc = synthetic[c].fillna("(missing)").value_counts(normalize=True)
            top = list(rc.index[:bins])
            rest_r = float(rc.drop(top).sum())
            rest_s = float(sc.drop([k for k in top if k in sc.index]).sum())
            cats = top + (["(other)"] if rest_r > 0 or rest_s > 0 else [])
            out[c] = {
                "type": t,
                "categories": [str(k) for k in cats],
                "real": [float(rc.get(k, 0.0)) for k in top] + ([rest_r] if len(cats) > len(top) else []),
                "synthetic": [float(sc.get(k, 0.0)) for k in top] + ([rest_s] if len(cats) > len(top) else []),
            }
    return out


def correlation_matrices(real: pd.DataFrame, synthetic: pd.DataFrame, types: dict[str, str]) -> dict:
    """Pearson matrices over numeric and date columns (``None`` where undefined)."""
    cols = [c for c, t in types.items() if t in _CONTINUOUS]

    def matrix(df: pd.DataFrame) -> list[list[float | None]]:
        m = df[cols].corr().to_numpy() if cols else np.zeros((0, 0))
        return [[None if np.isnan(v) else float(v) for v in row] for row in m]

    return {"columns": cols, "real": matrix(real), "synthetic": matrix(synthetic)}
