"""Gaussian copula: marginals learned per column, dependence as one correlation matrix.

Each modelled column becomes one or two *dimensions* of a latent standard
normal vector:

* a column with missing values gets a missing-indicator dimension, so that
  missingness correlates with everything else (in flchain, ``chapter`` is
  present almost only when ``death`` is 1);
* its values get a dimension: **continuous** numbers and datetimes through their
  empirical quantile function on a grid of ``max_quantiles`` points, read back
  with linear interpolation (samples fall between quantiles and are rounded to
  the decimals the data shows), or a parametric marginal (``marginal="normal"``,
  ``"lognormal"``, ``"uniform"``); **discrete** columns (labels, and whole
  numbers with at most ``discrete_max`` distinct values) through the
  ordered-interval trick: each value owns a slice of (0, 1) as wide as its
  frequency (labels most frequent first, numbers in order), so frequencies are
  reproduced exactly in expectation.

The correlation matrix is estimated on normal scores (rank-based for continuous
dimensions, interval means for discrete ones, divided by their spread to undo
the attenuation by discreteness), pairwise over rows where both are present,
then projected to the nearest valid correlation matrix with eigenvalues at
least ``min_eigenvalue`` (shrinkage toward the identity when near-singular).

High-cardinality labels (a code column with 10,000 distinct values) cost one
dimension and one frequency per label; a label seen once in training can be
sampled (with its training frequency), so drop or coarsen identifying codes
before fitting.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> df = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(scale=0.3, size=400), "g": np.where(x > 0, "hi", "lo")})
    >>> syn = GaussianCopula().fit(df).sample(2000, seed=1)
    >>> round(float(np.corrcoef(syn["x"], syn["y"])[0, 1]), 1)
    1.0
    >>> bool((syn.loc[syn["x"] > 0.5, "g"] == "hi").mean() > 0.9)
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from hygeia.core.generator import register_generator
from hygeia.errors import ConfigError
from hygeia.tabular._base import TabularGenerator
from hygeia.tabular._marginals import (
    CategoryCodec,
    from_uniform,
    interval_scores,
    normal_scores,
    datetime_step,
    quantile_grid,
    round_to_step,
    to_uniform,
)
from hygeia.tabular.metadata import Metadata

__all__ = ["GaussianCopula", "MARGINALS"]

#: Marginal families for continuous columns.
MARGINALS = ("empirical", "normal", "lognormal", "uniform")


@register_generator("tabular.copula")
class GaussianCopula(TabularGenerator):
    """Gaussian copula over empirical (or parametric) marginals, missingness included.

    Args:
        marginal: family of the continuous marginals, one of :data:`MARGINALS`.
        max_quantiles: points of the empirical quantile grid kept per continuous column.
        discrete_max: whole-number columns with at most this many distinct values are
            sampled as discrete values (exact frequencies).
        min_eigenvalue: smallest eigenvalue allowed in the correlation matrix.
    """

    spec_version = 1

    def __init__(
        self,
        *,
        marginal: str = "empirical",
        max_quantiles: int = 1000,
        discrete_max: int = 25,
        min_eigenvalue: float = 1e-3,
    ) -> None:
        self.marginal = marginal
        self.max_quantiles = max_quantiles
        self.discrete_max = discrete_max
        self.min_eigenvalue = min_eigenvalue

    def _check_params(self) -> None:
        problems = []
        if self.marginal not in MARGINALS:
            problems.append(f"marginal must be one of {MARGINALS}; got {self.marginal!r}")
        if isinstance(self.max_quantiles, bool) or not isinstance(self.max_quantiles, int) or self.max_quantiles < 2:
            problems.append(f"max_quantiles must be an integer >= 2; got {self.max_quantiles!r}")
        if isinstance(self.discrete_max, bool) or not isinstance(self.discrete_max, int) or self.discrete_max < 0:
            problems.append(f"discrete_max must be a non-negative integer; got {self.discrete_max!r}")
        if not isinstance(self.min_eigenvalue, (int, float)) or not 0 <= self.min_eigenvalue < 1:
            problems.append(f"min_eigenvalue must be in [0, 1); got {self.min_eigenvalue!r}")
        if problems:
            raise ConfigError("invalid GaussianCopula parameters: " + "; ".join(problems))

    # -- fit ------------------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame, meta: Metadata) -> None:
        self._check_params()
        dims: list[dict[str, Any]] = []
        scores: list[np.ndarray] = []
        spreads: list[float] = []
        arrays: dict[str, np.ndarray] = {}
        for spec in meta.modelled:
            col = df[spec.name]
            present = col.notna().to_numpy()
            if not present.all():
                codes = (~present).astype(np.int64)  # 0 present, 1 missing
                probs = np.bincount(codes, minlength=2) / len(codes)
                s, a = interval_scores(codes, probs)
                dims.append({"column": spec.name, "role": "missing", "kind": "discrete", "labels": [False, True]})
                arrays[f"{len(dims) - 1}.probs"] = probs
                scores.append(s)
                spreads.append(a)
            score = np.full(len(col), np.nan)
            if spec.type == "categorical":
                codec = CategoryCodec.fit(col)
                codes = codec.codes(col)
                s, a = interval_scores(codes[present], codec.probabilities)
                dims.append({"column": spec.name, "role": "value", "kind": "label", "codec": codec.to_state()})
                arrays[f"{len(dims) - 1}.probs"] = codec.probabilities
            else:
                v = col.to_numpy(dtype=float)[present]
                uniq, counts = np.unique(v, return_counts=True)
                whole = bool(np.all(uniq == np.round(uniq)))
                if (whole and len(uniq) <= self.discrete_max) or len(uniq) == 1:
                    probs = counts / counts.sum()
                    s, a = interval_scores(np.searchsorted(uniq, v), probs)
                    dims.append({"column": spec.name, "role": "value", "kind": "discrete"})
                    arrays[f"{len(dims) - 1}.probs"] = probs
                    arrays[f"{len(dims) - 1}.values"] = uniq
                else:
                    s, a = normal_scores(v), 1.0
                    dim = {"column": spec.name, "role": "value", "kind": "continuous", "marginal": self.marginal}
                    dims.append(dim)
                    k = len(dims) - 1
                    if self.marginal == "empirical":
                        arrays[f"{k}.probs"], arrays[f"{k}.quantiles"] = quantile_grid(v, self.max_quantiles)
                    else:
                        dim["dist"] = _fit_parametric(self.marginal, v)
            if spec.type == "datetime":
                dims[-1]["step"] = datetime_step(col.to_numpy(dtype=float))
            score[present] = s
            scores.append(score)
            spreads.append(a)
        self.dims_ = dims
        self.arrays_ = arrays
        # small matrices: one BLAS thread avoids oversubscription stalls on busy machines
        with threadpool_limits(limits=1, user_api="blas"):
            self.correlation_ = _correlation(np.column_stack(scores), np.asarray(spreads), float(self.min_eigenvalue))
        self._prepare()

    def _prepare(self) -> None:
        w, v = np.linalg.eigh(self.correlation_)
        self._factor = v * np.sqrt(np.clip(w, 0, None))
        labels = [(i, d) for i, d in enumerate(self.dims_) if d["kind"] == "label"]
        self._codecs = {i: CategoryCodec.from_state(d["codec"]) for i, d in labels}

    # -- sample ---------------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        z = rng.standard_normal((n, len(self.dims_))) @ self._factor.T
        u = to_uniform(z)
        columns: dict[str, Any] = {}
        missing: dict[str, np.ndarray] = {}
        for i, dim in enumerate(self.dims_):
            name = dim["column"]
            if dim["role"] == "missing":
                missing[name] = _discrete(u[:, i], self.arrays_[f"{i}.probs"]) == 1
                continue
            if dim["kind"] == "label":
                values = self._codecs[i].decode(_discrete(u[:, i], self.arrays_[f"{i}.probs"]))
            elif dim["kind"] == "discrete":
                values = self.arrays_[f"{i}.values"][_discrete(u[:, i], self.arrays_[f"{i}.probs"])]
            elif dim["marginal"] == "empirical":
                values = from_uniform(u[:, i], self.arrays_[f"{i}.probs"], self.arrays_[f"{i}.quantiles"])
            else:
                values = _parametric_ppf(dim["dist"], u[:, i])
            if dim.get("step"):
                values = round_to_step(values, dim["step"])
            if name in missing:
                values = values.astype(object) if dim["kind"] == "label" else values.astype(float)
                values[missing[name]] = None if dim["kind"] == "label" else np.nan
            columns[name] = values
        return pd.DataFrame(columns)

    # -- state ----------------------------------------------------------------------------------
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"dims": self.dims_}, {**self.arrays_, "correlation": self.correlation_}

    def _set_model_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.dims_ = list(state["dims"])
        self.correlation_ = np.asarray(arrays["correlation"], dtype=float)
        self.arrays_ = {k: v for k, v in arrays.items() if k != "correlation"}
        self._prepare()


def _discrete(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Index of the slice of (0, 1) that holds each uniform."""
    cum = np.cumsum(probs)
    cum[-1] = 1.0
    return np.minimum(np.searchsorted(cum, u, side="right"), len(probs) - 1)


