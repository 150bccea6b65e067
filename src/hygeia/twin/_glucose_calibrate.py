"""Bayesian calibration of the glucose twin to a CGM trace: adaptive importance sampling.

The unknowns are the log scales ``z = log(si_scale, gb_scale, kabs_scale)`` with the Gaussian
prior of :meth:`GlucoseSimulator.prior_scales`. The likelihood is the sensor model that
makes the ``cgm`` output: a reading is the model's glucose plus an error ``eps`` whose
Johnson SU inverse ``e = gamma + delta asinh((eps - xi) / lambda)`` is a Gaussian AR(1)
with correlation ``PACF`` per 15 minutes (stationary variance ``PACF^2 / (1 - PACF^2)``).
Readings are thinned to one per 15 minutes (the AR(1) knot spacing; between knots
simglucose's noise is a spline, which the AR(1) does not describe), so the likelihood is
the sensor model's own rather than an overconfident independent-error one.

Sampling: the first round draws ``calibration_draws`` scale sets from the prior and weights
each by its likelihood; each later round draws from a defensive mixture (90% a Gaussian
fitted to the last round's weighted draws with its covariance doubled, 10% the prior) and
weights by prior x likelihood / proposal. At least three rounds run (the second round's
proposal rests on a prior sample with few effective draws and may be narrower than the
posterior; the third is fitted to a good posterior sample), then rounds go on until the
effective sample size reaches half the draws (at most 5 rounds). ``n`` posterior draws are resampled (systematic) from the last round.
The diagnostics (effective sample size, rounds, readings used) are kept in
``GlucoseSimulator.calibration_``.

Example:
    >>> from hygeia.twin import Plan
    >>> from hygeia.twin._glucose import GlucoseSimulator
    >>> sim = GlucoseSimulator(patient="adult#002", calibration_draws=60)
    >>> plan = Plan("day", horizon_h=4, settings={"meals": [[1, 60]], "basal": "patient", "bolus": True})
    >>> truth = {"si_scale": [1.3], "gb_scale": [0.9], "kabs_scale": [0.7]}
    >>> cgm = sim.simulate(plan, params=truth, seed=3, step_h=0.25)
    >>> obs = pd.DataFrame({"time_h": cgm.times_h, "output": "cgm", "value": cgm.series("cgm")[0]})
    >>> post = sim.calibrate(obs, plan=plan, n=50, seed=1)
    >>> post["gb_scale"].shape
    (50,)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError
from hygeia.twin._plan import Plan
from hygeia.twin._simulator import Params

if TYPE_CHECKING:
    from hygeia.twin._glucose import GlucoseSimulator

__all__ = ["calibrate_glucose", "readings", "sensor_loglik"]


def readings(observations: pd.DataFrame, *, spacing_min: float = 15.0) -> tuple[np.ndarray, np.ndarray]:
    """The usable CGM readings: minutes (rounded) and values, thinned to ``spacing_min`` apart.

    Raises:
        ConfigError: when the table lacks the columns or holds no finite reading at time >= 0.
    """
    need = {"time_h", "output", "value"}
    if not isinstance(observations, pd.DataFrame) or not need <= set(observations.columns):
        raise ConfigError("glucose observations need columns time_h, output, value (output 'cgm' or 'glucose'); "
                          f"got {list(getattr(observations, 'columns', []))}")
    obs = observations[observations["output"].isin(["cgm", "glucose"])]
    t = pd.to_numeric(obs["time_h"], errors="coerce").to_numpy(dtype=float)
    v = pd.to_numeric(obs["value"], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(t) & np.isfinite(v) & (t >= 0) & (v > 0)
    if not keep.any():
        raise ConfigError("no usable glucose reading: give rows with output 'cgm' (or 'glucose'), time_h >= 0 "
                          "and a positive value in mg/dL")
    order = np.argsort(t[keep], kind="stable")
    minutes, values = np.rint(t[keep][order] * 60).astype(int), v[keep][order]
    chosen, last = [], -math.inf
    for i, m in enumerate(minutes):
        if m - last >= spacing_min - 1e-9:
            chosen.append(i)
            last = m
    return minutes[chosen], values[chosen]


def sensor_loglik(residual: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Log-likelihood of CGM errors ``residual`` (shape ``(n, k)``, mg/dL) at ``minutes`` under the sensor model."""
    from hygeia.twin._glucose import sensor_params

    s = sensor_params()
    u = (residual - s["xi"]) / s["lambda"]
    e = s["gamma"] + s["delta"] * np.arcsinh(u)
    log_jac = math.log(s["delta"] / s["lambda"]) - 0.5 * np.log1p(u * u)
    rho1 = s["PACF"]
    var = rho1 ** 2 / (1 - rho1 ** 2)
    gaps = np.diff(minutes.astype(float)) / 15.0
    rho = rho1 ** gaps
    mean = np.concatenate([np.zeros((e.shape[0], 1)), e[:, :-1] * rho], axis=1)
    v = np.concatenate([[var], var * (1 - rho ** 2)])
    ll = -0.5 * ((e - mean) ** 2 / v + np.log(2 * math.pi * v))
    return (ll + log_jac).sum(axis=1)


