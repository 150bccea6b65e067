"""Blood pressure under antihypertensives: dose-response from meta-analyses, Bayesian personalization.

The model, per patient (a linear Gaussian model, so that calibration is exact and conjugate):

* an untreated mean blood pressure ``b`` (SBP and DBP, mmHg);
* each drug class (thiazide, ACE inhibitor, ARB, calcium-channel blocker, beta-blocker) lowers
  it by the placebo-adjusted reduction of Law, Wald, Morris & Jordan, BMJ 2003;326:1427 (354
  randomised trials), read at the class's daily dose as a multiple of the standard dose: an
  Emax curve through the paper's reductions at half, one and two standard doses (all classes:
  7.1/4.4, 9.1/5.5, 10.9/6.5 mmHg); classes add (Law 2003; Wald et al., Am J Med
  2009;122:290-300: observed/expected 1.01), doses of one class are summed before the curve;
* the reduction is scaled by the patient's responsiveness ``theta``, whose prior mean grows
  with the pretreatment pressure as Law 2003 found (1.0 mmHg SBP and 1.1 mmHg DBP more per
  10 mmHg higher, around their trials' mean of 154/97 mmHg) and whose spread is the
  between-patient variability of the response;
* the effect approaches its steady state with first-order onset (and offset) kinetics, a
  time constant per class (days);
* each reading scatters around the mean with the within-patient (reading-to-reading) SD,
  times a per-patient scale ``reading_scale`` (log-normal prior around 1).

Outputs: ``sbp`` and ``dbp`` are the patient's underlying pressure (the safety thresholds,
SBP < 90 hypotension, SBP > 180 or DBP > 120 hypertensive urgency, apply to them);
``sbp_reading`` and ``dbp_reading`` are single readings, the mean plus the scatter.
Observations given to :meth:`~BloodPressureSimulator.calibrate` name readings ``sbp``/``dbp``.

:meth:`BloodPressureSimulator.calibrate` takes the patient's readings (home or office,
before and on treatment, with the plan they were taking) and returns exact posterior
samples of ``b`` and ``theta`` (Gaussian given the patient's reading scatter, whose scale is
integrated on a grid by its exact marginal likelihood); :meth:`BloodPressureSimulator.from_record` builds the twin
from a Hygeia record (LOINC 8480-6 / 8462-4 readings, antihypertensives by name in their
RxNorm display). Numbers marked as settings below are parameters, not measurements.

Example:
    >>> from hygeia.twin import Dose, Plan
    >>> sim = BloodPressureSimulator(baseline_sbp=160, baseline_dbp=100)
    >>> plan = Plan("amlodipine", doses=(Dose("amlodipine", 5, "mg", every_h=24, times=56),), horizon_h=56 * 24)
    >>> run = sim.simulate(plan, n=2000, seed=1)
    >>> drop = run.series("sbp")[:, 0] - run.final("sbp")
    >>> bool(8 < drop.mean() < 12)
    True
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from hygeia.errors import ConfigError, Problem
from hygeia.twin._plan import Dose, Plan, check_plan
from hygeia.twin._simulator import Output, Params, Simulator, Trajectories, register

__all__ = ["BP_CLASSES", "BP_DRUGS", "BloodPressureSimulator", "bp_reduction"]

#: Placebo-adjusted reductions (mmHg) at 0.5, 1 and 2 standard doses, by class: Law MR, Wald NJ,
#: Morris JK, Jordan RE. BMJ 2003;326:1427, the table of reductions by dose (the pooled row,
#: 7.1/9.1/10.9 SBP and 4.4/5.5/6.5 DBP, agrees with the abstract).
LAW_2003 = {
    "thiazide": ((7.4, 8.8, 10.3), (3.7, 4.4, 5.0)),
    "beta_blocker": ((7.4, 9.2, 11.1), (5.6, 6.7, 7.8)),
    "ace_inhibitor": ((6.9, 8.5, 10.0), (3.7, 4.7, 5.7)),
    "arb": ((7.8, 10.3, 12.3), (4.5, 5.7, 6.5)),
    "ccb": ((5.9, 8.8, 11.7), (3.9, 5.9, 7.9)),
}
BP_CLASSES = tuple(LAW_2003)
#: Law 2003: the reduction grows by 1.0 (SBP) and 1.1 (DBP) mmHg per 10 mmHg higher pretreatment
#: pressure, around the trials' mean pretreatment pressure of 154/97 mmHg.
PRETREATMENT_SLOPE = (0.10, 0.11)
PRETREATMENT_MEAN = (154.0, 97.0)
#: Onset time constants in days (setting): first-order approach to the steady-state effect, chosen
#: from the labels' times to maximal effect (thiazides and ARBs 3-4 weeks, CCBs 1-2 weeks after
#: steady-state levels at 7-8 days, ACE inhibitors 2 weeks, beta-blockers 1 week).
ONSET_DAYS = {"thiazide": 7.0, "beta_blocker": 2.0, "ace_inhibitor": 3.5, "arb": 7.0, "ccb": 5.0}
#: Generic drug -> (class, standard daily dose in mg, doses a day): the usual maintenance doses (BNF),
#: which is how Law 2003 defines a standard dose (setting).
BP_DRUGS: dict[str, tuple[str, float, int]] = {
    "hydrochlorothiazide": ("thiazide", 25.0, 1), "chlorthalidone": ("thiazide", 25.0, 1),
    "bendroflumethiazide": ("thiazide", 2.5, 1), "indapamide": ("thiazide", 2.5, 1),
    "lisinopril": ("ace_inhibitor", 10.0, 1), "enalapril": ("ace_inhibitor", 10.0, 1),
    "ramipril": ("ace_inhibitor", 5.0, 1), "perindopril": ("ace_inhibitor", 4.0, 1),
    "captopril": ("ace_inhibitor", 50.0, 2),
    "losartan": ("arb", 50.0, 1), "valsartan": ("arb", 80.0, 1), "candesartan": ("arb", 8.0, 1),
    "irbesartan": ("arb", 150.0, 1), "telmisartan": ("arb", 40.0, 1), "olmesartan": ("arb", 20.0, 1),
    "amlodipine": ("ccb", 5.0, 1), "felodipine": ("ccb", 5.0, 1), "nifedipine": ("ccb", 30.0, 1),
    "lercanidipine": ("ccb", 10.0, 1),
    "atenolol": ("beta_blocker", 50.0, 1), "metoprolol": ("beta_blocker", 100.0, 1),
    "bisoprolol": ("beta_blocker", 5.0, 1), "carvedilol": ("beta_blocker", 25.0, 2),
}
#: The largest daily dose simulated, as a multiple of the standard dose (the trials span 0.5-2; 4 at most).
MAX_MULTIPLE = 4.0


def _fit_emax(doses: Sequence[float], effects: Sequence[float]) -> tuple[float, float]:
    """Least-squares Emax curve ``e = emax * d / (ed50 + d)`` through the points (grid over ed50)."""
    d, e = np.asarray(doses), np.asarray(effects)
    best = (np.inf, 0.0, 0.0)
    for ed50 in np.exp(np.linspace(np.log(0.01), np.log(20.0), 4000)):
        x = d / (ed50 + d)
        emax = float(x @ e / (x @ x))
        sse = float(((emax * x - e) ** 2).sum())
        if sse < best[0]:
            best = (sse, emax, float(ed50))
    return best[1], best[2]


@functools.cache
def _emax(drug_class: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((emax, ed50) SBP, (emax, ed50) DBP)`` of a class, fitted to LAW_2003 on first use."""
    return tuple(_fit_emax((0.5, 1.0, 2.0), v) for v in LAW_2003[drug_class])


