"""Population PK estimation: FOCE with interaction (FOCEI) for a one-compartment IV bolus model.

:class:`PopulationPK` fits the typical parameters (``theta``), the between-subject variances
of log-normal random effects on CL and V (``omega``) and a proportional residual variance
(``sigma``) to a NONMEM-style data set (``ID``, ``TIME``, ``AMT``, ``DV`` and covariates;
rows with ``AMT > 0`` are doses, the others observations). It minimizes NONMEM's FOCEI
objective (Wang Y. Derivation of various NONMEM estimation methods. J Pharmacokinet
Pharmacodyn 2007;34:575-593): for each subject the random effects' mode ``eta_i`` is found
(all subjects at once, by Levenberg-Marquardt), then

    OFV = sum_i [ sum_j (log V_ij + (y_ij - f_ij)^2 / V_ij) + eta_i' W^-1 eta_i + log|W|
                  + log|W^-1 + sum_j g_ij g_ij' (1 / V_ij + 2 / f_ij^2)| ],

with ``V_ij = sigma f_ij^2`` (the variance depends on ``eta``: the interaction, whose
information ``(dV/deta)^2 / 2V^2`` is the ``2 / f^2`` term), ``W`` the omega matrix and
``g_ij = d f_ij / d eta``; the constant ``N log 2 pi`` is left out, as NONMEM reports it.
At NONMEM's own estimates for the phenobarbital example this gives NONMEM's objective
(586.276) to 1e-6. The outer minimization is scipy's L-BFGS-B over log-transformed parameters.

The default typical-value model is NONMEM's phenobarbital example (``pheno_real.mod``;
Grasela TH, Donn SM. Neonatal population pharmacokinetics of phenobarbital derived from
routine clinical data. Dev Pharmacol Ther 1985;8:374-383): ``CL = THETA1 * WGT``,
``V = THETA2 * WGT * (1 + THETA3 if APGR < 5)``.

Example:
    >>> import numpy as np, pandas as pd
    >>> data = simulate_population(40, seed=3)
    >>> fit = PopulationPK().fit(data)
    >>> bool(abs(fit.theta_[0] / 0.0047 - 1) < 0.15 and abs(fit.theta_[1] / 0.98 - 1) < 0.15)
    True
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from hygeia.errors import ConfigError, DataValidationError

__all__ = ["PopulationPK", "pheno_typical", "read_nonmem_data", "simulate_population"]


def pheno_typical(theta: np.ndarray, cov: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Typical CL (L/h) and V (L) of each subject in the phenobarbital model (one row per subject)."""
    wgt = cov["WGT"].to_numpy(float)
    low_apgar = cov["APGR"].to_numpy(float) < 5
    return theta[0] * wgt, theta[1] * wgt * np.where(low_apgar, 1.0 + theta[2], 1.0)


