"""The glucose-insulin back-end: the UVA/Padova type 1 diabetes model for one patient.

:class:`GlucoseSimulator` (registry name ``"glucose"``) runs a :class:`~hygeia.twin.Plan` on
one of simglucose's 30 virtual patients (the base patient), its parameters scaled by three
uncertain factors drawn from a prior or from the posterior :meth:`GlucoseSimulator.calibrate`
fits to the patient's CGM trace:

- ``si_scale``: insulin sensitivity (multiplies insulin-dependent glucose uptake ``Vmx`` and
  insulin's suppression of glucose production ``kp3``);
- ``gb_scale``: basal glucose (the fasting steady state under the patient's basal insulin;
  production ``kp1`` and the initial glucose states are moved to keep it a steady state);
- ``kabs_scale``: meal absorption (multiplies the gut absorption rate ``kabs``).

With all three at 1 the model is the virtual patient exactly, and the trace matches
simglucose 0.2.11 to round-off (see ``benchmarks/twin_glucose.py``).

Plans: ``insulin`` doses in ``U`` (a subcutaneous bolus, given over one minute, or spread
over ``duration_h``) or ``U/h`` (``sc_infusion`` with ``duration_h``); ``carbohydrate`` doses
in ``g`` (eaten at 5 g/min; no bolus covers them, e.g. a hypoglycaemia treatment).
``settings`` may hold ``meals = [[hour, grams], ...]`` (each covered by the bolus rule when
there is one), ``basal = "patient"`` (the base patient's steady-state basal rate) or a rate
in U/h, and ``bolus = true`` or ``{carb_ratio = g/U, correction_factor = mg/dL/U, target =
140, correct_above = 150}`` (defaults: the virtual patient's own ratio and factor).

Outputs: ``glucose`` (subcutaneous glucose, what simglucose reports as BG; physiological
bounds 10-600 mg/dL, hypoglycaemia below 70, hyperglycaemia above 250, and a severe
hypoglycaemia alert below 54; time in range 70-180 mg/dL unless the plan sets a glucose
target), ``cgm`` (a Dexcom-like sensor reading with simglucose's noise
model, 39-600 mg/dL), ``plasma_insulin`` (pmol/L) and ``plasma_glucose`` (mg/dL).

Example:
    >>> sim = GlucoseSimulator(patient="adolescent#001")
    >>> plan = Plan("usual", horizon_h=6, settings={"meals": [[1, 50]], "basal": "patient", "bolus": True})
    >>> run = sim.simulate(plan, n=4, seed=1)
    >>> run.values.shape, run.outputs[0].name
    ((4, 73, 4), 'glucose')
    >>> bool(run.time_in_range("glucose", 70, 180).min() > 0.5)
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from hygeia.errors import ConfigError, Problem
from hygeia.twin._glucose_model import (
    PATIENTS,
    BolusRule,
    basal_rate,
    cohort_table,
    patient_params,
    quest,
    simulate_minutes,
    steady_state,
)
from hygeia.twin._plan import Plan
from hygeia.twin._simulator import (
    Output,
    Params,
    Simulator,
    Trajectories,
    find_alerts,
    register,
)

__all__ = ["GLUCOSE_OUTPUTS", "SCALES", "TIME_IN_RANGE", "VIRTUAL_PATIENTS", "GlucoseSimulator"]

#: The 30 virtual patients a glucose twin is built on (simglucose's names).
VIRTUAL_PATIENTS: tuple[str, ...] = PATIENTS

#: The uncertain factors a parameter draw holds (see the module docstring).
SCALES = ("si_scale", "gb_scale", "kabs_scale")
#: The consensus time-in-range target (mg/dL), used when a plan sets no glucose target.
TIME_IN_RANGE = (70.0, 180.0)
#: Prior log-sd of ``gb_scale``: the virtual cohort's fasting glucose spreads only ~4%, patients more.
GB_LOG_SD = 0.1

GLUCOSE_OUTPUTS = (
    Output("glucose", "mg/dL", low=10.0, high=600.0, safe_low=70.0, safe_high=250.0,
           low_event="hypoglycaemia", high_event="hyperglycaemia"),
    Output("cgm", "mg/dL"),
    Output("plasma_insulin", "pmol/L", low=0.0),
    Output("plasma_glucose", "mg/dL", low=0.0),
)
_SEVERE = Output("glucose", "mg/dL", safe_low=54.0, low_event="severe hypoglycaemia (level 2)")
_SETTINGS = ("meals", "basal", "bolus")
_BOLUS_KEYS = ("carb_ratio", "correction_factor", "target", "correct_above")


@lru_cache(maxsize=1)
def sensor_params() -> dict[str, float]:
    """simglucose's Dexcom CGM noise parameters (Johnson SU transform of an AR(1) every 15 min)."""
    with resources.files("hygeia.twin").joinpath("resources/uva_padova_sensors.csv").open("rb") as fh:
        row = pd.read_csv(fh).set_index("Name").loc["Dexcom"]
    return {k: float(row[k]) for k in ("PACF", "gamma", "lambda", "delta", "xi", "min", "max")}


