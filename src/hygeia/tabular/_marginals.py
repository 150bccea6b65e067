"""Column transforms shared by the copula and the tree synthesizer.

* :class:`CategoryCodec`: labels <-> integer codes, most frequent first, with
  the frequencies that give each label its slice of (0, 1) (the ordered-interval
  trick of the Gaussian copula). Codes are plain integers, so 10,000 labels cost
  10,000 integers, not a one-hot matrix.
* :func:`quantile_grid` / :func:`from_uniform`: a numeric column's empirical
  quantile function on a grid of at most ``k`` points, read back with linear
  interpolation: samples fall between observed quantiles instead of repeating
  training values, and the saved model keeps ``k`` quantiles, not the rows.
* :func:`normal_scores`: rank-based normal scores of a continuous column.
* :func:`datetime_step`: the resolution timestamps show (days, hours, minutes,
  seconds), so sampled times are rounded to it.

Labels are JSON scalars (``str``, ``int``, ``float``, ``bool``) so a codec is
saved as plain JSON.

Example:
    >>> codec = CategoryCodec.fit(["a", "b", "b", None])
    >>> codec.categories, codec.codes(["b", "a", None]).tolist()
    (['b', 'a'], [0, 1, 2])
    >>> codec.decode(np.array([1, 0])).tolist()
    ['a', 'b']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

__all__ = [
    "CategoryCodec",
    "datetime_step",
    "from_uniform",
    "interval_scores",
    "normal_scores",
    "quantile_grid",
    "round_to_step",
]

#: Uniforms are kept inside (EPS, 1 - EPS) before the normal quantile function.
EPS = 1e-9


def plain_value(v: Any) -> Any:
    """A plain, hashable Python value: numpy scalars unwrapped, whole floats as ints (1.0 -> 1), so that
    labels compare, hash and print alike whether they came from pandas, numpy or JSON."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


@dataclass
class CategoryCodec:
    """Labels of one categorical column, most frequent first.

    Attributes:
        categories: the labels (JSON scalars), most frequent first; ties keep first appearance.
        counts: training count of each label.
    """

    categories: list[Any]
    counts: list[int]

    @classmethod
    def fit(cls, values: Any) -> "CategoryCodec":
        """Learn the labels of ``values`` (``None``/NaN are left out: missingness is modelled apart)."""
        s = pd.Series(list(values) if not isinstance(values, pd.Series) else values, dtype=object)
        raw = s[s.notna()].value_counts(sort=False)  # equal keys (1, 1.0) are already merged here
        labels = [plain_value(v) for v in raw.index]
        counts = raw.to_numpy(dtype=np.int64)
        order = np.argsort(-counts, kind="stable")
        return cls([_plain(labels[i]) for i in order], [int(counts[i]) for i in order])

    def __len__(self) -> int:
        return len(self.categories)

    @property
    def probabilities(self) -> np.ndarray:
        c = np.asarray(self.counts, dtype=float)
        return c / c.sum() if c.sum() > 0 else c

    def codes(self, values: Any) -> np.ndarray:
        """Integer codes; missing and unseen labels get ``len(self)``."""
        s = pd.Series(list(values) if not isinstance(values, pd.Series) else values, dtype=object)
        # hash lookup: 1, 1.0 and np.int64(1) are equal keys; None/NaN and unseen labels find nothing
        index = pd.Index(self.categories, dtype=object)
        lookup = pd.Series(np.arange(len(self.categories), dtype=np.float64), index=index)
        codes = s.map(lookup).to_numpy(dtype=np.float64)
        return np.where(np.isnan(codes), len(self.categories), codes).astype(np.int64)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Labels of ``codes`` as an object array (``None`` for codes out of range)."""
        table = np.empty(len(self.categories) + 1, dtype=object)
        table[: len(self.categories)] = self.categories
        table[-1] = None
        codes = np.asarray(codes, dtype=np.int64)
        return table[np.where((codes >= 0) & (codes < len(self.categories)), codes, len(self.categories))]

    def to_state(self) -> dict[str, Any]:
        return {"categories": self.categories, "counts": self.counts}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "CategoryCodec":
        return cls(list(state["categories"]), [int(c) for c in state["counts"]])


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def interval_scores(codes: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, float]:
    """Normal scores of a discrete column by the ordered-interval trick.

    Category ``k`` owns the slice ``(c_k, c_{k+1})`` of (0, 1), ``c`` the cumulative
    frequencies; its score is ``E[Z | Phi(Z) in slice]``. Returns the scores and
    their standard deviation, which is the correlation between the score and the
    latent normal (used to undo the attenuation of correlations by discreteness).
    """
    cum = np.concatenate([[0.0], np.cumsum(probabilities)])
    cum[-1] = 1.0
    lo, hi = ndtri(np.clip(cum[:-1], 0, 1)), ndtri(np.clip(cum[1:], 0, 1))
    mass = np.diff(cum)
    pdf_lo = np.where(np.isfinite(lo), np.exp(-0.5 * np.where(np.isfinite(lo), lo, 0.0) ** 2), 0.0)
    pdf_hi = np.where(np.isfinite(hi), np.exp(-0.5 * np.where(np.isfinite(hi), hi, 0.0) ** 2), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(mass > 0, (pdf_lo - pdf_hi) / np.sqrt(2 * np.pi) / np.where(mass > 0, mass, 1.0), 0.0)
    spread = float(np.sqrt(max((mass * means**2).sum(), 0.0)))
    return means[np.asarray(codes, dtype=np.int64)], spread


def normal_scores(values: np.ndarray) -> np.ndarray:
    """``Phi^-1((rank - 1/2) / n)`` with average ranks for ties (NaN stays NaN)."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = ~np.isnan(v)
    n = int(ok.sum())
    if n == 0:
        return out
    ranks = pd.Series(v[ok]).rank(method="average").to_numpy()
    out[ok] = ndtri((ranks - 0.5) / n)
    return out


