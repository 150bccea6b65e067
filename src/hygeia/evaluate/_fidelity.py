"""Fidelity: how closely the synthetic table follows the real one.

Definitions follow SDMetrics' published metrics so that the numbers agree:

* column shape: ``1 - KS statistic`` for numbers and dates (KSComplement),
  ``1 - total variation distance`` for labels (TVComplement), missing values dropped;
* pair trend: ``1 - |r_real - r_syn| / 2`` with Pearson's r for two numeric/date
  columns (CorrelationSimilarity); ``1 - TVD`` of the 2-D contingency table
  otherwise (ContingencySimilarity), numbers cut into 10 equal-width bins of each
  table's own range (as SDMetrics' QualityReport does) and missing values
  counted as a level;
* overall: mean of the two property scores.

Beyond these: a detection AUC (a classifier telling real rows from synthetic
ones; 0.5 is ideal) and α-precision / β-recall (Alaa et al., ICML 2022).

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
from sklearn.neighbors import NearestNeighbors

__all__ = [
    "alpha_precision_beta_recall",
    "column_pair_trends",
    "column_shapes",
    "correlation_matrices",
    "detection_auc",
    "ks_complement",
    "marginals",
    "tv_complement",
]

_CONTINUOUS = ("numeric", "datetime")


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


def column_pair_trends(
    real: pd.DataFrame, synthetic: pd.DataFrame, types: dict[str, str]
) -> dict[str, dict[str, object]]:
    """Per-pair trend similarity in [0, 1], keyed ``"a | b"``.

    Returns:
        ``{"a | b": {"columns": [a, b], "metric": "correlation" | "contingency",
        "score": float, "real": r or None, "synthetic": r or None}}``.
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
            out[f"{a} | {b}"] = {"columns": [a, b], "metric": "correlation", "score": score, "real": rr, "synthetic": ss}
            continue
        ra, sa, ka = codes[a]
        rb, sb, kb = codes[b]
        p = np.bincount(ra * kb + rb, minlength=ka * kb) / len(ra)
        q = np.bincount(sa * kb + sb, minlength=ka * kb) / len(sa)
        score = 1.0 - 0.5 * float(np.abs(p - q).sum())
        out[f"{a} | {b}"] = {"columns": [a, b], "metric": "contingency", "score": score, "real": None, "synthetic": None}
    return out


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


def alpha_precision_beta_recall(
    real_x: np.ndarray, synthetic_x: np.ndarray, *, seed: int = 0, max_rows: int = 5000, n_levels: int = 30
) -> dict[str, float]:
    """α-precision and β-recall (Alaa et al. 2022) on the standardised encoding.

    α-precision: for each α, the share of synthetic rows inside the ball around the
    real centre that holds a fraction α of the real rows; the score is one minus
    the normalised area between that curve and the diagonal. β-recall: for each β,
    the share of real rows whose nearest synthetic row is closer than their nearest
    real neighbour and lies in the synthetic β-support; scored the same way.
    Both are 1 for a perfect generator.
    """
    rng = np.random.default_rng(seed)
    real = real_x[rng.permutation(len(real_x))[:max_rows]]
    syn = synthetic_x[rng.permutation(len(synthetic_x))[:max_rows]]
    if len(real) < 2 or len(syn) < 1:
        return {"alpha_precision": float("nan"), "beta_recall": float("nan")}
    levels = np.linspace(0.0, 1.0, n_levels)
    centre = real.mean(axis=0)
    radii = np.quantile(np.linalg.norm(real - centre, axis=1), levels)
    syn_to_centre = np.linalg.norm(syn - centre, axis=1)
    precision_curve = np.array([(syn_to_centre <= r).mean() for r in radii])

    real_to_real = NearestNeighbors(n_neighbors=2).fit(real).kneighbors(real)[0][:, 1]
    d_syn, i_syn = NearestNeighbors(n_neighbors=1).fit(syn).kneighbors(real)
    d_syn = d_syn[:, 0]
    closest = syn[i_syn[:, 0]]
    closest_to_syn_centre = np.linalg.norm(closest - syn.mean(axis=0), axis=1)
    syn_radii = np.quantile(closest_to_syn_centre, levels)
    covered = d_syn <= real_to_real
    recall_curve = np.array([(covered & (closest_to_syn_centre <= r)).mean() for r in syn_radii])

    def score(curve: np.ndarray) -> float:
        return float(max(0.0, 1.0 - np.abs(levels - curve).sum() / levels.sum()))

    return {"alpha_precision": score(precision_curve), "beta_recall": score(recall_curve)}


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
