"""The ``pkpd`` simulator: propofol, remifentanil and vancomycin in one patient.

:class:`PKPDSimulator` runs plans of intravenous boluses and infusions through the
published models of :mod:`hygeia.twin._pk_models` (chosen per drug), solved exactly by
:func:`~hygeia.twin._pk_linear.pk_concentrations`. Its outputs are plasma and effect-site
concentrations and vancomycin's 24-hour AUC; each drug has a safety threshold
(``Output.safe_high``) and every concentration is bounded below by 0.

:meth:`PKPDSimulator.calibrate` personalizes vancomycin from measured levels: the
posterior of the patient's random effects (Goti et al. 2018 population as the prior, its
residual error as the likelihood) is sampled by importance sampling around the maximum a
posteriori estimate, with a multivariate-t proposal scaled by the Laplace covariance, then
resampled to ``n`` equally weighted draws.

Example:
    >>> from hygeia.twin import Dose, Plan
    >>> sim = PKPDSimulator(weight_kg=70.0, height_cm=175.0, age_y=40.0, sex="m")
    >>> plan = Plan("induction", doses=(Dose("propofol", 2.0, "mg/kg", route="iv_bolus"),), horizon_h=0.5)
    >>> run = sim.simulate(plan, n=2, seed=1)
    >>> round(float(run.series("propofol_effect").max()), 1), run.alerts  # Schnider: Ce peaks 2 min after
    (7.7, [])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import multivariate_t

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, Problem
from hygeia.twin._pk_linear import LinearPK, PKInput, pk_concentrations
from hygeia.twin._pk_models import PK_MODELS, PKCovariates, PopModel
from hygeia.twin._plan import Plan
from hygeia.twin._simulator import Output, Params, Simulator, register

__all__ = ["PKPDSimulator"]

#: drug -> (its dose unit, its concentration unit, the options that pick its model)
_DRUGS = {"propofol": ("mg", "ug/mL", ("marsh", "schnider")), "remifentanil": ("ug", "ng/mL", ("minto",)),
          "vancomycin": ("mg", "mg/L", ("goti",))}
_MASS = {"g": 1000.0, "mg": 1.0, "ug": 1e-3}
_PER = {"h": 1.0, "min": 60.0}
_CONSTANTS = tuple(f.name for f in fields(LinearPK))
_LOINC = {"weight_kg": "29463-7", "height_cm": "8302-2", "creatinine_mg_dl": "2160-0"}


def _units(dose_unit: str) -> list[str]:
    masses = ["g", "mg"] if dose_unit == "mg" else ["mg", "ug"]
    out = []
    for m in masses:
        out += [m, f"{m}/kg", f"{m}/h", f"{m}/kg/h", f"{m}/min", f"{m}/kg/min"]
    return out


def _parse_unit(unit: str, dose_unit: str) -> tuple[float, bool, float | None]:
    """``(factor to the dose unit, per kg, per-hour factor or None for an amount)``."""
    parts = unit.split("/")
    factor = _MASS[parts[0]] / _MASS[dose_unit]
    per_kg = "kg" in parts[1:]
    times = [p for p in parts[1:] if p in _PER]
    return factor, per_kg, (_PER[times[0]] if times else None)


@register
class PKPDSimulator(Simulator):
    """Plasma and effect-site concentrations of propofol, remifentanil and vancomycin.

    Args:
        weight_kg, height_cm, age_y, sex, creatinine_mg_dl, dialysis: the patient's covariates
            (see :class:`~hygeia.twin._pk_models.PKCovariates`); a model that needs a missing one
            says so when its drug is given.
        propofol_model: ``"schnider"`` (default) or ``"marsh"``.
        remifentanil_model: ``"minto"``.
        vancomycin_model: ``"goti"``.

    Doses: boluses in ``mg``/``mg/kg`` (remifentanil ``ug``/``ug/kg``); infusions as rates
    (``mg/kg/h``, ``ug/kg/min``...) or, following :class:`~hygeia.twin.Dose`, an amount
    unit meaning that amount per hour. Only the intravenous routes are modelled.

    Example:
        >>> sim = PKPDSimulator(weight_kg=80.0, age_y=60.0, sex="f", creatinine_mg_dl=1.1)
        >>> draws = sim.prior(3, seed=0)  # no height: Schnider and Minto cannot be built, Goti can
        >>> sorted({k.split(".")[0] for k in draws}), draws["vancomycin.v1"].shape
        (['vancomycin'], (3,))
    """

    name: ClassVar[str] = "pkpd"
    outputs: ClassVar[tuple[Output, ...]] = (
        Output("propofol_plasma", "ug/mL", low=0.0),
        # 3-6 ug/mL at the effect site maintains anaesthesia; above 8 burst suppression and hypotension are common
        Output("propofol_effect", "ug/mL", low=0.0, safe_high=8.0, high_event="over-sedation"),
        Output("remifentanil_plasma", "ng/mL", low=0.0),
        # 3-8 ng/mL is the usual range with propofol; above it apnoea, bradycardia, rigidity
        Output("remifentanil_effect", "ng/mL", low=0.0, safe_high=10.0, high_event="opioid overdose"),
        Output("vancomycin_plasma", "mg/L", low=0.0),
        # AUC24 400-600 mg*h/L is the target; above 600 nephrotoxicity rises (Rybak et al., AJHP 2020;77:835-864)
        Output("vancomycin_auc24", "mg*h/L", low=0.0, safe_high=600.0, high_event="nephrotoxic exposure"),
    )
    drugs: ClassVar[Mapping[str, list[str]]] = {d: _units(u) for d, (u, _, _) in _DRUGS.items()}
    default_horizon_h: ClassVar[float] = 24.0
    default_step_h: ClassVar[float] = 1.0 / 60.0

    def __init__(self, *, weight_kg: float | None = None, height_cm: float | None = None, age_y: float | None = None,
                 sex: str | None = None, creatinine_mg_dl: float | None = None, dialysis: bool = False,
                 propofol_model: str = "schnider", remifentanil_model: str = "minto",
                 vancomycin_model: str = "goti") -> None:
        self.weight_kg = weight_kg
        self.height_cm = height_cm
        self.age_y = age_y
        self.sex = sex
        self.creatinine_mg_dl = creatinine_mg_dl
        self.dialysis = dialysis
        self.propofol_model = propofol_model
        self.remifentanil_model = remifentanil_model
        self.vancomycin_model = vancomycin_model

    # -- the patient --------------------------------------------------------------------------
    def covariates(self) -> PKCovariates:
        """The patient's covariates as the models read them."""
        return PKCovariates(self.weight_kg, self.height_cm, self.age_y, self.sex, self.creatinine_mg_dl,
                          bool(self.dialysis))

    def model(self, drug: str) -> PopModel:
        """The published model chosen for ``drug``.

        Raises:
            ConfigError: an unknown drug or model name.
        """
        if drug not in _DRUGS:
            raise ConfigError(f"unknown drug {drug!r}; the pkpd simulator knows: {', '.join(_DRUGS)}")
        name = getattr(self, f"{drug}_model")
        if name not in _DRUGS[drug][2]:
            raise ConfigError(f"{drug}_model={name!r} is not a {drug} model; choose one of: "
                              f"{', '.join(_DRUGS[drug][2])}")
        return PK_MODELS[name]

    @classmethod
    def from_record(cls, person: Mapping[str, Any], events: pd.DataFrame, *, at: Any = None, **options: Any):
        """Build the twin of a Hygeia patient: latest weight, height, creatinine; age and sex.

        Args:
            person: the ``persons`` row (``birth_time``, ``sex``).
            events: the person's events (``code``, ``numeric_value``, ``time``).
            at: when the twin starts (default: the last event's time); later values are ignored.
            options: passed on to the simulator (e.g. ``propofol_model="marsh"``).

        Returns:
            a :class:`~hygeia.twin.Twin` whose ``taken`` says what was read and from when.
        """
        from hygeia.twin._twin import Twin

        ev = events
        if at is None:
            at = pd.Timestamp(ev["time"].max()) if len(ev) else pd.Timestamp.now()
        at = pd.Timestamp(at)
        if len(ev):
            ev = ev[ev["time"] <= at]
        taken: dict[str, Any] = {}
        values: dict[str, float | None] = {}
        for key, code in _LOINC.items():
            rows = ev[(ev["code"] == code) & ev["numeric_value"].notna()] if len(ev) else ev
            if len(rows):
                last = rows.sort_values("time").iloc[-1]
                values[key] = float(last["numeric_value"])
                taken[key] = {"value": values[key], "loinc": code, "time": str(last["time"])}
            else:
                values[key] = None
        birth = person.get("birth_time")
        age = None if birth is None or pd.isna(birth) else (at - pd.Timestamp(birth)).days / 365.25
        sex = {"M": "m", "F": "f"}.get(str(person.get("sex", "")).upper())
        taken["age_y"], taken["sex"], taken["at"] = age, sex, str(at)
        sim = cls(weight_kg=values["weight_kg"], height_cm=values["height_cm"], age_y=age, sex=sex,
                  creatinine_mg_dl=values["creatinine_mg_dl"], **options)
        return Twin(sim, taken=taken)

    # -- parameters --------------------------------------------------------------------------
    def _pk_params(self, drug: str, eta: Mapping[str, np.ndarray], n: int) -> Params:
        pk = self.model(drug).build(self.covariates(), eta).arrays()
        out = {f"{drug}.{k}": np.broadcast_to(pk[k], (n,)).copy() for k in _CONSTANTS}
        out.update({f"{drug}.eta_{k}": np.broadcast_to(v, (n,)).copy() for k, v in eta.items()})
        return out

    def prior(self, n: int, *, seed: int | None = None) -> Params:
        """``n`` draws of every drug's micro-constants (per hour) whose model has the covariates it needs."""
        rng = np.random.default_rng(resolve_seed(seed))
        params: Params = {}
        for drug in _DRUGS:
            model = self.model(drug)
            eta = model.draw_eta(n, rng)
            try:
                params.update(self._pk_params(drug, eta, n))
            except ConfigError:
                continue  # reported when a plan gives this drug (see _pk)
        return params

    def _pk(self, drug: str, params: Params, n: int) -> LinearPK:
        if f"{drug}.v1" not in params:  # not drawn: the typical patient (or the error naming what is missing)
            params = self._pk_params(drug, {}, n)
        return LinearPK(**{k: params[f"{drug}.{k}"] for k in _CONSTANTS})

    # -- doses -------------------------------------------------------------------------------
    def inputs(self, plan: Plan) -> dict[str, list[PKInput]]:
        """The plan's administrations per drug, in the drug's dose unit (rates per hour).

        Raises:
            ConfigError: gathering every dose this simulator cannot give (a route it does not
                model, a rate unit for a bolus, a per-kg dose without the patient's weight).
        """
        problems: list[Problem] = []
        out: dict[str, list[PKInput]] = {}
        for i, d in enumerate(plan.administrations()):
            at = f"{d.drug} at {d.at_h:g} h"
            if d.drug not in _DRUGS:
                problems.append(Problem(at, f"unknown drug; the pkpd simulator knows: {', '.join(_DRUGS)}"))
                continue
            if d.route not in ("iv_bolus", "iv_infusion"):
                problems.append(Problem(at, f"route {d.route!r} is not modelled for {d.drug} (intravenous only); "
                                            f"give it as iv_bolus or iv_infusion"))
                continue
            factor, per_kg, per_h = _parse_unit(d.unit, _DRUGS[d.drug][0])
            if d.route == "iv_bolus" and per_h is not None:
                problems.append(Problem(at, f"unit {d.unit!r} is a rate but the dose is a bolus; give an amount "
                                            f"({d.unit.rsplit('/', 1)[0]}) or make it an iv_infusion with duration_h"))
                continue
            if per_kg:
                if self.weight_kg is None or not self.weight_kg > 0:
                    problems.append(Problem(at, f"a dose in {d.unit} needs the patient's weight; pass weight_kg=70 "
                                                f"(LOINC 29463-7 in a record) or dose in {d.unit.replace('/kg', '')}"))
                    continue
                factor *= float(self.weight_kg)
            amount = d.amount * factor * (per_h or 1.0)
            out.setdefault(d.drug, []).append(PKInput(d.at_h, amount, d.duration_h if d.route == "iv_infusion" else 0.0))
        if problems:
            raise ConfigError(f"plan {plan.name!r} cannot be simulated by pkpd:\n  " + "\n  ".join(problems))
        return out

    def _simulate(self, plan: Plan, params: Params, times_h: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = len(next(iter(params.values()))) if params else 1
        names = [o.name for o in self.outputs]
        values = np.zeros((n, len(times_h), len(names)))
        for drug, inputs in self.inputs(plan).items():
            pk = self._pk(drug, params, n)
            if drug == "vancomycin":
                back = times_h - 24.0
                grid, where = np.unique(np.concatenate([times_h, back[back > 0]]), return_inverse=True)
                c = pk_concentrations(pk, inputs, grid)
                now = c["auc"][:, where[: len(times_h)]]
                before = np.zeros_like(now)
                mask = back > 0
                before[:, mask] = c["auc"][:, where[len(times_h):]]
                values[:, :, names.index("vancomycin_plasma")] = c["plasma"][:, where[: len(times_h)]]
                values[:, :, names.index("vancomycin_auc24")] = now - before
            else:
                c = pk_concentrations(pk, inputs, times_h)
                values[:, :, names.index(f"{drug}_plasma")] = c["plasma"]
                values[:, :, names.index(f"{drug}_effect")] = c["effect"]
        return values

    # -- measured levels and calibration -----------------------------------------------------
    def _levels(self, drug: str, plan: Plan, eta: Mapping[str, np.ndarray], times_h: np.ndarray) -> np.ndarray:
        n = len(next(iter(eta.values()))) if eta else 1
        pk = LinearPK(**{k: v for k, v in self.model(drug).build(self.covariates(), eta).arrays().items()})
        order = np.argsort(times_h, kind="stable")
        c = pk_concentrations(pk, self.inputs(plan).get(drug, []), np.asarray(times_h, float)[order])["plasma"]
        out = np.empty((n, len(times_h)))
        out[:, order] = c
        return out

    def measure(self, plan: Plan, params: Params, times_h: np.ndarray, *, drug: str = "vancomycin",
                seed: int | None = None) -> np.ndarray:
        """Shape ``(n, len(times_h))``: measured plasma levels, the model's residual error included.

        This is the posterior (or prior) predictive distribution of a drug level: use its
        quantiles as prediction intervals, or one row to make a synthetic patient's levels.
        """
        model = self.model(drug)
        eta = {k: params[f"{drug}.eta_{k}"] for k in model.omega}
        f = self._levels(drug, plan, eta, np.asarray(times_h, float))
        sd = np.sqrt((model.sigma_prop * f) ** 2 + model.sigma_add**2)
        return np.maximum(f + sd * np.random.default_rng(resolve_seed(seed)).standard_normal(f.shape), 0.0)

    def calibrate(self, observations: pd.DataFrame, *, plan: Plan | None = None, n: int = 200,
                  seed: int | None = None) -> Params:
        """``n`` posterior draws given measured drug levels (importance sampling around the MAP).

        Args:
            observations: ``time_h``, ``output`` (``vancomycin_plasma``), ``value`` (mg/L).
            plan: the doses the patient received while observed (required).
            n: posterior draws.
            seed: the sampler's seed.

        Returns:
            the posterior draws of the observed drugs (with their random effects ``<drug>.eta_*``)
            and prior draws of the others. ``calibration_`` then holds the MAP, the effective
            sample size and the proposal size.

        Raises:
            ConfigError: no plan, malformed observations, or levels of a drug whose model has no
                between-patient variability to calibrate.
        """
        if plan is None:
            raise ConfigError("calibrating to drug levels needs the doses given while they were measured; "
                              "pass plan=Plan(...) with those doses")
        missing = {"time_h", "output", "value"} - set(observations.columns)
        if missing:
            raise ConfigError(f"observations lack column(s) {', '.join(sorted(missing))}; "
                              f"give time_h, output, value (e.g. vancomycin_plasma, mg/L)")
        seed = resolve_seed(seed)
        rng = np.random.default_rng(seed)
        params = self.prior(n, seed=int(rng.integers(2**62)))
        self.calibration_ = {}
        for output, obs in observations.groupby("output"):
            drug = str(output).removesuffix("_plasma")
            if drug not in _DRUGS or not str(output).endswith("_plasma"):
                raise ConfigError(f"cannot calibrate to {output!r}; measured levels are "
                                  f"{', '.join(d + '_plasma' for d in _DRUGS)}")
            model = self.model(drug)
            if not model.omega:
                raise ConfigError(f"the {model.name} model publishes no between-patient variability, so "
                                  f"{drug} levels cannot personalize it; use a model with random effects")
            times = obs["time_h"].to_numpy(float)
            y = obs["value"].to_numpy(float)
            if not (np.all(np.isfinite(times)) and np.all(np.isfinite(y)) and np.all(y >= 0)):
                raise ConfigError(f"{output} levels must be finite, non-negative numbers at finite times")
            eta, info = self._posterior(drug, model, plan, times, y, n, rng)
            params.update(self._pk_params(drug, eta, n))
            self.calibration_[drug] = info
        return params

    def _posterior(self, drug: str, model: PopModel, plan: Plan, times: np.ndarray, y: np.ndarray, n: int,
                   rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        keys = list(model.omega)
        omega = np.array([model.omega[k] for k in keys])

        def neg_log_post(x: np.ndarray) -> np.ndarray:  # x: (m, d)
            f = self._levels(drug, plan, dict(zip(keys, x.T)), times)
            var = (model.sigma_prop * f) ** 2 + model.sigma_add**2
            return 0.5 * (((y - f) ** 2 / var + np.log(var)).sum(axis=1) + (x**2 / omega).sum(axis=1))

        d = len(keys)
        res = minimize(lambda x: float(neg_log_post(x[None])[0]), np.zeros(d), method="BFGS")
        mode = res.x
        h = 1e-3
        steps = np.eye(d) * h
        pts = [mode] + [mode + s for s in steps] + [mode - s for s in steps]
        pts += [mode + steps[i] + steps[j] for i in range(d) for j in range(i + 1, d)]
        vals = neg_log_post(np.array(pts))
        f0, fp, fm = vals[0], vals[1:d + 1], vals[d + 1:2 * d + 1]
        hess = np.diag((fp - 2 * f0 + fm) / h**2)
        k = 2 * d + 1
        for i in range(d):
            for j in range(i + 1, d):
                hess[i, j] = hess[j, i] = (vals[k] - fp[i] - fp[j] + f0) / h**2
                k += 1
        try:
            cov = np.linalg.inv(hess)
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            cov = np.diag(omega)
        m = max(20 * n, 4000)
        proposal = multivariate_t(loc=mode, shape=1.5 * cov, df=5, seed=rng)
        draws = np.atleast_2d(proposal.rvs(size=m)).reshape(m, d)
        logw = -neg_log_post(draws) - proposal.logpdf(draws)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        ess = float(1.0 / np.sum(w**2))
        pick = rng.choice(m, size=n, p=w)
        info = {"map": dict(zip(keys, map(float, mode))), "ess": ess, "proposals": m, "levels": len(y)}
        return {k: draws[pick, i] for i, k in enumerate(keys)}, info
