"""The parts of the sequence model: regressions, visit columns and the subject encoder.

:mod:`hygeia.tabular.sequence` composes them; see its documentation for the method.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr, ndtri

from hygeia.tabular._base import to_model_frame
from hygeia.tabular._marginals import (
    interval_scores,
    normal_scores,
    quantile_grid,
)
from hygeia.tabular.metadata import Metadata, to_utc_naive
from hygeia.tabular._marginals import plain_value as _label

#: Points kept of each visit column's quantile function.
_GRID = 256
#: Numeric visit columns with at most this many distinct values are sampled as discrete values.
_DISCRETE_MAX = 20
#: Static labels one-hot encoded as inputs of the visit model (most frequent first).
_MAX_ONEHOT = 20
_EPS = 1e-9


# -- helpers ------------------------------------------------------------------------------------
def _fresh(name: str, taken: set[str]) -> str:
    while name in taken:
        name = "_" + name
    return name


def _lagged(Z: np.ndarray, observed: np.ndarray, subj: np.ndarray, first: np.ndarray):
    """Previous observed score (carried forward, 0 before any), whether there is one, previous missingness."""
    prev = pd.DataFrame(np.where(observed, Z, np.nan)).groupby(subj).shift(1)
    locf = prev.groupby(subj).ffill().to_numpy()
    has = ~np.isnan(locf)
    missing_cols = [j for j in range(Z.shape[1]) if not observed[:, j].all()]
    missprev = np.roll(~observed[:, missing_cols], 1, axis=0).astype(float)
    missprev[first] = 0.0
    return np.nan_to_num(locf), has.astype(float), missprev


def _time_inputs(t, tprev, t0, F, t_last, tscale, has_end) -> np.ndarray:
    """Time since entry, share of the follow-up (or of the visit span) elapsed, time since the previous visit."""
    elapsed = t - t0
    denom = (F - t0) if has_end else (t_last - t0)
    share = np.where(denom > 0, elapsed / np.where(denom > 0, denom, 1.0), 0.0)
    return np.column_stack([np.log1p(elapsed / tscale), share, np.log1p((t - tprev) / tscale)])


class _Arrays:
    """Saved as the named arrays of its dataclass fields."""

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_{f.name}": getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> Any:
        return cls(*(np.asarray(arrays[f"{prefix}_{f.name}"], float) for f in fields(cls)))


@dataclass
class _Linear(_Arrays):
    """Ridge regression on standardized inputs with a joint Gaussian residual (Cholesky factor)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    chol: np.ndarray

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt((self.chol**2).sum(axis=1))

    @classmethod
    def empty(cls, p: int, v: int) -> "_Linear":
        return cls(np.zeros(p), np.ones(p), np.zeros((p + 1, v)), np.eye(v))

    @classmethod
    def fit(cls, X: np.ndarray, Y: np.ndarray, ridge: float) -> "_Linear":
        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        Xa = np.column_stack([np.ones(len(X)), (X - mean) / scale])
        penalty = ridge * np.eye(Xa.shape[1])
        penalty[0, 0] = 0.0
        coef = np.zeros((Xa.shape[1], Y.shape[1]))
        resid = np.full(Y.shape, np.nan)
        for j in range(Y.shape[1]):
            ok = ~np.isnan(Y[:, j])
            if ok.sum() == 0:
                continue
            A = Xa[ok].T @ Xa[ok] + penalty + 1e-9 * np.eye(Xa.shape[1])
            coef[:, j] = np.linalg.solve(A, Xa[ok].T @ Y[ok, j])
            resid[ok, j] = Y[ok, j] - Xa[ok] @ coef[:, j]
        return cls(mean, scale, coef, _chol(resid))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.coef[0] + ((X - self.mean) / self.scale) @ self.coef[1:]



def _chol(resid: np.ndarray) -> np.ndarray:
    """Cholesky factor of the residual covariance (pairwise over rows where both are observed, made positive definite)."""
    if resid.shape[1] == 0:
        return np.zeros((0, 0))
    cov = pd.DataFrame(resid).cov(min_periods=2).to_numpy()
    cov = np.where(np.isnan(cov), np.eye(len(cov)), cov)
    w, U = np.linalg.eigh((cov + cov.T) / 2)
    w = np.maximum(w, 1e-6 * max(float(w.max()), 1e-12))
    return np.linalg.cholesky((U * w) @ U.T)


