"""Data-driven treatment effects on a tabular outcome: T-, S-, X- and doubly-robust learners.

Each learner is fitted on a table of covariates ``X``, a two-armed ``treatment`` (any two
labels; the first in sorted order, or ``control``, is the control arm) and an outcome ``y``.
Nuisance models (the outcome regression of each arm, the propensity score) are fitted by
**cross-fitting**: the data are cut into ``n_folds`` folds and each fold is predicted by
models that never saw it. Those out-of-fold predictions feed the learner (the X-learner's
imputed effects, the DR learner's pseudo-outcomes) and give the residuals behind the
prediction intervals; on new rows the fold models' predictions are averaged.

* :meth:`EffectLearner.effect` is the conditional average treatment effect (CATE)
  ``tau(x) = E[Y(1) - Y(0) | x]``, the learner's own estimate;
* :meth:`EffectLearner.predict` is the outcome expected under a given arm,
  ``mu_a(x) = E[Y | x, arm a]`` (the outcome regressions, shared by the T-, X- and DR
  learners; the S-learner's one model), with a **cross-conformal** prediction interval:
  the signed out-of-fold residuals of that arm's observed outcomes give the interval's
  ends at the conformal ranks ``floor(alpha/2 (m+1))`` and ``ceil((1-alpha/2)(m+1))``, so that a
  90% interval covers about 90% of new observed outcomes (measured on held-out rows in
  ``benchmarks/twin_effects.py``);
* :meth:`EffectLearner.sample` draws outcomes from the same predictive distribution
  (``mu_a(x)`` plus a residual of that arm), which is what the ``effects`` simulator
  returns for one patient under each plan;
* :meth:`EffectLearner.effect_interval` is a bootstrap interval of the CATE (the whole
  learner refitted on resamples).

Propensities are clipped to ``[clip, 1 - clip]`` wherever they divide.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2))
    >>> t = rng.integers(0, 2, 400)
    >>> y = X[:, 0] + t * (1.0 + X[:, 1]) + rng.normal(scale=0.1, size=400)
    >>> from sklearn.linear_model import LinearRegression
    >>> dr = DRLearner(outcome_model=LinearRegression(), effect_model=LinearRegression(), seed=0).fit(X, t, y)
    >>> [round(float(v), 1) for v in dr.effect(np.array([[0.0, 0.0], [0.0, 1.0]]))]
    [1.0, 2.0]
    >>> p = dr.predict(np.array([[0.0, 0.0]]), 1)
    >>> bool(p.low[0] < p.mean[0] < p.high[0])
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError

__all__ = ["LEARNERS", "DRLearner", "EffectLearner", "Prediction", "SLearner", "TLearner", "XLearner"]


@dataclass(frozen=True)
class Prediction:
    """Outcomes expected under one arm, with a prediction interval for an observed outcome.

    Attributes:
        mean: shape ``(n,)``, the expected outcome ``mu_a(x)``.
        low, high: shape ``(n,)``, the ends of the ``1 - alpha`` prediction interval.
        alpha: the miscoverage level (0.1 for a 90% interval).
        arm: the arm's label.
    """

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    alpha: float
    arm: Any


def _as_matrix(X: Any, names: Sequence[str] | None, what: str = "X") -> np.ndarray:
    """A float matrix from a frame or array; a frame's columns must match ``names`` when given."""
    if isinstance(X, pd.DataFrame):
        if names is not None:
            missing = [c for c in names if c not in X.columns]
            if missing:
                raise DataValidationError([f"{what}: missing column(s) {', '.join(missing)}; the model was "
                                           f"fitted on {', '.join(names)}"])
            X = X[list(names)]
        try:
            arr = X.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataValidationError([f"{what}: a column is not numeric ({exc}); encode categories as 0/1 "
                                       f"columns first (pandas.get_dummies)"]) from None
    else:
        arr = np.asarray(X, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :] if names is not None and arr.shape[0] == len(names) else arr[:, None]
    if arr.ndim != 2:
        raise DataValidationError([f"{what}: expected a table (rows x columns); got an array of shape {arr.shape}"])
    if names is not None and arr.shape[1] != len(names):
        raise DataValidationError([f"{what}: {arr.shape[1]} columns, but the model was fitted on {len(names)}"])
    bad = ~np.isfinite(arr)
    if bad.any():
        cols = sorted(set(np.nonzero(bad)[1].tolist()))
        label = [names[c] if names is not None else str(c) for c in cols]
        raise DataValidationError([f"{what}: missing or infinite values in column(s) {', '.join(label)}; "
                                   f"impute or drop those rows first"])
    return arr


