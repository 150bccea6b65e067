"""A Cox proportional-hazards model: Newton–Raphson on the partial likelihood, Breslow ties.

The log partial likelihood with Breslow's handling of tied event times is

``l(b) = sum over event times t [ sum_{i in D(t)} x_i b - d(t) log sum_{j in R(t)} exp(x_j b) ]``

(``D(t)``: the events at ``t``, ``d(t)`` their number, ``R(t)``: everyone still at risk,
time >= t). :class:`CoxPH` maximizes it by Newton–Raphson with step halving, from
``b = 0``, on centred covariates; standard errors come from the inverse of the observed
information, hazard ratios ``exp(b)`` with Wald intervals. The baseline cumulative hazard
is Breslow's estimator, so :meth:`CoxPH.predict_survival` gives ``S(t | x) = exp(-H0(t)
exp(x b))``, and :meth:`CoxPH.sample_survival` draws curves with ``b`` drawn from its
asymptotic normal distribution (the parameter uncertainty).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 2, (3000, 1)).astype(float)
    >>> time = rng.exponential(1 / np.exp(np.log(0.5) * x[:, 0]))
    >>> event = np.ones(3000, dtype=bool)
    >>> m = CoxPH().fit(x, time, event)
    >>> bool(0.45 < m.hazard_ratios_[0] < 0.55)
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError
from hygeia.twin._effects import _as_matrix

__all__ = ["CoxPH"]


def _partial(X: np.ndarray, beta: np.ndarray, start: np.ndarray, d: np.ndarray, xsum: np.ndarray,
             ) -> tuple[float, np.ndarray, np.ndarray]:
    """Log partial likelihood, gradient and information (Breslow ties).

    ``X`` is sorted by time, ascending; ``start[g]`` is the first row of the g-th distinct event
    time (its risk set is rows ``start[g]:``), ``d[g]`` its number of events, ``xsum[g]`` the
    sum of its events' covariates.
    """
    eta = X @ beta
    w = np.exp(eta - eta.max())
    # reverse cumulative sums give each row's risk-set totals
    s0 = np.cumsum(w[::-1])[::-1][start]
    s1 = np.cumsum((w[:, None] * X)[::-1], axis=0)[::-1][start]
    s2 = np.cumsum((w[:, None, None] * X[:, :, None] * X[:, None, :])[::-1], axis=0)[::-1][start]
    loglik = float(np.sum(xsum @ beta) - np.sum(d * (np.log(s0) + eta.max())))
    mean = s1 / s0[:, None]
    grad = xsum.sum(axis=0) - (d[:, None] * mean).sum(axis=0)
    info = (d[:, None, None] * (s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :])).sum(axis=0)
    return loglik, grad, info


class CoxPH(BaseEstimator):
    """Cox proportional-hazards regression (Breslow ties), fitted by Newton–Raphson.

    Args:
        alpha: the Wald intervals are ``1 - alpha`` (0.05: 95%).
        max_iter: Newton steps at most.
        tol: stop when the log partial likelihood changes by less than this.

    Attributes (after ``fit``):
        coef_, se_: log hazard ratios and their standard errors.
        hazard_ratios_, ci_: ``exp(coef_)`` and the Wald interval of each, shape ``(p, 2)``.
        p_values_: two-sided Wald p-values.
        cov_: covariance of ``coef_`` (the inverse information).
        loglik_, n_iter_: the maximized log partial likelihood and the steps taken.
        baseline_times_, baseline_cumhazard_: Breslow's ``H0`` at the distinct event times (at
            the covariates' means, ``mean_``).
        feature_names_in_: column names when a frame was given.
    """

    def __init__(self, *, alpha: float = 0.05, max_iter: int = 50, tol: float = 1e-10) -> None:
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, time: Any, event: Any) -> CoxPH:
        """Fit on covariates ``X``, follow-up ``time`` and ``event`` (True: the event, False: censored).

        Raises:
            DataValidationError: mismatched lengths, missing values, negative times, no events.
            ConfigError: when Newton–Raphson does not converge (a covariate separates the events).
        """
        names = list(map(str, X.columns)) if isinstance(X, pd.DataFrame) else None
        Xa = _as_matrix(X, names)
        t = np.asarray(time, dtype=float).ravel()
        e = np.asarray(event).ravel().astype(bool)
        if not (len(Xa) == len(t) == len(e)):
            raise DataValidationError([f"X has {len(Xa)} rows, time {len(t)} and event {len(e)}; give one of "
                                       f"each per row"])
        if not np.all(np.isfinite(t)) or (t < 0).any():
            raise DataValidationError(["time: missing, infinite or negative follow-up times; give durations >= 0"])
        if not e.any():
            raise DataValidationError(["event: no events among the rows; a Cox model needs at least one"])
        self.feature_names_in_ = names
        self.n_features_in_ = Xa.shape[1]
        self.mean_ = Xa.mean(axis=0)
        order = np.argsort(t, kind="stable")
        Xs, ts, es = Xa[order] - self.mean_, t[order], e[order]
        times = np.unique(ts[es])
        start = np.searchsorted(ts, times, side="left")
        d = np.array([np.sum(es & (ts == u)) for u in times], dtype=float)
        xsum = np.array([Xs[es & (ts == u)].sum(axis=0) for u in times])
        beta = np.zeros(Xs.shape[1])
        loglik, grad, info = _partial(Xs, beta, start, d, xsum)
        self.loglik_null_ = loglik
        for it in range(1, self.max_iter + 1):
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                raise ConfigError("the Cox information matrix is singular: a covariate is constant or a copy of "
                                  "another; drop it") from None
            scale = 1.0
            while True:
                new = beta + scale * step
                ll_new, g_new, i_new = _partial(Xs, new, start, d, xsum)
                if np.isfinite(ll_new) and ll_new >= loglik - 1e-12:
                    break
                scale /= 2
                if scale < 1e-8:
                    raise ConfigError("Newton–Raphson on the Cox partial likelihood cannot improve; a covariate "
                                      "may separate the events (all events in one group): drop or merge it")
            converged = abs(ll_new - loglik) < self.tol
            beta, loglik, grad, info = new, ll_new, g_new, i_new
            if converged:
                break
        else:
            raise ConfigError(f"Newton–Raphson did not converge in {self.max_iter} steps (a hazard ratio may be "
                              f"infinite: a covariate separates the events); drop it or raise max_iter")
        # on the standard-deviation scale, |b| > 10 (a hazard ratio above 20,000 per SD) or a standard error
        # above 50 means the likelihood keeps rising towards infinity: monotone likelihood, not an estimate
        sd = Xs.std(axis=0)
        spread = np.abs(beta) * sd + np.sqrt(np.abs(np.diag(np.linalg.pinv(info)))) * sd / 5
        if not np.all(np.isfinite(beta)) or np.any(spread > 10):
            worst = int(np.argmax(spread))
            label = names[worst] if names else f"column {worst}"
            raise ConfigError(f"the Cox fit diverges along {label} (hazard ratio {np.exp(beta[worst]):.3g}): it "
                              f"separates the events (all events in one group); drop or merge it")
        self.n_iter_ = it
        self.coef_ = beta
        self.loglik_ = loglik
        self.cov_ = np.linalg.inv(info)
        self.se_ = np.sqrt(np.diag(self.cov_))
        z = stats.norm.ppf(1 - self.alpha / 2)
        self.hazard_ratios_ = np.exp(beta)
        self.ci_ = np.exp(np.column_stack([beta - z * self.se_, beta + z * self.se_]))
        self.p_values_ = 2 * stats.norm.sf(np.abs(beta / self.se_))
        # Breslow's baseline cumulative hazard (covariates centred at their means)
        risk = np.exp(Xs @ beta)
        at_risk = np.cumsum(risk[::-1])[::-1][start]
        self.baseline_times_ = times
        self.baseline_cumhazard_ = np.cumsum(d / at_risk)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ConfigError("this CoxPH is not fitted yet; call fit(X, time, event) first")

    def summary(self) -> pd.DataFrame:
        """One row per covariate: coef, se, HR, its interval and p-value."""
        self._check_fitted()
        names = self.feature_names_in_ or [f"x{i}" for i in range(self.n_features_in_)]
        return pd.DataFrame({"coef": self.coef_, "se": self.se_, "hazard_ratio": self.hazard_ratios_,
                             "ci_low": self.ci_[:, 0], "ci_high": self.ci_[:, 1], "p": self.p_values_}, index=names)

    def cumulative_hazard(self, X: Any, times: Any, *, coef: np.ndarray | None = None) -> np.ndarray:
        """Shape ``(n_rows, len(times))`` (or ``(n_draws, n_rows, len(times))`` for ``coef`` of shape
        ``(n_draws, p)``): ``H(t | x) = H0(t) exp((x - mean) b)``."""
        self._check_fitted()
        Xa = _as_matrix(X, self.feature_names_in_) - self.mean_
        steps = np.searchsorted(self.baseline_times_, np.asarray(times, dtype=float), side="right")
        h0 = np.concatenate([[0.0], self.baseline_cumhazard_])[steps]
        b = self.coef_ if coef is None else np.asarray(coef)
        return np.exp(Xa @ b.T).T[..., None] * h0 if b.ndim == 2 else np.exp(Xa @ b)[:, None] * h0

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """Shape ``(n_rows, len(times))``: ``S(t | x)``."""
        return np.exp(-self.cumulative_hazard(X, times))

    def sample_survival(self, X: Any, times: Any, n: int, *, seed: int | None = None) -> np.ndarray:
        """Shape ``(n, n_rows, len(times))``: survival curves with ``b`` drawn from ``N(coef_, cov_)``
        (the baseline hazard held at Breslow's estimate)."""
        self._check_fitted()
        draws = np.random.default_rng(resolve_seed(seed)).multivariate_normal(self.coef_, self.cov_, size=n)
        return np.exp(-self.cumulative_hazard(X, times, coef=draws))