@dataclass
class _Logistic(_Arrays):
    """L2-penalized logistic regression fitted by Newton's method."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, ridge: float, iters: int = 50) -> "_Logistic":
        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        Xa = np.column_stack([np.ones(len(X)), (X - mean) / scale])
        penalty = ridge * np.eye(Xa.shape[1])
        penalty[0, 0] = 1e-6
        w = np.zeros(Xa.shape[1])
        p0 = np.clip(y.mean(), 1e-4, 1 - 1e-4)
        w[0] = np.log(p0 / (1 - p0))

        def loss(w: np.ndarray) -> float:
            eta = Xa @ w
            return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * w @ penalty @ w)

        current = loss(w)
        for _ in range(iters):
            p = expit(Xa @ w)
            grad = Xa.T @ (p - y) + penalty @ w
            hess = (Xa * (p * (1 - p))[:, None]).T @ Xa + penalty
            delta = np.linalg.solve(hess, grad)
            step = 1.0
            while step > 1e-4 and loss(w - step * delta) > current:  # damped Newton: never increase the loss
                step /= 2
            w = w - step * delta
            new = loss(w)
            if current - new < 1e-10 * max(1.0, abs(current)):
                break
            current = new
        return cls(mean, scale, w)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return expit(self.coef[0] + ((X - self.mean) / self.scale) @ self.coef[1:])


class _VisitColumn:
    """One visit-level column: its normal scores, and the calibrated way back from scores to values.

    ``kind`` is ``continuous`` (numbers through a quantile grid), ``discrete`` (few distinct
    numbers) or ``label`` (categories in the metadata's order); discrete kinds use interval means.
    """

    def __init__(self, name: str, kind: str, values: list[Any], probs: np.ndarray, quantiles: np.ndarray) -> None:
        self.name, self.kind, self.values = name, kind, values
        self.probs, self.quantiles = probs, quantiles
        self.sim = np.zeros(0)
        self.latent = np.zeros(0)

    @classmethod
    def fit(cls, name: str, s: pd.Series, ctype: str) -> "_VisitColumn":
        present = s.notna().to_numpy()
        if ctype in ("numeric", "datetime"):
            x = s.to_numpy(dtype=float)
            uniq = np.unique(x[present])
            if len(uniq) > _DISCRETE_MAX:
                probs, q = quantile_grid(x[present], _GRID)
                col = cls(name, "continuous", [], probs, q)
                col.latent = normal_scores(x)
                return col
            values: list[Any] = uniq.tolist()
            codes = np.searchsorted(uniq, np.where(present, x, uniq[0]))
            kind = "discrete"
        else:
            values = list(pd.unique(s[present]))
            try:
                values = sorted(values)
            except TypeError:
                values = sorted(values, key=lambda v: (type(v).__name__, str(v)))
            values = [v.item() if isinstance(v, np.generic) else v for v in values]
            lookup = {v: i for i, v in enumerate(values)}
            codes = np.array([lookup[v] if ok else 0 for v, ok in zip(s, present)], dtype=np.int64)
            kind = "label"
        counts = np.bincount(codes[present], minlength=len(values)).astype(float)
        col = cls(name, kind, values, counts / counts.sum(), np.zeros(0))
        scores, _ = interval_scores(codes, col.probs)
        col.latent = np.where(present, scores, np.nan)
        return col

    @property
    def _means(self) -> np.ndarray:
        return interval_scores(np.arange(len(self.values)), self.probs)[0]

    def calibrate(self, pred: np.ndarray, sd: np.ndarray) -> None:
        """Quantiles of the model's predictive scores over the training visits (a Gaussian mixture)."""
        ok = ~np.isnan(self.latent)
        mu, s = pred[ok], np.maximum(sd[ok], 1e-6)
        grid = np.linspace(mu.min() - 6 * s.max(), mu.max() + 6 * s.max(), 1024)
        cdf = np.zeros_like(grid)
        for chunk in np.array_split(np.arange(len(mu)), max(1, len(mu) // 2000)):
            cdf += ndtr((grid[:, None] - mu[chunk]) / s[chunk]).sum(axis=1)
        cdf /= len(mu)
        cdf = np.maximum.accumulate(cdf) + np.arange(len(grid)) * 1e-12
        targets = self.probs if self.kind == "continuous" else np.cumsum(self.probs)[:-1]
        self.sim = np.interp(targets, cdf, grid)
        self.sim = self.sim + np.arange(len(self.sim)) * 1e-9

    def decode(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values of the scores ``z`` and the scores the values encode to (fed to the next visit)."""
        if self.kind == "continuous":
            u = np.interp(z, self.sim, self.probs)
            return np.interp(u, self.probs, self.quantiles), ndtri(np.clip(u, _EPS, 1 - _EPS))
        codes = np.searchsorted(self.sim, z)
        table = np.empty(len(self.values), dtype=object if self.kind == "label" else float)
        table[:] = self.values
        return table[codes], self._means[codes]

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "values": self.values}

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_probs": self.probs, f"{prefix}_quantiles": self.quantiles, f"{prefix}_sim": self.sim}

    @classmethod
    def from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str) -> "_VisitColumn":
        col = cls(state["name"], state["kind"], list(state["values"]), arrays[f"{prefix}_probs"], arrays[f"{prefix}_quantiles"])
        col.sim = arrays[f"{prefix}_sim"]
        return col


class _StaticEncoder:
    """Subject columns as regression inputs: numbers as normal scores, labels one-hot, missing flags."""

    def __init__(self, items: list[dict[str, Any]], maps: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        self.items, self.maps = items, maps

    @classmethod
    def fit(cls, df: pd.DataFrame, meta: Metadata, numeric: list[str]) -> "_StaticEncoder":
        items, maps = [], {}
        mf = to_model_frame(df, meta)
        for c in meta.modelled:
            s = mf[c.name]
            item: dict[str, Any] = {"name": c.name, "missing": bool(s.isna().any())}
            if c.type in ("numeric", "datetime") or c.name in numeric:
                probs, q = quantile_grid(s.to_numpy(dtype=float), _GRID)  # a grid, not every subject's value
                xs, inverse = np.unique(q, return_inverse=True)
                maps[len(items)] = (xs, np.bincount(inverse, weights=probs) / np.bincount(inverse))
                item["kind"] = "numeric"
            else:
                top = s.dropna().map(_label).value_counts(sort=True).index[:_MAX_ONEHOT].tolist()
                item["kind"], item["categories"] = "onehot", top
            items.append(item)
        return cls(items, maps)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        cols = []
        for i, item in enumerate(self.items):
            s = df[item["name"]]
            if item["kind"] == "numeric":
                if pd.api.types.is_datetime64_any_dtype(s):
                    s = to_utc_naive(s).astype("int64").astype(float).where(s.notna(), np.nan)
                x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                xs, us = self.maps[i]
                u = np.interp(x, xs, us) if len(xs) > 1 else np.full(len(x), 0.5)
                cols.append(np.nan_to_num(ndtri(np.clip(u, 1e-4, 1 - 1e-4))))
                miss = np.isnan(x)
            else:
                labels = s.map(_label)
                cols.extend((labels == c).to_numpy(dtype=float) for c in item["categories"])
                miss = s.isna().to_numpy()
            if item["missing"]:
                cols.append(miss.astype(float))
        return np.column_stack(cols) if cols else np.zeros((len(df), 0))

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {f"enc{i}_{part}": a for i, pair in self.maps.items() for part, a in zip("xu", pair)}
        return {"items": self.items}, arrays

    @classmethod
    def from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> "_StaticEncoder":
        items = [dict(item) for item in state["items"]]
        numeric = [i for i, item in enumerate(items) if item["kind"] == "numeric"]
        return cls(items, {i: (arrays[f"enc{i}_x"], arrays[f"enc{i}_u"]) for i in numeric})