def read_nonmem_data(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a NONMEM data file with a header row (whitespace or comma separated, ``IGNORE=@``).

    Raises:
        DataValidationError: a missing file, or one without ``ID``, ``TIME``, ``AMT`` and ``DV``.
    """
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise DataValidationError([f"{name}: no such NONMEM data file"]) from None
    except UnicodeDecodeError:
        raise DataValidationError([f"{name}: not a text file; give a NONMEM data table (ID TIME AMT DV ...)"]) from None
    data = pd.read_csv(name, sep="," if "," in first else r"\s+")
    missing = {"ID", "TIME", "AMT", "DV"} - set(data.columns)
    if missing:
        raise DataValidationError([(f"{name}: lacks column(s) {', '.join(sorted(missing))}; a NONMEM data file "
                                    "needs a header row with ID, TIME, AMT and DV")])
    return data


class _Design:
    """The data set as padded arrays: doses (N, d) and observations (N, o) per subject."""

    def __init__(self, data: pd.DataFrame, covariates: Sequence[str]) -> None:
        ids = pd.unique(data["ID"])
        groups = [data[data["ID"] == i] for i in ids]
        doses = [g[g["AMT"] > 0] for g in groups]
        obs = [g[g["AMT"] <= 0] for g in groups]
        nd = max(len(d) for d in doses)
        no = max(len(o) for o in obs)
        if no == 0 or nd == 0:
            raise DataValidationError(["the data set needs dose rows (AMT > 0) and observation rows (AMT = 0)"])
        n = len(ids)
        self.ids = ids
        self.amt = np.zeros((n, nd))
        self.tdose = np.zeros((n, nd))
        self.tobs = np.zeros((n, no))
        self.y = np.ones((n, no))
        self.mask = np.zeros((n, no), bool)
        for i, (d, o) in enumerate(zip(doses, obs)):
            self.amt[i, : len(d)] = d["AMT"].to_numpy(float)
            self.tdose[i, : len(d)] = d["TIME"].to_numpy(float)
            self.tobs[i, : len(o)] = o["TIME"].to_numpy(float)
            self.y[i, : len(o)] = o["DV"].to_numpy(float)
            self.mask[i, : len(o)] = True
        if np.any(self.y[self.mask] <= 0):
            raise DataValidationError(["observations must be positive concentrations (a proportional error model)"])
        self.tau = self.tobs[:, :, None] - self.tdose[:, None, :]
        self.given = (self.tau >= 0) & (self.amt[:, None, :] > 0)
        self.tau = np.where(self.given, self.tau, 0.0)
        self.cov = pd.DataFrame([g.iloc[0][list(covariates)] for g in groups]).reset_index(drop=True)
        self.n_obs = int(self.mask.sum())

    def predict(self, cl: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Concentrations ``f`` (N, o) and their derivatives by log CL and log V, shape (N, o, 2)."""
        k = (cl / v)[:, None, None]
        term = np.where(self.given, self.amt[:, None, :] / v[:, None, None] * np.exp(-k * self.tau), 0.0)
        s0 = term.sum(axis=2)
        s1 = (term * self.tau).sum(axis=2)
        kk = k[:, :, 0]
        g = np.stack([-kk * s1, -s0 + kk * s1], axis=2)
        return np.maximum(s0, 1e-30), g


class PopulationPK:
    """FOCEI estimation of a one-compartment IV bolus population model (see the module docstring).

    Args:
        theta0: starting typical parameters (``THETA1``, ``THETA2``, ``THETA3`` by default).
        omega0: starting variances of the random effects on CL and V.
        sigma0: starting proportional residual variance.
        typical: ``(theta, covariates) -> (CL, V)`` per subject; default :func:`pheno_typical`.
        covariates: the columns ``typical`` reads (one value per subject: the first row's).
        theta_bounds: ``(low, high)`` per theta; a theta is optimized on a log scale within them.

    Attributes:
        theta_, omega_, sigma_: the estimates.
        ofv_: the objective at the estimates (without ``N log 2 pi``).
        eta_: shape (N, 2), each subject's conditional mode.
        n_evaluations_, cpu_seconds_: the cost of the fit.
    """

    def __init__(self, *, theta0: Sequence[float] = (0.0047, 1.0, 0.1), omega0: Sequence[float] = (0.03, 0.03),
                 sigma0: float = 0.013,
                 typical: Callable[[np.ndarray, pd.DataFrame], tuple[np.ndarray, np.ndarray]] = pheno_typical,
                 covariates: Sequence[str] = ("WGT", "APGR"),
                 theta_bounds: Sequence[tuple[float, float]] = ((0.0, math.inf), (0.0, math.inf), (-0.99, math.inf))):
        self.theta0 = theta0
        self.omega0 = omega0
        self.sigma0 = sigma0
        self.typical = typical
        self.covariates = covariates
        self.theta_bounds = theta_bounds

    # theta_k = low + exp(x_k) (finite low bound) keeps every theta inside its bound
    def _to_x(self, theta, omega, sigma) -> np.ndarray:
        xs = [math.log(t - lo) for t, (lo, _) in zip(theta, self.theta_bounds)]
        return np.array(xs + [math.log(w) for w in omega] + [math.log(sigma)])

    def _from_x(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        k = len(self.theta_bounds)
        theta = np.array([lo + math.exp(min(v, 700)) for v, (lo, _) in zip(x[:k], self.theta_bounds)])
        return theta, np.exp(x[k:k + 2]), float(math.exp(x[k + 2]))

    def _modes(self, design: _Design, tvcl, tvv, omega, sigma, eta) -> np.ndarray:
        """Each subject's mode of ``-2 log p(y, eta)``, all subjects at once (Levenberg-Marquardt).

        The curvature by ``u = log f`` is ``max(2 (2q^2 - q) / sigma, 2 / sigma)`` with ``q = y / f``:
        the exact one where it exceeds the expected information, so far from the mode the steps
        are short rather than wild; a subject's step is taken only when it lowers its objective.
        """
        inv_w = 1.0 / omega
        m = design.mask

        def objective(e):
            f, g = design.predict(tvcl * np.exp(e[:, 0]), tvv * np.exp(e[:, 1]))
            q = design.y / f
            per = np.where(m, 2 * np.log(f) + (q - 1) ** 2 / sigma, 0.0).sum(axis=1)
            return per + (e**2 * inv_w).sum(axis=1), f, g, q

        val, f, g, q = objective(eta)
        damping = np.full(len(eta), 1e-3)
        for _ in range(500):
            gu = g / f[:, :, None]  # d log f / d eta
            dl = np.where(m, 2 - 2 * q * (q - 1) / sigma, 0.0)
            grad = (dl[:, :, None] * gu).sum(axis=1) + 2 * eta * inv_w
            w = np.where(m, np.maximum(2 * (2 * q**2 - q), 2.0) / sigma + 2, 0.0)
            hess = np.einsum("no,noi,noj->nij", w, gu, gu) + np.eye(2) * 2 * inv_w
            diag = np.einsum("nii->ni", hess)
            step = np.linalg.solve(hess + damping[:, None, None] * np.eye(2) * diag[:, None, :],
                                   grad[:, :, None])[:, :, 0]
            new = eta - step
            new_val, nf, ng, nq = objective(new)
            better = new_val <= val
            damping = np.where(better, np.maximum(damping / 3, 1e-9), damping * 4)
            if np.all((np.abs(step).max(axis=1) < 1e-9) | (damping > 1e10)):
                break
            eta = np.where(better[:, None], new, eta)
            val = np.where(better, new_val, val)
            f = np.where(better[:, None], nf, f)
            g = np.where(better[:, None, None], ng, g)
            q = np.where(better[:, None], nq, q)
        return eta

    def objective(self, design: _Design, theta, omega, sigma, eta0=None) -> tuple[float, np.ndarray]:
        """The FOCEI objective and the modes at these parameters."""
        tvcl, tvv = self.typical(theta, design.cov)
        eta = self._modes(design, tvcl, tvv, omega, sigma, np.zeros((len(tvcl), 2)) if eta0 is None else eta0)
        f, g = design.predict(tvcl * np.exp(eta[:, 0]), tvv * np.exp(eta[:, 1]))
        m = design.mask
        var = sigma * f**2
        resid = np.where(m, np.log(var) + (design.y - f) ** 2 / var, 0.0).sum()
        # expected information of y about eta: g g'/V from the mean, (dV)^2 / (2 V^2) = 2 g g'/f^2 from the variance
        info = np.einsum("no,noi,noj->nij", np.where(m, 1.0 / var + 2.0 / f**2, 0.0), g, g) + np.diag(1.0 / omega)
        logdet = np.linalg.slogdet(info)[1].sum()
        return float(resid + (eta**2 / omega).sum() + len(eta) * np.log(omega).sum() + logdet), eta

    def fit(self, data: pd.DataFrame) -> PopulationPK:
        """Estimate theta, omega and sigma from a NONMEM-style table; returns self.

        Raises:
            DataValidationError: missing columns, no doses or no observations.
        """
        missing = {"ID", "TIME", "AMT", "DV", *self.covariates} - set(data.columns)
        if missing:
            raise DataValidationError([f"the data lack column(s) {', '.join(sorted(missing))}"])
        design = _Design(data, self.covariates)
        start = time.process_time()
        evaluations = 0
        warm: dict[str, Any] = {"eta": None}

        def ofv(x):
            nonlocal evaluations
            evaluations += 1
            theta, omega, sigma = self._from_x(np.clip(x, -200.0, 200.0))
            with np.errstate(all="ignore"):  # a line search may try absurd values: they score as a wall
                value, eta = self.objective(design, theta, omega, sigma, warm["eta"])
            if not np.isfinite(value) or not np.all(np.isfinite(eta)):
                return 1e12
            warm["eta"] = eta
            return value

        x0 = self._to_x(self.theta0, self.omega0, self.sigma0)
        # thetas within a factor e^3 of their start, variances within e^-14..e^2: a line search cannot run off
        k = len(self.theta_bounds)
        bounds = [(v - 3.0, v + 3.0) for v in x0[:k]] + [(-14.0, 2.0)] * 3
        res = minimize(ofv, x0, method="L-BFGS-B", bounds=bounds, options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-6})
        for _ in range(4):  # on finite differences it may stop early (precision loss): restart until it stalls
            again = minimize(ofv, res.x, method="L-BFGS-B", bounds=bounds,
                             options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-6})
            if not again.fun < res.fun - 1e-4:
                break
            res = again
        if not np.all(np.isfinite(res.x)):
            raise ConfigError("the population fit diverged; give starting values (theta0, omega0, sigma0) closer "
                              "to the data")
        self.theta_, self.omega_, self.sigma_ = self._from_x(res.x)
        self.message_ = str(res.message)
        self.ofv_, self.eta_ = self.objective(design, self.theta_, self.omega_, self.sigma_)
        self.n_subjects_, self.n_observations_ = len(design.ids), design.n_obs
        self.n_evaluations_ = evaluations
        self.cpu_seconds_ = time.process_time() - start
        self.converged_ = bool(res.success)
        return self