def quantile_grid(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The empirical quantile function on ``min(k, n)`` evenly spaced probabilities.

    Returns ``(probabilities, quantiles)``; ``np.interp(u, probabilities, quantiles)``
    inverts it. Probabilities are the plotting positions ``(i - 1/2) / n`` of the
    order statistics when the grid has every value, evenly spaced otherwise.
    """
    v = np.sort(np.asarray(values, dtype=float))
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        raise ValueError("no values to learn a marginal from")
    if n <= k:
        return (np.arange(n) + 0.5) / n, v
    probs = (np.arange(k) + 0.5) / k
    return probs, np.quantile(v, probs)


def from_uniform(u: np.ndarray, probabilities: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Read uniforms through a quantile grid with linear interpolation."""
    return np.interp(u, probabilities, quantiles)


def to_uniform(z: np.ndarray) -> np.ndarray:
    """``Phi(z)`` kept inside (EPS, 1 - EPS)."""
    return np.clip(ndtr(z), EPS, 1 - EPS)


#: Timestamp resolutions tried by :func:`datetime_step`, coarsest first (nanoseconds).
_STEPS_NS = (86_400e9, 3_600e9, 60e9, 1e9, 1e6)


def datetime_step(ns: np.ndarray) -> float:
    """The coarsest of day/hour/minute/second/millisecond that every timestamp is a multiple of (0: none)."""
    v = np.asarray(ns, dtype=float)
    v = v[~np.isnan(v)]
    as_int = v.astype(np.int64)
    for step in _STEPS_NS:
        if np.all(as_int % int(step) == 0):
            return step
    return 0.0


def round_to_step(ns: np.ndarray, step: float) -> np.ndarray:
    """Round float nanoseconds to a multiple of ``step`` (unchanged when ``step`` is 0)."""
    if not step:
        return ns
    return np.round(np.asarray(ns, dtype=float) / step) * step