def sensor_noise(n: int, minutes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shape ``(n, len(minutes))``: CGM errors (mg/dL) at the given minutes.

    A Gaussian AR(1) drawn every 15 minutes (``e_k = PACF (e_{k-1} + N(0, 1))``), mapped through
    a Johnson SU transform and interpolated with a cubic spline, as simglucose's sensor does.
    """
    s = sensor_params()
    knots = int(np.ceil(max(float(np.max(minutes)), 1.0) / 15.0)) + 4
    e = np.empty((n, knots))
    e[:, 0] = rng.standard_normal(n)
    for k in range(1, knots):
        e[:, k] = s["PACF"] * (e[:, k - 1] + rng.standard_normal(n))
    eps = s["xi"] + s["lambda"] * np.sinh((e - s["gamma"]) / s["delta"])
    return CubicSpline(np.arange(knots) * 15.0, eps, axis=1)(np.asarray(minutes, dtype=float))


@register
class GlucoseSimulator(Simulator):
    """UVA/Padova glucose-insulin simulator for one (virtual) patient; see the module docstring.

    Args:
        patient: the base virtual patient (``adolescent#001``..``010``, ``adult#...``, ``child#...``).
        body_weight_kg: the patient's weight (``None``: the virtual patient's own).
        basal_glucose_mg_dl: the centre of the prior on fasting glucose (``None``: the virtual
            patient's basal glucose ``Gb``).
        calibration_draws: simulations per round of :meth:`calibrate` (importance sampling).

    Example:
        >>> sim = GlucoseSimulator(patient="child#003", body_weight_kg=30.0)
        >>> sorted(sim.prior(3, seed=0))
        ['gb_scale', 'kabs_scale', 'si_scale']
    """

    name: ClassVar[str] = "glucose"
    outputs: ClassVar[tuple[Output, ...]] = GLUCOSE_OUTPUTS
    drugs: ClassVar[Mapping[str, tuple[str, ...]]] = {"insulin": ("U", "U/h"), "carbohydrate": ("g",)}
    default_horizon_h: ClassVar[float] = 24.0
    default_step_h: ClassVar[float] = 5.0 / 60.0

    def __init__(self, *, patient: str = "adult#001", body_weight_kg: float | None = None,
                 basal_glucose_mg_dl: float | None = None, calibration_draws: int = 400) -> None:
        self.patient = patient
        self.body_weight_kg = body_weight_kg
        self.basal_glucose_mg_dl = basal_glucose_mg_dl
        self.calibration_draws = calibration_draws
        problems = []
        if patient not in PATIENTS:
            problems.append(Problem("patient", f"{patient!r} is not a virtual patient; choose adolescent#001..010, "
                                               f"adult#001..010 or child#001..010"))
        for key in ("body_weight_kg", "basal_glucose_mg_dl"):
            value = getattr(self, key)
            if value is not None and not (math.isfinite(value) and value > 0):
                problems.append(Problem(key, f"{value} is not a positive number; give it in "
                                             f"{'kg' if key.startswith('body') else 'mg/dL'} or leave it out"))
        if int(calibration_draws) < 50:
            problems.append(Problem("calibration_draws", f"{calibration_draws} is too few; give 50 or more"))
        if problems:
            raise ConfigError("the glucose simulator is misconfigured:\n  " + "\n  ".join(map(str, problems)))

    # -- parameters ---------------------------------------------------------------------------------
    def prior_scales(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and sd of the log scales (``si``, ``gb``, ``kabs``) under the prior.

        The sds of ``si`` and ``kabs`` are the spread (sd of the log) of ``Vmx`` and ``kabs`` over
        the base patient's cohort of 10 virtual patients; ``gb``'s is :data:`GB_LOG_SD`, centred
        on ``basal_glucose_mg_dl`` when given.
        """
        table = cohort_table()
        cohort = table[table.index.str.startswith(self.patient.split("#")[0])]
        gb = float(table.loc[self.patient, "Gb"])
        mu = np.array([0.0, math.log(self.basal_glucose_mg_dl / gb) if self.basal_glucose_mg_dl else 0.0, 0.0])
        sd = np.array([float(np.log(cohort["Vmx"]).std()), GB_LOG_SD, float(np.log(cohort["kabs"]).std())])
        return mu, sd

    def prior(self, n: int, *, seed: int | None = None) -> Params:
        """``n`` draws of the three scales (log-normal, see :meth:`prior_scales`)."""
        mu, sd = self.prior_scales()
        z = mu + sd * np.random.default_rng(seed).standard_normal((int(n), 3))
        return {k: np.exp(z[:, i]) for i, k in enumerate(SCALES)}

    def model_params(self, params: Params) -> dict[str, np.ndarray]:
        """The full UVA/Padova parameter sets (and initial states) behind scale draws ``params``.

        Raises:
            ConfigError: when a scale is missing or not positive.
        """
        missing = [k for k in SCALES if k not in params]
        if missing:
            raise ConfigError(f"glucose parameters lack {', '.join(missing)}; pass draws from prior() or calibrate()")
        scales = {k: np.asarray(params[k], dtype=float).ravel() for k in SCALES}
        n = len(scales["si_scale"])
        if any(len(v) != n for v in scales.values()) or any(not np.all(np.isfinite(v) & (v > 0)) for v in scales.values()):
            raise ConfigError("glucose scales must be positive finite arrays of one length; got "
                              + ", ".join(f"{k}: {v[:3]}" for k, v in scales.items()))
        p = patient_params(self.patient, n)
        if self.body_weight_kg is not None:
            p["BW"] = np.full(n, float(self.body_weight_kg))
        si, gbs = scales["si_scale"], scales["gb_scale"]
        base_gp, base_gt = steady_state(p)
        p["Vmx"] = p["Vmx"] * si
        kp3 = p["kp3"] * si
        # keep basal production unchanged when kp3 moves, then move it to the new basal glucose
        kp1 = p["kp1"] + (kp3 - p["kp3"]) * p["Ib"]
        p["kp3"] = kp3
        new_gp = base_gp * gbs
        _, new_gt = _tissue_at(p, new_gp)
        kp1 = kp1 + (_production_at(p, new_gp, new_gt) - _production_at(p, base_gp, base_gt))
        p["kp1"] = kp1
        p["x0_4"] = p["x0_4"] + (new_gp - base_gp)
        p["x0_5"] = p["x0_5"] + (new_gt - base_gt)
        p["x0_13"] = p["x0_13"] + (new_gp - base_gp)
        p["kabs"] = p["kabs"] * scales["kabs_scale"]
        return p

    # -- plans --------------------------------------------------------------------------------------
    def inputs(self, plan: Plan, minutes: int, full: Mapping[str, np.ndarray], *, strict: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, BolusRule | None]:
        """Minute-by-minute inputs of ``plan``: carbs announced (g), insulin (U/min), carbs a bolus covers, rule.

        ``strict=False`` drops what starts after ``minutes`` (a calibration window shorter than the plan).

        Raises:
            ConfigError: for glucose-specific problems (routes, meals, settings), all gathered.
        """
        problems: list[Problem] = []
        cho = np.zeros(minutes)
        covered = np.zeros(minutes)
        insulin = np.zeros(minutes)
        end = minutes / 60.0
        for key in plan.settings:
            if key not in _SETTINGS:
                problems.append(Problem(f"settings.{key}", f"unknown setting; the glucose simulator reads "
                                                           f"{', '.join(_SETTINGS)}"))
        for i, dose in enumerate(plan.administrations()):
            at = f"dose {i + 1} ({dose.drug} at {dose.at_h:g} h)"
            start = min(minutes - 1, round(dose.at_h * 60))
            if dose.at_h >= end:
                if strict:
                    problems.append(Problem(at, f"starts after the {end:g} h horizon; raise horizon_h or drop it"))
                continue
            if dose.drug == "carbohydrate":
                if dose.route != "oral":
                    problems.append(Problem(at, f"route {dose.route!r}: carbohydrate is eaten; use route = \"oral\""))
                cho[start] += dose.amount
            elif dose.route not in ("sc", "sc_infusion"):
                problems.append(Problem(at, f"route {dose.route!r}: the model takes subcutaneous insulin only; "
                                            f"use \"sc\" (bolus, U) or \"sc_infusion\" (U/h)"))
            elif dose.unit == "U/h":
                if dose.duration_h <= 0:
                    problems.append(Problem(at, "a rate in U/h needs duration_h > 0"))
                    continue
                stop = min(minutes, round((dose.at_h + dose.duration_h) * 60))
                insulin[start:stop] += dose.amount / 60.0
            else:
                stop = min(minutes, max(start + 1, round((dose.at_h + dose.duration_h) * 60)))
                span = max(1, round((dose.at_h + dose.duration_h) * 60) - start)
                insulin[start:stop] += dose.amount / span
        meals = plan.settings.get("meals", [])
        if not isinstance(meals, (list, tuple)):
            problems.append(Problem("settings.meals", f"expected [[hour, grams], ...]; got {meals!r}"))
            meals = []
        for j, meal in enumerate(meals):
            at = f"settings.meals[{j}]"
            if (not isinstance(meal, (list, tuple)) or len(meal) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in meal)):
                problems.append(Problem(at, f"expected [hour, grams]; got {meal!r}"))
                continue
            hour, grams = float(meal[0]), float(meal[1])
            if not (math.isfinite(hour) and math.isfinite(grams)):
                problems.append(Problem(at, f"{meal!r} is not finite"))
            elif grams < 0:
                problems.append(Problem(at, f"{grams:g} g of carbohydrate is negative; give grams >= 0"))
            elif not 0 <= hour < end:
                if strict or hour < 0:
                    problems.append(Problem(at, f"hour {hour:g} is outside the plan (0 to {end:g} h); "
                                            f"give an hour from the plan's start"))
            else:
                at_min = min(minutes - 1, round(hour * 60))
                cho[at_min] += grams
                covered[at_min] += grams
        basal = plan.settings.get("basal")
        if basal == "patient":
            rate = basal_rate(full)
            insulin = insulin[:, None] + rate[None, :]
        elif basal is not None:
            if isinstance(basal, bool) or not isinstance(basal, (int, float)) or not math.isfinite(basal) or basal < 0:
                problems.append(Problem("settings.basal", f"{basal!r}: give \"patient\" or a rate in U/h >= 0"))
            else:
                insulin = insulin + float(basal) / 60.0
        rule = self._bolus_rule(plan.settings.get("bolus"), problems)
        if problems:
            raise ConfigError(f"plan {plan.name!r} cannot be simulated by the glucose simulator:\n  "
                              + "\n  ".join(map(str, problems)))
        return cho, insulin, covered, rule

    def _bolus_rule(self, spec: Any, problems: list[Problem]) -> BolusRule | None:
        if spec is None or spec is False:
            return None
        q = quest(self.patient)
        values = {"carb_ratio": q["CR"], "correction_factor": q["CF"], "target": 140.0, "correct_above": 150.0}
        if isinstance(spec, Mapping):
            for key, value in spec.items():
                if key not in _BOLUS_KEYS:
                    problems.append(Problem(f"settings.bolus.{key}", f"unknown; allowed: {', '.join(_BOLUS_KEYS)}"))
                elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (
                        key in ("carb_ratio", "correction_factor") and value <= 0):
                    problems.append(Problem(f"settings.bolus.{key}", f"{value!r} must be a "
                                                                     f"{'positive ' if 'ratio' in key or 'factor' in key else ''}number"))
                else:
                    values[key] = float(value)
        elif spec is not True:
            problems.append(Problem("settings.bolus", f"{spec!r}: give true or a table of {', '.join(_BOLUS_KEYS)}"))
            return None
        return BolusRule(**values)

    # -- simulation ---------------------------------------------------------------------------------
    def run_minutes(self, plan: Plan, params: Params, minutes: int, *, strict: bool = True) -> dict[str, np.ndarray]:
        """The raw minute-by-minute simulation of ``plan`` for ``minutes`` (see ``simulate_minutes``)."""
        full = self.model_params(params)
        cho, insulin, covered, rule = self.inputs(plan, minutes, full, strict=strict)
        return simulate_minutes(full, cho, insulin, bolus_rule=rule, bolus_carbs=covered)

    def _simulate(self, plan: Plan, params: Params, times_h: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        idx = np.rint(np.asarray(times_h) * 60.0).astype(int)
        out = self.run_minutes(plan, params, max(1, int(idx.max())))
        g = out["glucose"][:, idx]
        s = sensor_params()
        cgm = np.clip(g + sensor_noise(g.shape[0], idx, rng), s["min"], s["max"])
        return np.stack([g, cgm, out["plasma_insulin"][:, idx], out["plasma_glucose"][:, idx]], axis=2)

    def simulate(self, plan: Plan, *, params: Params | None = None, n: int = 200, seed: int | None = None,
                 step_h: float | None = None) -> Trajectories:
        """As :meth:`Simulator.simulate`, adding a severe hypoglycaemia alert (glucose below 54 mg/dL).

        A plan without a glucose target gets the consensus time-in-range target, 70-180 mg/dL
        (Battelino et al., Diabetes Care 2019), so that its summary reports time in range.
        """
        if "glucose" not in plan.targets:
            plan = replace(plan, targets={**plan.targets, "glucose": TIME_IN_RANGE})
        run = super().simulate(plan, params=params, n=n, seed=seed, step_h=step_h)
        severe = find_alerts(run.times_h, run.values[:, :, :1], [_SEVERE])
        if severe:
            events = [a.event for a in run.alerts]
            where = events.index("hypoglycaemia") + 1 if "hypoglycaemia" in events else 0
            run.alerts.insert(where, severe[0])
        run.meta["patient"] = self.patient
        return run

    def calibrate(self, observations: pd.DataFrame, *, plan: Plan | None = None, n: int = 200,
                  seed: int | None = None) -> Params:
        """Posterior draws of the three scales given a CGM trace (see :mod:`hygeia.twin._glucose_calibrate`).

        Args:
            observations: columns ``time_h``, ``output`` (``cgm`` or ``glucose``), ``value`` (mg/dL).
            plan: the insulin and meals given while observed (required).
            n: posterior draws returned.
            seed: the sampler's seed.

        Raises:
            ConfigError: without a plan, or when no usable reading is left.
        """
        from hygeia.twin._glucose_calibrate import calibrate_glucose

        return calibrate_glucose(self, observations, plan=plan, n=n, seed=seed)

    @classmethod
    def from_record(cls, person: Mapping[str, Any], events: pd.DataFrame | list[Mapping[str, Any]], *,
                    at: Any = None, **options: Any) -> Any:
        """The :class:`~hygeia.twin.Twin` of a Hygeia patient.

        Taken from the record (before ``at``): age (the virtual cohort), the latest body weight
        (LOINC 29463-7: the nearest-weight virtual patient, and the model's weight), the latest
        glucose readings (LOINC 2339-0, 2345-7: the prior's fasting glucose), active diabetes
        conditions and insulin medications (reported in ``Twin.taken``). See
        :mod:`hygeia.twin._glucose_record`.
        """
        from hygeia.twin._glucose_record import glucose_twin_from_record

        return glucose_twin_from_record(cls, person, events, at=at, **options)


def _tissue_at(p: Mapping[str, np.ndarray], gp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bq = p["k1"] * gp - p["k2"] * p["Km0"] - p["Vm0"]
    gt = (bq + np.sqrt(bq * bq + 4.0 * p["k2"] * p["k1"] * gp * p["Km0"])) / (2.0 * p["k2"])
    return gp, gt


def _production_at(p: Mapping[str, np.ndarray], gp: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """The ``kp1`` that makes ``(gp, gt)`` a steady state under basal insulin (without the kp3 term)."""
    renal = np.where(gp > p["ke2"], p["ke1"] * (gp - p["ke2"]), 0.0)
    return p["Fsnc"] + renal + p["k1"] * gp - p["k2"] * gt + p["kp2"] * gp