def bp_reduction(drug_class: str, multiple: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The average steady-state SBP and DBP reductions (mmHg) of a class at a daily dose.

    Args:
        drug_class: one of :data:`BP_CLASSES`.
        multiple: the daily dose as a multiple of the standard dose.

    Example:
        >>> [round(float(x), 1) for x in bp_reduction("arb", 1.0)]
        [10.3, 5.7]
    """
    m = np.asarray(multiple, dtype=float)
    (es, ks), (ed, kd) = _emax(drug_class)
    return es * m / (ks + m), ed * m / (kd + m)


def _drug_class(drug: str) -> tuple[str, float]:
    """``(class, mg per standard daily dose)``; a class name stands for itself with unit standard_dose."""
    if drug in LAW_2003:
        return drug, 1.0
    return BP_DRUGS[drug][0], BP_DRUGS[drug][1]


@register
class BloodPressureSimulator(Simulator):
    """SBP and DBP under antihypertensive plans (see the module docstring for the model).

    Args:
        baseline_sbp, baseline_dbp: the prior mean untreated pressure (mmHg; setting).
        baseline_sd: prior SDs of the untreated SBP and DBP between patients (setting).
        baseline_corr: prior correlation of untreated SBP and DBP (setting).
        response_sd: between-patient SD of the responsiveness ``theta`` (1 = the average
            response of Law 2003; setting: with 0.5 a few patients, mostly those of low
            pretreatment pressure, do not respond or see a small rise, as individual responses
            to one drug range from a fall of 20-30 mmHg to none or a small rise).
        response_corr: correlation of the SBP and DBP responsiveness (setting).
        reading: ``office`` or ``home``: whose reading-to-reading SD the simulated readings carry.
        reading_sd: within-patient SD of one reading (mmHg), ``{kind: (sbp, dbp)}`` (setting:
            office visit-to-visit about 10/7, averaged home readings about 7/5).
        reading_scale_sd: the patient's own scatter is ``reading_scale`` times that SD, with
            ``log(reading_scale)`` ~ N(0, reading_scale_sd^2) a priori (setting); calibration
            learns it from the readings.
        current: the regimen the patient takes at steady state when the plan starts,
            ``{drug: daily amount}`` (mg, or multiples of the standard dose for a class name);
            drugs the plan does not continue wash out.

    Plans: oral doses of a generic (``unit = "mg"``, e.g. ``amlodipine``) or of a class
    (``unit = "standard_dose"``, e.g. ``ccb``), usually ``every_h = 24`` with ``times`` days.

    Example:
        >>> from hygeia.twin import Dose, Plan, compare
        >>> plans = [Plan(f"{mg:g} mg", doses=(Dose("lisinopril", mg, "mg", every_h=24, times=28),), horizon_h=672)
        ...          for mg in (5, 20)]
        >>> c = compare(BloodPressureSimulator(), plans, n=500, seed=2)
        >>> bool(c.difference("sbp", lambda r: r.final("sbp")).mean() < -2)
        True
    """

    name: ClassVar[str] = "bp"
    outputs: ClassVar[tuple[Output, ...]] = (
        # the patient's underlying (mean) pressure: what the safety thresholds apply to
        Output("sbp", "mmHg", 50.0, 280.0, safe_low=90.0, safe_high=180.0,
               low_event="hypotension", high_event="hypertensive urgency"),
        Output("dbp", "mmHg", 25.0, 160.0, safe_high=120.0, high_event="hypertensive urgency"),
        # one reading (the mean plus reading-to-reading scatter): what a held-out reading is compared with
        Output("sbp_reading", "mmHg", 50.0, 280.0),
        Output("dbp_reading", "mmHg", 25.0, 160.0),
    )
    drugs: ClassVar[Mapping[str, Sequence[str]]] = {**{d: ["mg"] for d in BP_DRUGS},
                                                    **{c: ["standard_dose"] for c in BP_CLASSES}}
    default_horizon_h: ClassVar[float] = 28 * 24.0
    default_step_h: ClassVar[float] = 24.0

    def __init__(self, *, baseline_sbp: float = 150.0, baseline_dbp: float = 90.0,
                 baseline_sd: tuple[float, float] = (18.0, 11.0), baseline_corr: float = 0.6,
                 response_sd: float = 0.5, response_corr: float = 0.7, reading: str = "office",
                 reading_sd: Mapping[str, tuple[float, float]] | None = None, reading_scale_sd: float = 0.4,
                 current: Mapping[str, float] | None = None) -> None:
        self.baseline_sbp = baseline_sbp
        self.baseline_dbp = baseline_dbp
        self.baseline_sd = baseline_sd
        self.baseline_corr = baseline_corr
        self.response_sd = response_sd
        self.response_corr = response_corr
        self.reading = reading
        self.reading_sd = reading_sd
        self.reading_scale_sd = reading_scale_sd
        self.current = current

    # -- the model ---------------------------------------------------------------------------------
    def _reading_sd(self, kind: str) -> tuple[float, float]:
        table = dict(self.reading_sd or {"office": (10.0, 7.0), "home": (7.0, 5.0)})
        if kind not in table:
            raise ConfigError(f"reading kind {kind!r} is not one of {', '.join(table)}; set the observations' "
                              f"'source' column (or reading=) to one of them")
        return table[kind]

    def prior_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of ``(b_sbp, b_dbp, theta_sbp, theta_dbp)`` before any reading.

        ``theta = 1 + a (b - mean_pretreatment) + response_sd * z``: linear in ``b`` and ``z``,
        so the prior is jointly Gaussian.
        """
        mb = np.array([self.baseline_sbp, self.baseline_dbp], dtype=float)
        sb = np.asarray(self.baseline_sd, dtype=float)
        cov_b = np.outer(sb, sb) * np.array([[1.0, self.baseline_corr], [self.baseline_corr, 1.0]])
        cov_z = self.response_sd ** 2 * np.array([[1.0, self.response_corr], [self.response_corr, 1.0]])
        a = np.array([PRETREATMENT_SLOPE[i] / LAW_2003_POOLED[i] for i in range(2)])  # per mmHg, relative
        # x = (b, theta) = M (b, z) + c
        m = np.zeros((4, 4))
        m[0, 0] = m[1, 1] = 1.0
        m[2, 0], m[3, 1] = a
        m[2, 2] = m[3, 3] = 1.0
        cov_w = np.zeros((4, 4))
        cov_w[:2, :2], cov_w[2:, 2:] = cov_b, cov_z
        mean = np.concatenate([mb, 1.0 + a * (mb - np.asarray(PRETREATMENT_MEAN))])
        return mean, m @ cov_w @ m.T

    def effect_curve(self, plan: Plan | None, times_h: np.ndarray, *, current: Mapping[str, float] | None = None
                     ) -> np.ndarray:
        """Shape ``(len(times_h), 2)``: the average patient's SBP and DBP reduction over time (mmHg).

        ``current`` (default: the simulator's) is at steady state at time 0; each class
        approaches the reduction of the daily dose in force with its onset time constant.
        """
        from scipy.signal import lfilter  # scipy.signal takes most of a second to import: only when used

        times_h = np.asarray(times_h, dtype=float)
        end = float(times_h.max()) if len(times_h) else 0.0
        dt = 1.0  # hours; the drive is piecewise constant on this grid
        grid = np.arange(0.0, end + dt, dt)
        drive = {c: np.zeros(len(grid)) for c in BP_CLASSES}
        start_level = {c: 0.0 for c in BP_CLASSES}
        for drug, daily in dict((self.current or {}) if current is None else current).items():
            cls, std = _drug_class(drug)
            start_level[cls] += float(daily) / std
        for dose in (plan.doses if plan is not None else ()):
            cls, std = _drug_class(dose.drug)
            interval = dose.every_h if dose.every_h > 0 else 24.0
            count = dose.times if dose.every_h > 0 else 1
            lo = round(dose.at_h / dt)
            hi = round((dose.at_h + interval * count) / dt)
            drive[cls][lo:hi] += dose.amount / std * 24.0 / interval
        total = np.zeros((len(grid), 2))
        for cls in BP_CLASSES:
            level = np.stack(bp_reduction(cls, drive[cls]), axis=1)  # (grid, 2) steady-state target
            first = np.stack(bp_reduction(cls, start_level[cls]), axis=0) if start_level[cls] > 0 else np.zeros(2)
            k = math.exp(-dt / (ONSET_DAYS[cls] * 24.0))
            for j in range(2):
                # E[i+1] = k E[i] + (1 - k) target[i], started from the current regimen's steady state
                e, _ = lfilter([1.0 - k], [1.0, -k], level[:, j], zi=[k * first[j]])
                total[1:, j] += e[:-1]
                total[0, j] += first[j]
        return np.stack([np.interp(times_h, grid, total[:, j]) for j in range(2)], axis=1)

    # -- plans -----------------------------------------------------------------------------------------
    def check(self, plan: Plan) -> None:
        """The common checks, then oral route, dose ceilings and overlaps of one drug; every problem at once.

        Raises:
            ConfigError: naming each problem, its value and the fix.
        """
        check_plan(plan, self.drugs, backend=self.name)
        problems: list[Problem] = []
        if plan.settings:
            problems.append(Problem("settings", f"the bp back-end reads no settings; got {', '.join(map(str, plan.settings))}"))
        for i, dose in enumerate(plan.doses):
            at = f"dose {i + 1} ({dose.drug})"
            if dose.drug not in self.drugs:
                continue
            if dose.route != "oral":
                problems.append(Problem(at, f"route {dose.route!r}: antihypertensives here are oral; write route = \"oral\""))
            std = _drug_class(dose.drug)[1]
            interval = dose.every_h if dose.every_h > 0 else 24.0
            multiple = dose.amount / std * 24.0 / interval
            if math.isfinite(multiple) and multiple > MAX_MULTIPLE:
                problems.append(Problem(at, f"{dose.amount:g} {dose.unit} every {interval:g} h is {multiple:.1f} x the "
                                            f"standard daily dose ({std:g} {'mg' if dose.drug in BP_DRUGS else dose.unit}); "
                                            f"the dose-response (Law 2003) covers 0.5-2 x and is not extrapolated past "
                                            f"{MAX_MULTIPLE:g} x: lower the amount"))
        spans: dict[str, list[tuple[float, float, int]]] = {}
        for i, dose in enumerate(plan.doses):
            span = dose.every_h * dose.times if dose.every_h > 0 else 24.0
            spans.setdefault(dose.drug, []).append((dose.at_h, dose.at_h + span, i + 1))
        for drug, items in spans.items():
            items.sort()
            for (a0, a1, ia), (b0, _, ib) in itertools.pairwise(items):
                if b0 < a1 - 1e-9:
                    problems.append(Problem(f"doses {ia} and {ib} ({drug})", f"overlap from {b0:g} h to {a1:g} h; give one "
                                            f"dose per period (end the first with 'times', start the next after it)"))
        for drug, daily in dict(self.current or {}).items():
            if drug not in self.drugs:
                problems.append(Problem(f"current regimen ({drug})", f"unknown drug; this simulator knows: "
                                                                     f"{', '.join(sorted(self.drugs))}"))
            elif not (isinstance(daily, (int, float)) and math.isfinite(daily) and daily >= 0):
                problems.append(Problem(f"current regimen ({drug})", f"daily amount {daily!r} is not a dose >= 0"))
        if self.reading not in dict(self.reading_sd or {"office": 0, "home": 0}):
            problems.append(Problem("reading", f"{self.reading!r} is not office or home"))
        if problems:
            raise ConfigError(f"plan {plan.name!r} cannot be simulated by 'bp':\n  " + "\n  ".join(problems))

    # -- the Simulator interface -------------------------------------------------------------------------
    def prior(self, n: int, *, seed: int | None = None) -> Params:
        """``n`` draws of ``b_sbp, b_dbp, theta_sbp, theta_dbp`` and ``reading_scale`` from the population prior."""
        mean, cov = self.prior_moments()
        rng = np.random.default_rng(seed)
        x = rng.multivariate_normal(mean, cov, size=n, method="cholesky")
        return dict(zip(PARAMS, x.T)) | {"reading_scale": np.exp(self.reading_scale_sd * rng.standard_normal(n))}

    def calibrate(self, observations: pd.DataFrame, *, plan: Plan | None = None, n: int = 200,
                  seed: int | None = None) -> Params:
        """Posterior draws of ``b``, ``theta`` and ``reading_scale`` from the patient's readings.

        Given the reading scale the model is linear Gaussian, so ``(b, theta)`` are drawn from
        their exact conjugate posterior; the scale is drawn from its posterior on a log grid
        (0.2-4, 80 points), computed from the exact marginal likelihood of the readings.

        Args:
            observations: ``time_h``, ``output`` (``sbp`` or ``dbp``), ``value`` (mmHg), and
                optionally ``source`` (``office`` or ``home``; default the simulator's ``reading``).
            plan: what the patient took while observed (times from the same origin); ``None``: untreated.
            n: posterior draws.
            seed: the seed of the draws.

        Raises:
            ConfigError: when the observations lack a column, hold no sbp/dbp reading or a value
                that is not a blood pressure.
        """
        obs = _readings(observations, self.reading)
        if plan is not None:
            self.check(plan)
        curve = self.effect_curve(plan, obs["time_h"].to_numpy(), current={})
        mean, cov = self.prior_moments()
        which = (obs["output"] == "dbp").to_numpy().astype(int)
        rows = np.arange(len(obs))
        h = np.zeros((len(obs), 4))
        h[rows, which] = 1.0
        h[rows, 2 + which] = -curve[rows, which]
        sd = np.array([self._reading_sd(s)[w] for s, w in zip(obs["source"], which)])
        y = obs["value"].to_numpy(dtype=float)
        # the reading scale s on a log grid: its exact marginal likelihood given s, times its prior;
        # given s, (b, theta) are Gaussian (conjugate)
        grid = np.exp(np.linspace(math.log(0.2), math.log(4.0), 80))
        cov_inv = np.linalg.inv(cov)
        resid = y - h @ mean
        logdet_cov = np.linalg.slogdet(cov)[1]
        logpost, moments = np.empty(len(grid)), []
        for g, scale in enumerate(grid):
            w = 1.0 / (scale * sd) ** 2
            prec = cov_inv + (h * w[:, None]).T @ h
            post_cov = np.linalg.inv(prec)
            post_cov = (post_cov + post_cov.T) / 2
            post_mean = post_cov @ (cov_inv @ mean + h.T @ (w * y))
            hw_r = h.T @ (w * resid)
            quad = float(resid @ (w * resid) - hw_r @ post_cov @ hw_r)
            logdet = float(-np.log(w).sum() + logdet_cov + np.linalg.slogdet(prec)[1])
            logpost[g] = -0.5 * (logdet + quad) - 0.5 * (math.log(scale) / self.reading_scale_sd) ** 2
            moments.append((post_mean, post_cov))
        prob = np.exp(logpost - logpost.max())
        rng = np.random.default_rng(seed)
        pick = rng.choice(len(grid), size=n, p=prob / prob.sum())
        x = np.empty((n, 4))
        for g in np.unique(pick):
            at = np.flatnonzero(pick == g)
            x[at] = rng.multivariate_normal(*moments[g], size=len(at), method="cholesky")
        return dict(zip(PARAMS, x.T)) | {"reading_scale": grid[pick]}

    def simulate(self, plan: Plan, *, params: Params | None = None, n: int = 200, seed: int | None = None,
                 step_h: float | None = None) -> Trajectories:
        """Check the plan for this back-end, then simulate it (see :meth:`Simulator.simulate`)."""
        self.check(plan)
        return super().simulate(plan, params=params, n=n, seed=seed, step_h=step_h)

    def _simulate(self, plan: Plan, params: Params, times_h: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        missing = [p for p in PARAMS if p not in params]
        if missing:
            raise ConfigError(f"bp parameters lack {', '.join(missing)}; draw them with prior() or calibrate()")
        curve = self.effect_curve(plan, times_h)
        mean_s = params["b_sbp"][:, None] - params["theta_sbp"][:, None] * curve[None, :, 0]
        mean_d = params["b_dbp"][:, None] - params["theta_dbp"][:, None] * curve[None, :, 1]
        sd_s, sd_d = self._reading_sd(self.reading)
        scale = np.asarray(params.get("reading_scale", np.ones(len(mean_s))), dtype=float)[:, None]
        sd_s, sd_d = sd_s * scale, sd_d * scale
        noise = rng.standard_normal((2, *mean_s.shape))
        return np.stack([mean_s, mean_d, mean_s + sd_s * noise[0], mean_d + sd_d * noise[1]], axis=2)

    # -- from a Hygeia record --------------------------------------------------------------------------------
    @classmethod
    def from_record(cls, person: Mapping[str, Any], events: pd.DataFrame, *, window_days: float = 3 * 365.0):
        """The patient's twin: readings of the last ``window_days`` and the antihypertensives taken then.

        Readings are LOINC 8480-6 (SBP) and 8462-4 (DBP) observations (office readings);
        medications are matched by generic name in their RxNorm display and their strength
        ("amlodipine 5 MG Oral Tablet"); other drugs are listed as not modelled. Time 0 of the
        history is 60 days before the window (so that older drugs reach steady state); the
        plans start at the last reading, with the drugs taken then as ``current``.

        Returns:
            a :class:`~hygeia.twin.Twin` (simulator, observations, history plan, what was taken).
        """
        from hygeia.twin._twin import Twin

        ev = events.copy()
        ev["time"] = pd.to_datetime(ev["time"])
        codes = {"8480-6": "sbp", "8462-4": "dbp"}
        bp = ev[(ev["code"].isin(list(codes))) & ev["numeric_value"].notna()]
        if bp.empty:
            raise ConfigError("the record holds no blood pressure reading (LOINC 8480-6 / 8462-4); pick a patient "
                              "with readings, or build BloodPressureSimulator() from Python")
        now = bp["time"].max()
        window_start = max(now - pd.Timedelta(days=window_days), bp["time"].min())
        origin = window_start - pd.Timedelta(days=60)
        bp = bp[bp["time"] >= window_start]
        observations = pd.DataFrame({"time_h": (bp["time"] - origin).dt.total_seconds() / 3600.0,
                                     "output": bp["code"].map(codes), "value": bp["numeric_value"].astype(float),
                                     "source": "office"}).reset_index(drop=True)
        doses: list[Dose] = []
        current: dict[str, float] = {}
        other: set[str] = set()
        meds = ev[ev["kind"] == "medication"]
        for _, med in meds.iterrows():
            found = _parse_medication(str(med.get("display") or ""))
            if found is None:
                continue
            drug, mg = found
            per_day = BP_DRUGS[drug][2]
            end = pd.to_datetime(med.get("end_time")) if pd.notna(med.get("end_time")) else None
            if end is not None and end <= origin:
                continue
            start_h = max(0.0, (med["time"] - origin).total_seconds() / 3600.0)
            stop = now if end is None or end > now else end
            days = (stop - origin).total_seconds() / 3600.0 / 24.0 - start_h / 24.0
            if days >= 1:
                doses.append(Dose(drug, mg, "mg", at_h=start_h, every_h=24.0 / per_day, times=int(days * per_day)))
            if end is None or end > now:
                current[drug] = current.get(drug, 0.0) + mg * per_day
        for display in meds["display"].dropna().unique():
            low = str(display).lower()
            if any(k in low for k in ("spironolactone", "furosemide", "sacubitril", "hydralazine", "clonidine")):
                other.add(str(display))
        history = Plan("history", doses=tuple(doses), horizon_h=float(observations["time_h"].max()))
        sim = cls(current=current or None)
        visits = observations["time_h"].nunique()
        taken = {"readings": f"{len(observations)} SBP/DBP values at {visits} times from {window_start:%Y-%m-%d} "
                             f"to {now:%Y-%m-%d}",
                 "medications": sorted({f"{d.drug} {d.amount:g} mg" for d in doses}) or "none",
                 "current_regimen_mg_per_day": current or "none",
                 "plans_start": f"{now:%Y-%m-%d} (the last reading)",
                 "not_modelled": sorted(other) or "none"}
        return Twin(sim, observations, history, int(person["subject_id"]) if "subject_id" in person else None, taken)


PARAMS = ("b_sbp", "b_dbp", "theta_sbp", "theta_dbp")
LAW_2003_POOLED = (9.1, 5.5)  # mmHg at the standard dose, all classes (Law 2003 abstract)
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*MG\b", re.IGNORECASE)


def _parse_medication(display: str) -> tuple[str, float] | None:
    """``(generic, mg per dose)`` for a single-ingredient antihypertensive RxNorm display, else ``None``.

    Example:
        >>> _parse_medication("24 HR metoprolol succinate 25 MG Extended Release Oral Tablet")
        ('metoprolol', 25.0)
    """
    if "/" in display:  # combinations (e.g. sacubitril / valsartan) are not modelled
        return None
    words = re.findall(r"[a-z]+", display.lower())
    drug = next((w for w in words if w in BP_DRUGS), None)
    if drug is None:
        return None
    strength = _STRENGTH.search(display, display.lower().index(drug))
    return (drug, float(strength.group(1))) if strength else None


def _readings(observations: pd.DataFrame, default_source: str) -> pd.DataFrame:
    need = {"time_h", "output", "value"}
    if not isinstance(observations, pd.DataFrame) or not need <= set(observations.columns):
        have = ", ".join(map(str, getattr(observations, "columns", []))) or "none"
        raise ConfigError(f"blood pressure observations need columns time_h, output, value; got {have}")
    obs = observations[observations["output"].isin(["sbp", "dbp"])].copy()
    if obs.empty:
        raise ConfigError("no sbp or dbp reading among the observations; the 'output' column must say sbp or dbp")
    plausible = np.where(obs["output"] == "sbp", obs["value"].between(40, 300), obs["value"].between(15, 200))
    bad = obs[~plausible | ~np.isfinite(obs["time_h"].astype(float))]
    if len(bad):
        row = bad.iloc[0]
        raise ConfigError(f"{len(bad)} reading(s) are not blood pressures, e.g. {row['output']} {float(row['value']):g} at "
                          f"{float(row['time_h']):g} h; give mmHg (SBP 40-300, DBP 15-200) and finite times")
    if "source" not in obs.columns:
        obs["source"] = default_source
    obs["source"] = obs["source"].fillna(default_source)
    return obs.reset_index(drop=True)