def _log_normal_pdf(z: np.ndarray, mu: np.ndarray, cov: np.ndarray) -> np.ndarray:
    d = z - mu
    chol = np.linalg.cholesky(cov)
    sol = np.linalg.solve(chol, d.T)
    return -0.5 * (sol ** 2).sum(axis=0) - np.log(np.diag(chol)).sum() - 0.5 * z.shape[1] * math.log(2 * math.pi)


def _ess(logw: np.ndarray) -> tuple[np.ndarray, float]:
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return w, float(1.0 / (w ** 2).sum())


def calibrate_glucose(sim: GlucoseSimulator, observations: pd.DataFrame, *, plan: Plan | None, n: int = 200,
                      seed: int | None = None, min_rounds: int = 3, max_rounds: int = 5) -> Params:
    """Posterior draws of ``si_scale``, ``gb_scale``, ``kabs_scale`` (see the module docstring).

    Raises:
        ConfigError: without a plan, or without usable readings.
    """
    from hygeia.twin._glucose import SCALES

    if plan is None:
        raise ConfigError("calibrating the glucose twin needs plan=: the insulin and meals given while the CGM "
                          "was recorded (e.g. Plan('observed', settings={'meals': [[7, 50]], 'basal': 'patient'}))")
    minutes, values = readings(observations)
    horizon = max(1, int(minutes.max()))
    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    mu0, sd0 = sim.prior_scales()
    cov0 = np.diag(sd0 ** 2)
    draws = int(sim.calibration_draws)
    dim = len(SCALES)

    def loglik(z: np.ndarray) -> np.ndarray:
        out = sim.run_minutes(plan, {k: np.exp(z[:, i]) for i, k in enumerate(SCALES)}, horizon, strict=False)
        ll = sensor_loglik(values[None, :] - out["glucose"][:, minutes], minutes)
        return np.where(np.isfinite(ll), ll, -np.inf)

    z = mu0 + sd0 * rng.standard_normal((draws, dim))
    logw = loglik(z)
    w, ess = _ess(logw)
    rounds = 1
    while rounds < min_rounds or (ess < draws / 2 and rounds < max_rounds):
        mu = w @ z
        cov = 2.0 * np.cov(z.T, aweights=w + 1e-300) + np.diag((0.02 * sd0) ** 2)
        cov = np.where(np.isfinite(cov), cov, cov0)
        from_fit = rng.random(draws) < 0.9
        z = np.where(from_fit[:, None], rng.multivariate_normal(mu, cov, draws, method="cholesky"),
                     mu0 + sd0 * rng.standard_normal((draws, dim)))
        log_q = np.logaddexp(math.log(0.9) + _log_normal_pdf(z, mu, cov), math.log(0.1) + _log_normal_pdf(z, mu0, cov0))
        logw = loglik(z) + _log_normal_pdf(z, mu0, cov0) - log_q
        w, ess = _ess(logw)
        rounds += 1
    positions = (rng.random() + np.arange(int(n))) / int(n)
    pick = np.minimum(np.searchsorted(np.cumsum(w), positions), draws - 1)
    sim.calibration_ = {"readings": len(minutes), "rounds": rounds, "draws_per_round": draws,
                        "effective_sample_size": ess, "seed": seed,
                        "posterior_mean_log": dict(zip(SCALES, (w @ z).tolist()))}
    return {k: np.exp(z[pick, i]) for i, k in enumerate(SCALES)}
