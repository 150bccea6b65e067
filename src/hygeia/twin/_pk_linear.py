"""Exact solutions of linear mammillary PK models, vectorized over parameter samples.

A :class:`LinearPK` holds the micro-constants of a one-, two- or three-compartment model
(``v1`` in L, rate constants in 1/h, arrays of shape ``(n,)``, one value per sample) with an
optional effect site (``ke0``) and first-order oral absorption (``ka``, bioavailability
``f``). :func:`pk_concentrations` integrates it exactly for any mix of boluses, oral doses
and constant-rate infusions: between two consecutive events every input is constant, so
the state moves by the matrix exponential of the augmented system ``[[A, b], [0, 0]]``
(Van Loan's construction), computed once per distinct step length for all samples at once.

The state holds amounts: the gut depot, the central, second and third compartments, the
effect site scaled by ``v1`` (``dAe/dt = ke0 (A1 - Ae)``, so ``Ce = Ae / v1``) and the
integral of the central amount (``AUC = integral / v1``).

Example:
    >>> import numpy as np
    >>> pk = LinearPK(v1=np.array([10.0]), k10=np.array([0.5]))
    >>> out = pk_concentrations(pk, [PKInput(0.0, 100.0)], np.array([0.0, 2.0]))
    >>> np.round(out["plasma"][0], 4).tolist()  # 100 mg / 10 L, then exp(-0.5 * 2)
    [10.0, 3.6788]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from hygeia.errors import ConfigError

__all__ = ["LinearPK", "PKInput", "expm_batch", "pk_concentrations"]

_DEPOT, _C1, _C2, _C3, _EFF, _AUC = range(6)
_STATES = 6


def _arr(value: np.ndarray | float, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (n,))


@dataclass(frozen=True)
class LinearPK:
    """Micro-constants of a linear model (time in hours, volume in L), each of shape ``(n,)`` or scalar.

    Args:
        v1: central volume.
        k10: elimination rate constant.
        k12, k21: exchange with the second compartment (0: none).
        k13, k31: exchange with the third compartment (0: none).
        ke0: effect-site equilibration rate constant (0: no effect site).
        ka: first-order absorption rate constant of oral doses (0: no oral route).
        f: oral bioavailability.
    """

    v1: np.ndarray | float
    k10: np.ndarray | float
    k12: np.ndarray | float = 0.0
    k21: np.ndarray | float = 0.0
    k13: np.ndarray | float = 0.0
    k31: np.ndarray | float = 0.0
    ke0: np.ndarray | float = 0.0
    ka: np.ndarray | float = 0.0
    f: np.ndarray | float = 1.0

    @property
    def n(self) -> int:
        """How many samples (the longest parameter array)."""
        return max(int(np.size(getattr(self, f.name))) for f in fields(self))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every constant broadcast to shape ``(n,)``, checked finite, with ``v1 > 0`` and rates ``>= 0``."""
        n = self.n
        out = {f.name: _arr(getattr(self, f.name), n) for f in fields(self)}
        bad = [k for k, v in out.items() if not np.all(np.isfinite(v)) or np.any(v < 0)]
        if bad or np.any(out["v1"] <= 0):
            raise ConfigError(f"PK parameters {', '.join(bad) or 'v1'} must be finite, rates >= 0 and v1 > 0; "
                              f"check the patient's covariates (weight, age, height) against the model's range")
        return out

    def matrix(self) -> np.ndarray:
        """Shape ``(n, 6, 6)``: the system matrix of the amounts (see the module docstring)."""
        p = self.arrays()
        a = np.zeros((self.n, _STATES, _STATES))
        a[:, _DEPOT, _DEPOT] = -p["ka"]
        a[:, _C1, _DEPOT] = p["ka"]
        a[:, _C1, _C1] = -(p["k10"] + p["k12"] + p["k13"])
        a[:, _C1, _C2] = p["k21"]
        a[:, _C1, _C3] = p["k31"]
        a[:, _C2, _C1] = p["k12"]
        a[:, _C2, _C2] = -p["k21"]
        a[:, _C3, _C1] = p["k13"]
        a[:, _C3, _C3] = -p["k31"]
        a[:, _EFF, _C1] = p["ke0"]
        a[:, _EFF, _EFF] = -p["ke0"]
        a[:, _AUC, _C1] = 1.0
        return a

    @classmethod
    def from_clearances(cls, *, v1, cl, v2=None, q2=None, v3=None, q3=None, ke0=0.0, ka=0.0, f=1.0) -> LinearPK:
        """Build from volumes (L) and clearances (L/h), the form most papers report.

        Example:
            >>> float(LinearPK.from_clearances(v1=10.0, cl=5.0).k10)
            0.5
        """
        k12 = k21 = k13 = k31 = 0.0
        if v2 is not None and q2 is not None:
            k12, k21 = np.divide(q2, v1), np.divide(q2, v2)
        if v3 is not None and q3 is not None:
            k13, k31 = np.divide(q3, v1), np.divide(q3, v3)
        return cls(v1=v1, k10=np.divide(cl, v1), k12=k12, k21=k21, k13=k13, k31=k31, ke0=ke0, ka=ka, f=f)