def simulate_population(n: int, *, theta: Sequence[float] = (0.0047, 0.98, 0.16), omega: Sequence[float] = (0.03, 0.03),
                        sigma: float = 0.013, levels: int = 4, seed: int | None = None) -> pd.DataFrame:
    """A synthetic neonatal phenobarbital study in NONMEM layout (loading dose, maintenance every 12 h).

    Weights 0.7-3.5 kg, Apgar scores 1-10, a 15-25 mg/kg loading dose and 2-5 mg/kg every
    12 h for 4 days, ``levels`` levels per infant at random times over the first 150 h, with the pheno model's log-normal
    random effects and proportional error.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(1, n + 1):
        wgt = round(float(rng.uniform(0.7, 3.5)), 1)
        apgr = int(rng.integers(1, 11))
        cl = theta[0] * wgt * math.exp(rng.normal(0, math.sqrt(omega[0])))
        v = theta[1] * wgt * (1 + theta[2] if apgr < 5 else 1) * math.exp(rng.normal(0, math.sqrt(omega[1])))
        doses = [(0.0, round(wgt * float(rng.uniform(15, 25)), 1))]
        maint = round(wgt * float(rng.uniform(2, 5)), 1)
        doses += [(12.0 * k, maint) for k in range(1, 9)]
        times = np.sort(rng.uniform(1.0, 150.0, levels))
        for t, a in doses:
            rows.append({"ID": i, "TIME": t, "AMT": a, "WGT": wgt, "APGR": apgr, "DV": 0.0})
        for t in np.round(times, 2):
            f = sum(a / v * math.exp(-cl / v * (t - td)) for td, a in doses if td <= t)
            rows.append({"ID": i, "TIME": round(float(t), 2), "AMT": 0.0, "WGT": wgt, "APGR": apgr,
                         "DV": round(f * (1 + rng.normal(0, math.sqrt(sigma))), 3)})
    return pd.DataFrame(rows).sort_values(["ID", "TIME", "AMT"], ascending=[True, True, False]).reset_index(drop=True)
