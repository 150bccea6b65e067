"""Average treatment effects on a tabular outcome: standardization, IPW and AIPW, with intervals.

* ``standardization`` (the parametric g-formula): an outcome model per arm, ``E[Y | x, a]``,
  averaged over everyone's covariates; the effect is ``mean(mu_1(x) - mu_0(x))``.
* ``ipw``: inverse probability weighting with a propensity model ``e(x)``; stabilized
  weights ``P(A=a) / P(A=a | x)`` and the weighted (Hajek) mean of each arm, as in
  Hernán & Robins, *Causal Inference: What If*, ch. 12. Besides the bootstrap, a robust
  (sandwich) standard error that treats the weights as known (conservative).
* ``aipw``: the doubly-robust estimator (outcome models plus weights), with its
  influence-function standard error.

Every method gives a percentile **bootstrap** interval (the models refitted on
``n_boot`` resamples of the rows); ``ci`` is that interval unless ``n_boot`` is 0, when
the normal interval of the robust standard error is used. Propensities are clipped to
``[clip, 1 - clip]``.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(2000, 1))
    >>> t = (rng.uniform(size=2000) < 1 / (1 + np.exp(-x[:, 0]))).astype(int)
    >>> y = 2 * x[:, 0] + 1.5 * t + rng.normal(size=2000)
    >>> r = average_effect(x, t, y, method="ipw", n_boot=50, seed=0)
    >>> bool(r.ci[0] < 1.5 < r.ci[1])
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError
from hygeia.twin._effects import _as_matrix

__all__ = ["METHODS", "AverageEffect", "average_effect"]

#: The estimators :func:`average_effect` offers.
METHODS = ("standardization", "ipw", "aipw")


@dataclass(frozen=True)
class AverageEffect:
    """An average treatment effect (treated minus control) with its interval.

    Attributes:
        estimate: the point estimate.
        ci: ``(low, high)``, the ``1 - alpha`` interval (bootstrap percentile, or normal from ``se``).
        se: the standard error (bootstrap SD, or the robust one when ``n_boot`` is 0).
        robust_se: the sandwich / influence-function standard error (``None`` for standardization).
        method: ``standardization``, ``ipw`` or ``aipw``.
        arms: ``(control, treated)``.
        means: the estimated mean outcome under each arm.
        n: rows used; ``n_boot``: bootstrap resamples; ``alpha``: the interval's level.
    """

    estimate: float
    ci: tuple[float, float]
    se: float
    robust_se: float | None
    method: str
    arms: tuple[Any, Any]
    means: tuple[float, float]
    n: int
    n_boot: int
    alpha: float
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {"estimate": self.estimate, "ci": list(self.ci), "se": self.se, "robust_se": self.robust_se,
                "method": self.method, "arms": [str(a) for a in self.arms], "means": list(self.means), "n": self.n,
                "n_boot": self.n_boot, "alpha": self.alpha, "seed": self.seed, **self.extra}


def _estimate(method: str, X: np.ndarray, t: np.ndarray, y: np.ndarray, outcome: Any, propensity: Any,
              clip: float) -> tuple[float, float, float, float | None]:
    """``(effect, mean_0, mean_1, robust_se)`` for one data set."""
    n = len(y)
    if method in ("standardization", "aipw"):
        mu = np.column_stack([clone(outcome).fit(X[t == k], y[t == k]).predict(X) for k in (0, 1)])
    if method in ("ipw", "aipw"):
        e = np.clip(clone(propensity).fit(X, t).predict_proba(X)[:, 1], clip, 1 - clip)
    if method == "standardization":
        m0, m1 = float(mu[:, 0].mean()), float(mu[:, 1].mean())
        return m1 - m0, m0, m1, None
    if method == "ipw":
        p1 = t.mean()
        w = np.where(t == 1, p1 / e, (1 - p1) / (1 - e))
        m1 = float(np.sum(w * y * t) / np.sum(w * t))
        m0 = float(np.sum(w * y * (1 - t)) / np.sum(w * (1 - t)))
        # sandwich of the weighted regression y ~ 1 + t (weights taken as known)
        design = np.column_stack([np.ones(n), t])
        resid = y - np.where(t == 1, m1, m0)
        bread = np.linalg.inv(design.T @ (w[:, None] * design))
        meat = design.T @ ((w * resid)[:, None] ** 2 * design)
        cov = bread @ meat @ bread
        return m1 - m0, m0, m1, float(math.sqrt(cov[1, 1]))
    phi1 = mu[:, 1] + t * (y - mu[:, 1]) / e
    phi0 = mu[:, 0] + (1 - t) * (y - mu[:, 0]) / (1 - e)
    phi = phi1 - phi0
    return float(phi.mean()), float(phi0.mean()), float(phi1.mean()), float(phi.std(ddof=1) / math.sqrt(n))


def average_effect(X: Any, treatment: Any, y: Any, *, method: str = "standardization", outcome_model: Any = None,
                   propensity_model: Any = None, clip: float = 0.01, n_boot: int = 200, alpha: float = 0.05,
                   control: Any = None, seed: int | None = None) -> AverageEffect:
    """The average effect of the treated arm against the control arm.

    Args:
        X: covariates (frame or 2-D array; every column numeric).
        treatment: one of two arm labels per row.
        y: outcome per row.
        method: one of :data:`METHODS`.
        outcome_model: regressor fitted per arm (default linear regression).
        propensity_model: classifier with ``predict_proba`` (default unpenalized logistic regression on
            standardized columns).
        clip: propensities are clipped to ``[clip, 1 - clip]``.
        n_boot: bootstrap resamples (0: the robust normal interval, for ``ipw`` and ``aipw``).
        alpha: ``0.05`` gives a 95% interval.
        control: the control arm's label (default the first in sorted order).
        seed: the bootstrap's seed (``None``: fresh; the one used is in ``seed`` of the result).

    Raises:
        ConfigError: an unknown method, a bad ``alpha``/``clip``/``n_boot``, or ``n_boot=0`` with standardization.
        DataValidationError: mismatched lengths, missing values, not two arms.
    """
    if method not in METHODS:
        raise ConfigError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha {alpha!r} must lie in (0, 1); 0.05 gives a 95% interval")
    if not 0 <= clip < 0.5:
        raise ConfigError(f"clip {clip!r} must lie in [0, 0.5); 0.01 is usual")
    if n_boot < 0 or (n_boot == 0 and method == "standardization"):
        raise ConfigError(f"n_boot {n_boot} is not usable with {method}; standardization needs n_boot >= 1 "
                          f"(200 is usual)")
    Xa = _as_matrix(X, list(map(str, X.columns)) if isinstance(X, pd.DataFrame) else None)
    ta = np.asarray(treatment).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if not (len(Xa) == len(ta) == len(ya)):
        raise DataValidationError([f"X has {len(Xa)} rows, treatment {len(ta)} and y {len(ya)}; give one "
                                   f"treatment and one outcome per row"])
    if not np.all(np.isfinite(ya)):
        raise DataValidationError([f"y: {int((~np.isfinite(ya)).sum())} missing or infinite outcome(s); drop them"])
    arms = sorted(pd.unique(ta).tolist(), key=lambda v: (str(type(v)), v))
    if len(arms) != 2:
        raise DataValidationError([f"treatment: {len(arms)} distinct value(s) {arms[:5]!r}; give two arms"])
    if control is not None:
        if control not in arms:
            raise ConfigError(f"control {control!r} is not one of the treatment's values {arms!r}")
        arms = [control] + [a for a in arms if a != control]
    t = (ta == arms[1]).astype(float)
    outcome = outcome_model if outcome_model is not None else LinearRegression()
    propensity = (propensity_model if propensity_model is not None
                  else make_pipeline(StandardScaler(), LogisticRegression(C=np.inf, max_iter=5000)))
    est, m0, m1, robust = _estimate(method, Xa, t, ya, outcome, propensity, clip)
    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(ya), len(ya))
        if t[idx].min() == t[idx].max():
            continue
        boots.append(_estimate(method, Xa[idx], t[idx], ya[idx], outcome, propensity, clip)[0])
    if boots:
        se = float(np.std(boots, ddof=1))
        ci = (float(np.quantile(boots, alpha / 2)), float(np.quantile(boots, 1 - alpha / 2)))
    else:
        se = float(robust)
        z = stats.norm.ppf(1 - alpha / 2)
        ci = (est - z * se, est + z * se)
    return AverageEffect(float(est), ci, se, robust, method, (arms[0], arms[1]), (m0, m1), len(ya), len(boots),
                         alpha, seed)