@dataclass(frozen=True)
class PKInput:
    """One administration: a bolus (``duration_h == 0``), an oral dose or a constant-rate infusion.

    Args:
        at_h: when it starts, hours.
        amount: the amount (bolus, oral) or the rate per hour (infusion), shape ``(n,)`` or scalar.
        duration_h: infusion length (0: given at once).
        oral: an oral dose enters the gut depot (scaled by ``f``) instead of the central compartment.
    """

    at_h: float
    amount: np.ndarray | float
    duration_h: float = 0.0
    oral: bool = False


def expm_batch(m: np.ndarray) -> np.ndarray:
    """``exp(M)`` for a stack of square matrices ``(n, k, k)`` at once: scaling and squaring of a Taylor series.

    Each matrix is scaled by ``2**-s`` until its 1-norm is at most 1/2, where the order-16
    Taylor remainder is below 1e-20 of the norm, then squared back ``s`` times.

    Example:
        >>> import numpy as np
        >>> float(np.round(expm_batch(np.array([[[np.log(2.0)]]]))[0, 0, 0], 12))
        2.0
    """
    norm = np.abs(m).sum(axis=-2).max(axis=-1)
    s = int(max(0, np.ceil(np.log2(max(float(norm.max()), 1e-300) / 0.5)))) if norm.size else 0
    x = m / 2.0**s
    eye = np.broadcast_to(np.eye(m.shape[-1]), m.shape)
    out = eye + x
    term = x
    for k in range(2, 17):
        term = term @ x / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def _propagators(a: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``Phi = exp(A dt)`` and ``Gamma = integral_0^dt exp(A s) e_1 ds`` for every sample (Van Loan)."""
    n = a.shape[0]
    aug = np.zeros((n, _STATES + 1, _STATES + 1))
    aug[:, :_STATES, :_STATES] = a * dt
    aug[:, _C1, _STATES] = dt
    e = expm_batch(aug)
    return e[:, :_STATES, :_STATES], e[:, :_STATES, _STATES]


def pk_concentrations(pk: LinearPK, inputs: Sequence[PKInput], times_h: np.ndarray) -> dict[str, np.ndarray]:
    """Plasma and effect-site concentrations and the plasma AUC at ``times_h``, exactly.

    Args:
        pk: the model (``n`` samples).
        inputs: the administrations; amounts in the dose unit (mg, ug), rates in that unit per hour.
        times_h: sorted output times, hours (values are right-continuous: a bolus at ``t``
            shows at ``t``).

    Returns:
        ``{"plasma", "effect", "auc"}``, each of shape ``(n, len(times_h))``, in dose unit per L
        (and dose unit x h / L for ``auc``).

    Raises:
        ConfigError: an oral dose to a model without absorption, or unsorted times.
    """
    times = np.asarray(times_h, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) < 0):
        raise ConfigError("output times must be a sorted 1-D array of hours")
    n = pk.n
    p = pk.arrays()
    if any(i.oral for i in inputs) and np.any(p["ka"] <= 0):
        raise ConfigError("an oral dose needs an absorption rate constant ka > 0; this model has none "
                          "(give the drug intravenously or use a model with first-order absorption)")
    a = pk.matrix()
    events = {0.0, *times.tolist()}
    for i in inputs:
        events.add(float(i.at_h))
        if i.duration_h > 0:
            events.add(float(i.at_h + i.duration_h))
    grid = np.array(sorted(events))
    state = np.zeros((n, _STATES))
    out = np.zeros((n, len(times), _STATES))
    cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    boluses = sorted((i for i in inputs if i.duration_h <= 0), key=lambda i: i.at_h)
    infusions = [i for i in inputs if i.duration_h > 0]
    b = 0
    ti = 0
    for k, t in enumerate(grid):
        if k:
            dt = round(float(t - grid[k - 1]), 12)
            if dt > 0:
                if dt not in cache:
                    cache[dt] = _propagators(a, dt)
                phi, gamma = cache[dt]
                mid = 0.5 * (grid[k - 1] + t)
                rate = np.zeros(n)
                for i in infusions:
                    if i.at_h <= mid < i.at_h + i.duration_h:
                        rate = rate + _arr(i.amount, n)
                state = np.einsum("nij,nj->ni", phi, state) + gamma * rate[:, None]
        while b < len(boluses) and boluses[b].at_h <= t + 1e-12:
            dose = _arr(boluses[b].amount, n)
            if boluses[b].oral:
                state[:, _DEPOT] += dose * p["f"]
            else:
                state[:, _C1] += dose
            b += 1
        while ti < len(times) and times[ti] <= t + 1e-12:
            out[:, ti] = state
            ti += 1
    v1 = p["v1"][:, None]
    plasma = np.maximum(out[:, :, _C1] / v1, 0.0)
    effect = np.maximum(out[:, :, _EFF] / v1, 0.0)
    return {"plasma": plasma, "effect": effect, "auc": np.maximum(out[:, :, _AUC] / v1, 0.0)}
