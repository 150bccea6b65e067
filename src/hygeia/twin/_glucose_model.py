"""The UVA/Padova type 1 diabetes model, vectorized over parameter sets.

The model (Dalla Man et al. 2007, the 2008 simulator version that simglucose 0.2.11
implements) has 13 states per patient: stomach solid and liquid glucose and gut glucose
(mg), plasma and tissue glucose (mg/kg), plasma insulin (pmol/kg), remote insulin action,
two delayed-insulin compartments, liver insulin, two subcutaneous insulin compartments
(pmol/kg) and subcutaneous glucose (mg/kg). Inputs, held constant over each minute, are the
carbohydrate eaten (g/min) and the insulin infused (U/min).

It is integrated the way simglucose integrates it: one call of a Dormand-Prince 5(4)
solver per minute (rtol 1e-6, atol 1e-12, Hairer's step-size control with beta 0.04 and
his starting-step rule at every call, as scipy 1.17's ``ode("dopri5")`` does), so that the same patient under the same
inputs gives the same trace to round-off. Here the solver runs on arrays of shape
``(13, n)``: ``n`` parameter sets advance together, each with its own step size.

Meals are announced in grams and eaten at 5 g/min; the gastric emptying rate depends on
the size of the meal being eaten (``Dbar``), as in simglucose.

Example:
    >>> p = patient_params("adolescent#001")
    >>> cho, ins = np.zeros(60), np.full((60, 1), basal_rate(p)[0])
    >>> g = simulate_minutes(p, cho, ins)["glucose"]
    >>> g.shape, bool(abs(g[0, -1] - g[0, 0]) < 1.0)
    ((1, 61), True)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from hygeia.errors import ConfigError

__all__ = ["MODEL_PARAMS", "PATIENTS", "BolusRule", "basal_rate", "cohort_table", "patient_params", "quest", "simulate_minutes",
           "steady_state"]

#: The model parameters a parameter set carries (besides the 13 initial states ``x0_1``..``x0_13``).
MODEL_PARAMS = ("BW", "Gb", "Ib", "kabs", "kmax", "kmin", "b", "d", "Vg", "Vi", "Vmx", "Km0", "k2", "k1", "p2u",
                "m1", "m2", "m4", "m30", "ki", "kp1", "kp2", "kp3", "f", "ke1", "ke2", "Fsnc", "Vm0", "kd", "ksc",
                "ka1", "ka2", "u2ss")
STATES = tuple(f"x0_{i}" for i in range(1, 14))
EAT_RATE = 5.0  # g/min: how fast an announced meal is eaten

# Dormand-Prince 5(4) tableau, error weights (5th minus 4th order) and controller settings
_C = (0.2, 0.3, 0.8, 8.0 / 9.0)
_A = ((0.2,), (3.0 / 40.0, 9.0 / 40.0), (44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0),
      (19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0),
      (9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0),
      (35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0))
_E = (71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0)
RTOL, ATOL = 1e-6, 1e-12
_SAFE, _BETA = 0.9, 0.04
_FACC1, _FACC2 = 1.0 / 0.2, 1.0 / 10.0
_EXPO1 = 0.2 - _BETA * 0.75


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    with resources.files("hygeia.twin").joinpath("resources/uva_padova_patients.csv").open("rb") as fh:
        table = pd.read_csv(fh)
    table.columns = [c.replace(" ", "") for c in table.columns]
    return table.set_index("Name")


@lru_cache(maxsize=1)
def _quest() -> pd.DataFrame:
    with resources.files("hygeia.twin").joinpath("resources/uva_padova_quest.csv").open("rb") as fh:
        return pd.read_csv(fh).set_index("Name")


#: The 30 virtual patients: adolescent#001-010, adult#001-010, child#001-010.
PATIENTS: tuple[str, ...] = tuple(f"{c}#{i:03d}" for c in ("adolescent", "adult", "child") for i in range(1, 11))


def _check_name(name: str) -> None:
    if name not in PATIENTS:
        raise ConfigError(f"no virtual patient {name!r}; choose one of adolescent#001..010, adult#001..010, "
                          f"child#001..010")


def patient_params(name: str, n: int = 1) -> dict[str, np.ndarray]:
    """One virtual patient's parameters and initial state, repeated ``n`` times.

    Raises:
        ConfigError: when ``name`` is not one of :data:`PATIENTS`.
    """
    _check_name(name)
    row = _table().loc[name]
    return {k: np.full(n, float(row[k])) for k in (*MODEL_PARAMS, *STATES)}


def cohort_table() -> pd.DataFrame:
    """The 30 virtual patients' parameters (a copy), one row per patient."""
    return _table().loc[list(PATIENTS), [*MODEL_PARAMS, *STATES]].astype(float).copy()