def _correlation(scores: np.ndarray, spreads: np.ndarray, min_eigenvalue: float) -> np.ndarray:
    """Pairwise-complete correlation of the scores, corrected for discreteness, made valid."""
    d = scores.shape[1]
    ok = ~np.isnan(scores)
    x = np.where(ok, scores, 0.0)
    okf = ok.astype(float)
    both = okf.T @ okf
    with np.errstate(divide="ignore", invalid="ignore"):
        sum_x = x.T @ okf  # sum of x_i over rows where j is present
        sum_xx = (x * x).T @ okf
        mean_i, mean_j = sum_x / both, (sum_x / both).T
        cov = (x.T @ x) / both - mean_i * mean_j
        var_i = sum_xx / both - mean_i**2
        corr = cov / np.sqrt(var_i * var_i.T)
        scale = np.outer(spreads, spreads)
        corr = np.where(scale > 1e-12, corr / scale, 0.0)
    corr = np.where(np.isfinite(corr) & (both >= 3), corr, 0.0)
    corr = np.clip((corr + corr.T) / 2, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return _nearest_correlation(corr, min_eigenvalue) if d > 1 else corr


def _nearest_correlation(corr: np.ndarray, min_eigenvalue: float) -> np.ndarray:
    """Clip eigenvalues to ``min_eigenvalue`` and rescale to a unit diagonal (repeated until stable)."""
    for _ in range(20):
        w, v = np.linalg.eigh(corr)
        if w.min() >= min_eigenvalue * (1 - 1e-6):
            break
        corr = (v * np.clip(w, min_eigenvalue, None)) @ v.T
        d = np.sqrt(np.diag(corr))
        corr = corr / np.outer(d, d)
        np.fill_diagonal(corr, 1.0)
    else:  # shrink toward the identity until valid
        lam = 0.0
        w = np.linalg.eigvalsh(corr)
        while w.min() < min_eigenvalue and lam < 1:
            lam = min(1.0, lam + 0.05)
            w = np.linalg.eigvalsh((1 - lam) * corr + lam * np.eye(len(corr)))
        corr = (1 - lam) * corr + lam * np.eye(len(corr))
    return corr


def _fit_parametric(family: str, v: np.ndarray) -> dict[str, Any]:
    lo, hi = float(v.min()), float(v.max())
    if family == "normal":
        return {"family": "normal", "loc": float(v.mean()), "scale": float(v.std()) or 1.0}
    if family == "uniform":
        return {"family": "uniform", "loc": lo, "scale": (hi - lo) or 1.0}
    shift = lo - 1e-6 * max(1.0, abs(hi - lo))  # lognormal of v - shift (> 0)
    logs = np.log(v - shift)
    return {"family": "lognormal", "shift": shift, "mu": float(logs.mean()), "sigma": float(logs.std()) or 1.0}


def _parametric_ppf(dist: dict[str, Any], u: np.ndarray) -> np.ndarray:
    if dist["family"] == "normal":
        return stats.norm.ppf(u, loc=dist["loc"], scale=dist["scale"])
    if dist["family"] == "uniform":
        return stats.uniform.ppf(u, loc=dist["loc"], scale=dist["scale"])
    return dist["shift"] + np.exp(dist["mu"] + dist["sigma"] * stats.norm.ppf(u))