def _quantile_ranks(m: int, alpha: float) -> tuple[int, int]:
    """The conformal ranks (0-based) of the lower and upper ends among ``m`` sorted residuals."""
    lo = math.floor(alpha / 2 * (m + 1)) - 1
    hi = math.ceil((1 - alpha / 2) * (m + 1)) - 1
    return max(lo, 0), min(hi, m - 1)


class EffectLearner(BaseEstimator):
    """The shared machinery of the meta-learners (use :class:`TLearner`, :class:`SLearner`,
    :class:`XLearner` or :class:`DRLearner`).

    Args:
        outcome_model: scikit-learn regressor for the outcome regressions (cloned; default
            gradient boosting, 200 trees of depth 3, learning rate 0.05).
        propensity_model: scikit-learn classifier with ``predict_proba`` (default L2 logistic regression on
            standardized columns).
        effect_model: regressor of the final stage of the X- and DR learners (default: ``outcome_model``
            when one is given; else gradient boosting, for the DR learner a shallower one: 100 trees of
            depth 2, at least 20 rows a leaf, subsample 0.8).
        n_folds: folds of the cross-fitting (>= 2).
        clip: propensities are clipped to ``[clip, 1 - clip]`` where they divide.
        control: the control arm's label (default: the first label in sorted order).
        seed: the seed of the folds, of the models' own randomness and of the bootstrap.

    Attributes (after ``fit``):
        arms_: ``(control, treated)`` labels.
        residuals_: arm label -> sorted out-of-fold residuals of its observed outcomes.
        n_features_in_, feature_names_in_: what ``X`` held (names when a frame was given).
        seed_: the seed used.
    """

    _needs_propensity = False

    @staticmethod
    def _default_effect_model() -> Any:
        return None

    def __init__(self, *, outcome_model: Any = None, propensity_model: Any = None, effect_model: Any = None,
                 n_folds: int = 5, clip: float = 0.01, control: Any = None, seed: int | None = None) -> None:
        self.outcome_model = outcome_model
        self.propensity_model = propensity_model
        self.effect_model = effect_model
        self.n_folds = n_folds
        self.clip = clip
        self.control = control
        self.seed = seed

    # -- inputs --------------------------------------------------------------------------------
    def _model(self, which: str) -> Any:
        given = getattr(self, which)
        if which == "propensity_model":
            base = given if given is not None else make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        elif which == "effect_model" and given is None:
            base = self.outcome_model if self.outcome_model is not None else self._default_effect_model()
        else:
            base = given
        if base is None:
            base = GradientBoostingRegressor(n_estimators=200, max_depth=3, learning_rate=0.05)
        model = clone(base)
        if "random_state" in model.get_params():
            model.set_params(random_state=self._rng.integers(2**31 - 1))
        return model

    def _check(self, X: Any, treatment: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        problems = []
        if not isinstance(self.n_folds, (int, np.integer)) or self.n_folds < 2:
            problems.append(f"n_folds: {self.n_folds!r} is not a whole number >= 2; cross-fitting needs 2 or more folds")
        if not (isinstance(self.clip, (int, float)) and 0 <= self.clip < 0.5):
            problems.append(f"clip: {self.clip!r} must lie in [0, 0.5); 0.01 is usual")
        if problems:
            raise ConfigError("; ".join(problems))
        names = list(map(str, X.columns)) if isinstance(X, pd.DataFrame) else None
        Xa = _as_matrix(X, names)
        t = np.asarray(treatment).ravel()
        ya = np.asarray(y, dtype=float).ravel()
        if not (len(Xa) == len(t) == len(ya)):
            raise DataValidationError([f"X has {len(Xa)} rows, treatment {len(t)} and y {len(ya)}; give one "
                                       f"treatment and one outcome per row"])
        if not np.all(np.isfinite(ya)):
            raise DataValidationError([f"y: {int((~np.isfinite(ya)).sum())} missing or infinite outcome(s); "
                                       f"drop those rows first"])
        arms = sorted(pd.unique(t).tolist(), key=lambda v: (str(type(v)), v))
        if len(arms) != 2:
            raise DataValidationError([f"treatment: {len(arms)} distinct value(s) {arms[:5]!r}; these learners "
                                       f"compare two arms (a control and a treatment)"])
        if self.control is not None:
            if self.control not in arms:
                raise ConfigError(f"control {self.control!r} is not one of the treatment's values {arms!r}")
            arms = [self.control] + [a for a in arms if a != self.control]
        counts = [int((t == a).sum()) for a in arms]
        if min(counts) < 2 * self.n_folds:
            raise DataValidationError([f"treatment: arm {arms[int(np.argmin(counts))]!r} has {min(counts)} rows; "
                                       f"each arm needs at least 2 x n_folds = {2 * self.n_folds}"])
        self.arms_ = tuple(arms)
        self.feature_names_in_ = names
        self.n_features_in_ = Xa.shape[1]
        return Xa, (t == arms[1]).astype(float), ya

    def _matrix(self, X: Any) -> np.ndarray:
        if not hasattr(self, "arms_"):
            raise ConfigError(f"this {type(self).__name__} is not fitted yet; call fit(X, treatment, y) first")
        Xa = _as_matrix(X, self.feature_names_in_)
        if Xa.shape[1] != self.n_features_in_:
            raise DataValidationError([f"X: {Xa.shape[1]} columns, but the model was fitted on {self.n_features_in_}"])
        return Xa

    def _arm_index(self, treatment: Any, n: int) -> np.ndarray:
        t = np.asarray(treatment, dtype=object).ravel()
        if t.size == 1:
            t = np.repeat(t, n)
        if t.size != n:
            raise DataValidationError([f"treatment: {t.size} values for {n} rows; give one arm, or one per row"])
        out = np.empty(n, dtype=int)
        for i, v in enumerate(t):
            matched = [k for k, a in enumerate(self.arms_) if a == v or str(a) == str(v)]
            if not matched:
                raise ConfigError(f"arm {v!r} is not one of the fitted arms {list(self.arms_)!r}")
            out[i] = matched[0]
        return out

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, treatment: Any, y: Any) -> EffectLearner:
        """Fit the nuisance models by cross-fitting, then the learner's effect model.

        Args:
            X: covariates, a frame (its column names are kept) or a 2-D array.
            treatment: one arm label per row (two distinct labels).
            y: the observed outcome per row.

        Returns:
            self.

        Raises:
            DataValidationError: mismatched lengths, missing values, not two arms, too few rows per arm.
            ConfigError: bad ``n_folds``, ``clip`` or ``control``.
        """
        Xa, t, ya = self._check(X, treatment, y)
        self.seed_ = resolve_seed(self.seed)
        self._rng = np.random.default_rng(self.seed_)
        split = StratifiedKFold(self.n_folds, shuffle=True, random_state=int(self._rng.integers(2**31 - 1)))
        self.folds_ = list(split.split(Xa, t))
        oof_mu = self._fit_outcomes(Xa, t, ya)
        self.propensity_models_: list[Any] = []
        oof_e = None
        if self._needs_propensity:
            oof_e = np.empty(len(ya))
            for train, test in self.folds_:
                m = self._model("propensity_model").fit(Xa[train], t[train])
                self.propensity_models_.append(m)
                oof_e[test] = m.predict_proba(Xa[test])[:, 1]
            oof_e = np.clip(oof_e, self.clip, 1 - self.clip)
        self._fit_effect(Xa, t, ya, oof_mu, oof_e)
        obs = np.where(t == 1, oof_mu[:, 1], oof_mu[:, 0])
        self.residuals_ = {self.arms_[k]: np.sort(ya[t == k] - obs[t == k]) for k in (0, 1)}
        self.oof_outcome_ = oof_mu
        self.oof_propensity_ = oof_e
        self._train = (Xa, np.asarray(treatment, dtype=object).ravel(), ya)
        del self._rng
        return self

    def _fit_outcomes(self, Xa: np.ndarray, t: np.ndarray, ya: np.ndarray) -> np.ndarray:
        """Per-arm outcome models, cross-fitted; returns out-of-fold ``mu_0, mu_1`` (shape ``(n, 2)``)."""
        oof = np.empty((len(ya), 2))
        self.outcome_models_: list[tuple[Any, Any]] = []
        for train, test in self.folds_:
            pair = []
            for k in (0, 1):
                rows = train[t[train] == k]
                m = self._model("outcome_model").fit(Xa[rows], ya[rows])
                oof[test, k] = m.predict(Xa[test])
                pair.append(m)
            self.outcome_models_.append(tuple(pair))
        return oof

    def _fit_effect(self, Xa: np.ndarray, t: np.ndarray, ya: np.ndarray, mu: np.ndarray, e: np.ndarray | None) -> None:
        """The learner's own effect stage (nothing for the T-learner)."""

    # -- predicting ----------------------------------------------------------------------------
    def _mu(self, Xa: np.ndarray) -> np.ndarray:
        """Shape ``(n, 2)``: the fold models' averaged outcome predictions under each arm."""
        return np.mean([[m0.predict(Xa), m1.predict(Xa)] for m0, m1 in self.outcome_models_], axis=0).T

    def _propensity(self, Xa: np.ndarray) -> np.ndarray:
        e = np.mean([m.predict_proba(Xa)[:, 1] for m in self.propensity_models_], axis=0)
        return np.clip(e, self.clip, 1 - self.clip)

    def _tau(self, Xa: np.ndarray) -> np.ndarray:
        mu = self._mu(Xa)
        return mu[:, 1] - mu[:, 0]

    def effect(self, X: Any) -> np.ndarray:
        """Shape ``(n,)``: the conditional average treatment effect (treated minus control) of each row."""
        return self._tau(self._matrix(X))

    def predict(self, X: Any, treatment: Any, *, alpha: float = 0.1) -> Prediction:
        """The outcome expected under ``treatment`` (one arm, or one per row) with a ``1 - alpha`` interval.

        Raises:
            ConfigError: an unknown arm, ``alpha`` outside (0, 1), or too few residuals for it.
        """
        Xa = self._matrix(X)
        if not 0 < alpha < 1:
            raise ConfigError(f"alpha {alpha!r} must lie in (0, 1); 0.1 gives a 90% interval")
        arm = self._arm_index(treatment, len(Xa))
        mu = self._mu(Xa)[np.arange(len(Xa)), arm]
        low, high = np.empty(len(Xa)), np.empty(len(Xa))
        for k in (0, 1):
            res = self.residuals_[self.arms_[k]]
            if (1 - alpha / 2) * (len(res) + 1) > len(res) + 1e-9:
                raise ConfigError(f"alpha {alpha} needs more than the {len(res)} residuals of arm "
                                  f"{self.arms_[k]!r}; raise alpha")
            lo, hi = _quantile_ranks(len(res), alpha)
            low[arm == k] = mu[arm == k] + res[lo]
            high[arm == k] = mu[arm == k] + res[hi]
        arms = np.asarray(self.arms_, dtype=object)[arm]
        return Prediction(mu, low, high, alpha, arms[0] if len(set(arm.tolist())) == 1 else arms)

    def quantile(self, X: Any, treatment: Any, u: np.ndarray) -> np.ndarray:
        """Shape ``(n_rows, len(u))``: the predictive distribution's quantiles ``u`` (in (0, 1)) under an arm.

        ``mu_a(x)`` plus the arm's out-of-fold residual at rank ``u`` (interpolated): the
        same ``u`` under two arms gives paired draws (common random numbers).
        """
        Xa = self._matrix(X)
        arm = self._arm_index(treatment, len(Xa))
        mu = self._mu(Xa)[np.arange(len(Xa)), arm]
        u = np.asarray(u, dtype=float).ravel()
        out = np.empty((len(Xa), len(u)))
        for k in (0, 1):
            res = self.residuals_[self.arms_[k]]
            grid = (np.arange(len(res)) + 0.5) / len(res)
            out[arm == k] = mu[arm == k, None] + np.interp(u, grid, res)[None, :]
        return out

    def sample(self, X: Any, treatment: Any, n: int, *, seed: int | None = None) -> np.ndarray:
        """Shape ``(n_rows, n)``: outcomes drawn from the predictive distribution under an arm."""
        u = np.random.default_rng(resolve_seed(seed)).uniform(size=n)
        return self.quantile(X, treatment, u)

    def effect_interval(self, X: Any, *, alpha: float = 0.05, n_boot: int = 50,
                        seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A percentile bootstrap interval of the CATE: the learner refitted on ``n_boot`` resamples.

        Returns:
            ``(low, high)``, each of shape ``(n,)``.
        """
        Xa = self._matrix(X)
        Xt, tt, yt = self._train
        rng = np.random.default_rng(resolve_seed(seed))
        draws = []
        for _ in range(n_boot):
            idx = rng.integers(0, len(yt), len(yt))
            if len(set(tt[idx].tolist())) < 2:
                continue
            model = clone(self).set_params(seed=int(rng.integers(2**31 - 1)))
            draws.append(model.fit(Xt[idx], tt[idx], yt[idx]).effect(Xa))
        draws = np.asarray(draws)
        return np.quantile(draws, alpha / 2, axis=0), np.quantile(draws, 1 - alpha / 2, axis=0)


class TLearner(EffectLearner):
    """T-learner: one outcome model per arm; ``tau(x) = mu_1(x) - mu_0(x)``.

    Example:
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> X = np.linspace(0, 1, 200)[:, None]; t = np.arange(200) % 2
        >>> y = 2 * X[:, 0] + 3 * t
        >>> m = TLearner(outcome_model=LinearRegression(), seed=0).fit(X, t, y)
        >>> round(float(m.effect(np.array([[0.5]]))[0]), 6)
        3.0
    """


class SLearner(EffectLearner):
    """S-learner: one outcome model on the covariates and the treatment indicator.

    ``tau(x) = mu(x, 1) - mu(x, 0)``. With a linear model it is a constant effect; with
    trees it can find heterogeneity but tends to shrink the effect towards zero.
    """

    def _fit_outcomes(self, Xa: np.ndarray, t: np.ndarray, ya: np.ndarray) -> np.ndarray:
        oof = np.empty((len(ya), 2))
        self.outcome_models_ = []
        for train, test in self.folds_:
            m = self._model("outcome_model").fit(np.column_stack([Xa[train], t[train]]), ya[train])
            for k in (0, 1):
                oof[test, k] = m.predict(np.column_stack([Xa[test], np.full(len(test), k)]))
            self.outcome_models_.append(m)
        return oof

    def _mu(self, Xa: np.ndarray) -> np.ndarray:
        n = len(Xa)
        return np.mean([[m.predict(np.column_stack([Xa, np.zeros(n)])), m.predict(np.column_stack([Xa, np.ones(n)]))]
                        for m in self.outcome_models_], axis=0).T


class XLearner(EffectLearner):
    """X-learner (Künzel et al. 2019): imputed effects regressed per arm, blended by the propensity.

    ``D1 = y - mu_0(x)`` on the treated and ``D0 = mu_1(x) - y`` on the controls (out-of-fold
    ``mu``); ``tau_1``, ``tau_0`` are regressions of ``D1``, ``D0``; ``tau(x) = e(x) tau_0(x)
    + (1 - e(x)) tau_1(x)`` with the (clipped) propensity ``e``.
    """

    _needs_propensity = True

    def _fit_effect(self, Xa, t, ya, mu, e):
        treated, controls = t == 1, t == 0
        self.tau1_ = self._model("effect_model").fit(Xa[treated], ya[treated] - mu[treated, 0])
        self.tau0_ = self._model("effect_model").fit(Xa[controls], mu[controls, 1] - ya[controls])

    def _tau(self, Xa: np.ndarray) -> np.ndarray:
        e = self._propensity(Xa)
        return e * self.tau0_.predict(Xa) + (1 - e) * self.tau1_.predict(Xa)


class DRLearner(EffectLearner):
    """Doubly-robust (DR / AIPW) learner (Kennedy 2023) with cross-fitting.

    The pseudo-outcome ``mu_1 - mu_0 + t (y - mu_1) / e - (1 - t)(y - mu_0) / (1 - e)``,
    built from out-of-fold nuisances with clipped propensities, is regressed on ``x`` by
    ``effect_model``. Its mean is the AIPW estimate of the average effect (``ate_``, with
    its influence-function standard error ``ate_se_``).
    """

    _needs_propensity = True

    @staticmethod
    def _default_effect_model() -> Any:
        # the pseudo-outcomes are noisy (divided by propensities): a shallower, subsampled booster
        return GradientBoostingRegressor(n_estimators=100, max_depth=2, learning_rate=0.05, min_samples_leaf=20,
                                         subsample=0.8)

    def _fit_effect(self, Xa, t, ya, mu, e):
        phi = mu[:, 1] - mu[:, 0] + t * (ya - mu[:, 1]) / e - (1 - t) * (ya - mu[:, 0]) / (1 - e)
        self.pseudo_outcome_ = phi
        self.ate_ = float(phi.mean())
        self.ate_se_ = float(phi.std(ddof=1) / math.sqrt(len(phi)))
        self.tau_ = self._model("effect_model").fit(Xa, phi)

    def _tau(self, Xa: np.ndarray) -> np.ndarray:
        return self.tau_.predict(Xa)


#: learner name -> class (``"t"``, ``"s"``, ``"x"``, ``"dr"``).
LEARNERS: dict[str, type[EffectLearner]] = {"t": TLearner, "s": SLearner, "x": XLearner, "dr": DRLearner}