def quest(name: str) -> dict[str, float]:
    """A virtual patient's therapy settings: ``CR`` (g/U), ``CF`` (mg/dL per U), ``Age``, ``TDI`` (U/day)."""
    _check_name(name)
    row = _quest().loc[name]
    return {k: float(row[k]) for k in ("CR", "CF", "Age", "TDI")}


def basal_rate(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Shape ``(n,)``: the insulin rate (U/min) that holds each patient at its basal steady state."""
    return np.asarray(params["u2ss"]) * np.asarray(params["BW"]) / 6000.0


def steady_state(params: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Plasma and tissue glucose (mg/kg) at which each parameter set rests under its basal insulin.

    Solves the two glucose equations with insulin at its basal level (remote action 0,
    delayed insulin at ``Ib``) by bisection on plasma glucose; vectorized.
    """
    g = {k: np.asarray(params[k], dtype=float) for k in ("kp1", "kp2", "kp3", "Ib", "Fsnc", "ke1", "ke2", "k1", "k2",
                                                          "Vm0", "Km0")}

    def tissue(gp: np.ndarray) -> np.ndarray:
        # k1 Gp - k2 Gt = Vm0 Gt / (Km0 + Gt): the positive root of a quadratic in Gt
        bq = g["k1"] * gp - g["k2"] * g["Km0"] - g["Vm0"]
        return (bq + np.sqrt(bq * bq + 4.0 * g["k2"] * g["k1"] * gp * g["Km0"])) / (2.0 * g["k2"])

    def residual(gp: np.ndarray) -> np.ndarray:
        egp = np.maximum(g["kp1"] - g["kp2"] * gp - g["kp3"] * g["Ib"], 0.0)
        renal = np.where(gp > g["ke2"], g["ke1"] * (gp - g["ke2"]), 0.0)
        return egp - g["Fsnc"] - renal - g["k1"] * gp + g["k2"] * tissue(gp)

    lo, hi = np.full_like(g["kp1"], 1e-6), np.full_like(g["kp1"], 5000.0)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        up = residual(mid) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    gp = 0.5 * (lo + hi)
    return gp, tissue(gp)


class _Model:
    """The right-hand side for ``n`` parameter sets (attributes are arrays of shape ``(n,)``)."""

    def __init__(self, params: Mapping[str, np.ndarray], n: int) -> None:
        for k in MODEL_PARAMS:
            setattr(self, k, np.broadcast_to(np.asarray(params[k], dtype=float), (n,)).copy())
        self.n = n

    def take(self, idx: np.ndarray) -> _Model:
        sub = object.__new__(_Model)
        for k in MODEL_PARAMS:
            setattr(sub, k, getattr(self, k)[idx])
        sub.n = len(idx)
        return sub

    def rhs(self, x: np.ndarray, cho: np.ndarray, insulin: np.ndarray, dbar: np.ndarray) -> np.ndarray:
        """``dx/dt`` for states ``x`` of shape ``(13, n)``; ``cho`` g/min, ``insulin`` U/min, ``dbar`` mg."""
        dx = np.empty_like(x)
        meal = cho * 1000
        ins = insulin * 6000 / self.BW
        qsto = x[0] + x[1]
        dx[0] = -self.kmax * x[0] + meal
        with np.errstate(divide="ignore", invalid="ignore"):
            aa = 5 / (2 * dbar * (1 - self.b))
            cc = 5 / (2 * dbar * self.d)
            kgut = self.kmin + (self.kmax - self.kmin) / 2 * (
                np.tanh(aa * (qsto - self.b * dbar)) - np.tanh(cc * (qsto - self.d * dbar)) + 2)
        kgut = np.where(dbar > 0, kgut, self.kmax)
        dx[1] = self.kmax * x[0] - x[1] * kgut
        dx[2] = kgut * x[1] - self.kabs * x[2]
        rat = self.f * self.kabs * x[2] / self.BW
        egp = self.kp1 - self.kp2 * x[3] - self.kp3 * x[8]
        renal = np.where(x[3] > self.ke2, self.ke1 * (x[3] - self.ke2), 0.0)
        dx[3] = np.maximum(egp, 0) + rat - self.Fsnc - renal - self.k1 * x[3] + self.k2 * x[4]
        dx[3] *= x[3] >= 0
        uid = (self.Vm0 + self.Vmx * x[6]) * x[4] / (self.Km0 + x[4])
        dx[4] = -uid + self.k1 * x[3] - self.k2 * x[4]
        dx[4] *= x[4] >= 0
        dx[5] = -(self.m2 + self.m4) * x[5] + self.m1 * x[9] + self.ka1 * x[10] + self.ka2 * x[11]
        it = x[5] / self.Vi
        dx[5] *= x[5] >= 0
        dx[6] = -self.p2u * x[6] + self.p2u * (it - self.Ib)
        dx[7] = -self.ki * (x[7] - it)
        dx[8] = -self.ki * (x[8] - x[7])
        dx[9] = -(self.m1 + self.m30) * x[9] + self.m2 * x[5]
        dx[9] *= x[9] >= 0
        dx[10] = ins - (self.ka1 + self.kd) * x[10]
        dx[10] *= x[10] >= 0
        dx[11] = self.kd * x[10] - self.ka2 * x[11]
        dx[11] *= x[11] >= 0
        dx[12] = -self.ksc * x[12] + self.ksc * x[3]
        dx[12] *= x[12] >= 0
        return dx


def _norm(v: np.ndarray, sk: np.ndarray) -> np.ndarray:
    r = v / sk
    return (r * r).sum(axis=0)


def _initial_step(model: _Model, x: np.ndarray, f0: np.ndarray, hmax: float, u: tuple) -> np.ndarray:
    """Hairer's starting step (HINIT, order 5), per column."""
    sk = ATOL + RTOL * np.abs(x)
    dnf, dny = _norm(f0, sk), _norm(x, sk)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where((dnf <= 1e-10) | (dny <= 1e-10), 1e-6, np.sqrt(dny / dnf) * 0.01)
    h = np.minimum(h, hmax)
    f1 = model.rhs(x + h * f0, *u)
    der2 = np.sqrt(_norm(f1 - f0, sk)) / h
    der12 = np.maximum(np.abs(der2), np.sqrt(dnf))
    with np.errstate(divide="ignore"):
        h1 = np.where(der12 <= 1e-15, np.maximum(1e-6, np.abs(h) * 1e-3), (0.01 / der12) ** (1.0 / 5))
    return np.minimum(np.minimum(100 * np.abs(h), h1), hmax)


def _advance(model: _Model, x: np.ndarray, t: np.ndarray, h: np.ndarray, u: tuple) -> None:
    """Integrate every column of ``x`` from ``t`` to ``t + 1`` (minutes) in place, as one solver call.

    ``h`` holds each column's carried step size (0: choose one); it is updated, like ``t``.
    """
    n = x.shape[1]
    tend = t + 1.0
    hmax = 1.0
    k1 = model.rhs(x, *u)
    fresh = h == 0
    if fresh.any():
        idx = np.flatnonzero(fresh)
        sub = model if len(idx) == n else model.take(idx)
        h[idx] = _initial_step(sub, x[:, idx], k1[:, idx], hmax, tuple(a[idx] for a in u))
    facold = np.full(n, 1e-4)
    reject = np.zeros(n, dtype=bool)
    active = np.arange(n)
    while len(active):
        full = len(active) == n
        m = model if full else model.take(active)
        uu = u if full else tuple(a[active] for a in u)
        y = x if full else x[:, active]
        kk1 = k1 if full else k1[:, active]
        tt, hh = t[active], h[active]
        last = (tt + 1.01 * hh - tend[active]) > 0
        hh = np.where(last, tend[active] - tt, hh)
        ks = [kk1, m.rhs(y + hh * _A[0][0] * kk1, *uu)]
        for coef in _A[1:5]:
            acc = coef[0] * ks[0]
            for j in range(1, len(coef)):
                acc = acc + coef[j] * ks[j]
            ks.append(m.rhs(y + hh * acc, *uu))
        a7 = _A[5]
        y1 = y + hh * (a7[0] * ks[0] + a7[2] * ks[2] + a7[3] * ks[3] + a7[4] * ks[4] + a7[5] * ks[5])
        k7 = m.rhs(y1, *uu)
        errv = (_E[0] * ks[0] + _E[1] * ks[2] + _E[2] * ks[3] + _E[3] * ks[4] + _E[4] * ks[5] + _E[5] * k7) * hh
        sk = ATOL + RTOL * np.maximum(np.abs(y), np.abs(y1))
        err = np.sqrt(_norm(errv, sk) / 13)
        fac11 = err ** _EXPO1
        fac = np.maximum(_FACC2, np.minimum(_FACC1, fac11 / facold[active] ** _BETA / _SAFE))
        hnew = hh / fac
        ok = err <= 1.0
        # accepted steps
        hacc = np.where(last, hnew, np.minimum(np.abs(hnew), hmax))
        hacc = np.where(~last & reject[active], np.minimum(np.abs(hacc), hh), hacc)
        # rejected steps
        hrej = hh / np.minimum(_FACC1, fac11 / _SAFE)
        h[active] = np.where(ok, hacc, hrej)
        acc_idx = active[ok]
        if len(acc_idx):
            x[:, acc_idx] = y1[:, ok]
            k1[:, acc_idx] = k7[:, ok]
            t[acc_idx] = tt[ok] + hh[ok]
            facold[acc_idx] = np.maximum(err[ok], 1e-4)
        reject[active] = ~ok
        active = active[~(ok & last)]


def simulate_minutes(params: Mapping[str, np.ndarray], cho: np.ndarray, insulin: np.ndarray, *,
                     bolus_rule: BolusRule | None = None, bolus_carbs: np.ndarray | None = None
                     ) -> dict[str, np.ndarray]:
    """Run ``n`` parameter sets minute by minute.

    Args:
        params: the parameter arrays (:data:`MODEL_PARAMS` and the initial states ``x0_1``..``x0_13``),
            each of shape ``(n,)`` (or scalars).
        cho: shape ``(m,)``: grams of carbohydrate announced at each minute (eaten at 5 g/min).
        insulin: shape ``(m, n)`` or ``(m,)``: the insulin rate (U/min) over each minute.
        bolus_rule: called at each minute where ``bolus_carbs`` (default ``cho``) is positive, with
            those grams and each sample's glucose (mg/dL, noiseless); returns a bolus (U) per
            sample, given over that minute (a negative bolus counts as none).
        bolus_carbs: shape ``(m,)``: the grams the bolus rule covers at each minute.

    Returns:
        ``glucose`` (subcutaneous glucose, mg/dL: what simglucose reports as BG and its CGM
        measures), ``plasma_glucose`` (mg/dL), ``plasma_insulin`` (pmol/L), each of shape
        ``(n, m + 1)`` (minute 0 to m), ``insulin`` (U/min actually given, shape ``(n, m)``)
        and ``states`` (shape ``(13, n)``, at the end).
    """
    n = max(np.size(params[k]) for k in (*MODEL_PARAMS, *STATES))
    model = _Model(params, n)
    x = np.stack([np.broadcast_to(np.asarray(params[k], dtype=float), (n,)) for k in STATES]).copy()
    cho = np.asarray(cho, dtype=float)
    minutes = len(cho)
    covered = cho if bolus_carbs is None else np.asarray(bolus_carbs, dtype=float)
    insulin = np.asarray(insulin, dtype=float)
    insulin = np.broadcast_to(insulin.reshape(minutes, -1), (minutes, n)).copy()
    vg, vi = np.broadcast_to(model.Vg, (n,)), np.broadcast_to(model.Vi, (n,))
    gsub = np.empty((n, minutes + 1))
    gpl = np.empty((n, minutes + 1))
    ipl = np.empty((n, minutes + 1))
    gsub[:, 0], gpl[:, 0], ipl[:, 0] = x[12] / vg, x[3] / vg, x[5] / vi
    t = np.zeros(n)
    h = np.zeros(n)
    planned = 0.0
    last_eat = 0.0
    eaten = 0.0
    eating = False
    last_qsto = x[0] + x[1]
    for i in range(minutes):
        planned += cho[i]
        eat = min(EAT_RATE, planned) if planned > 0 else 0.0
        if planned > 0:
            planned = max(0.0, planned - eat)
        if eat > 0 and last_eat <= 0:
            last_qsto = x[0] + x[1]
            eaten = 0.0
            eating = True
        if eating:
            eaten += eat
        if eat <= 0 and last_eat > 0:
            eating = False
        last_eat = eat
        if bolus_rule is not None and covered[i] > 0:
            insulin[i] += np.maximum(bolus_rule(covered[i], gsub[:, i]), 0.0)
        dbar = last_qsto + eaten * 1000
        h[:] = 0.0  # scipy's dopri5 chooses a fresh first step at every call
        _advance(model, x, t, h, (np.full(n, eat), insulin[i], dbar))
        gsub[:, i + 1], gpl[:, i + 1], ipl[:, i + 1] = x[12] / vg, x[3] / vg, x[5] / vi
    return {"glucose": gsub, "plasma_glucose": gpl, "plasma_insulin": ipl, "insulin": insulin.T, "states": x}


class BolusRule:
    """A meal bolus: ``carbs / carb_ratio + (g > correct_above) * (g - target) / correction_factor`` (U).

    Args:
        carb_ratio: grams of carbohydrate per unit, per sample (shape ``(n,)`` or a scalar).
        correction_factor: mg/dL lowered per unit, per sample.
        target: the glucose (mg/dL) a correction aims at.
        correct_above: corrections are given only above this glucose (mg/dL).
    """

    def __init__(self, carb_ratio, correction_factor, target: float = 140.0, correct_above: float = 150.0) -> None:
        self.carb_ratio = np.asarray(carb_ratio, dtype=float)
        self.correction_factor = np.asarray(correction_factor, dtype=float)
        self.target = float(target)
        self.correct_above = float(correct_above)

    def __call__(self, carbs: float, glucose: np.ndarray) -> np.ndarray:
        return carbs / self.carb_ratio + (glucose > self.correct_above) * (glucose - self.target) / self.correction_factor
