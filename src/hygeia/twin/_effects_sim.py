"""The ``effects`` simulator: a fitted effect model applied to one patient, plan by plan.

:class:`EffectsSimulator` wraps a fitted :class:`~hygeia.twin.EffectLearner` (a tabular
outcome) or a fitted :class:`~hygeia.twin.CoxPH` (a survival outcome) and one patient's
covariate row. A plan names the treatment arm it stands for:

* ``settings.treatment = "A"`` (any arm label), or
* a dose of the simulator's ``drug`` (default ``"treatment"``) whose ``amount`` is the arm
  (``Dose("treatment", 1)`` for arm 1 of a 0/1 treatment; with labelled arms such as
  ``"A"``/``"B"``, the amount is the arm's position: 0 the control, 1 the treated arm), or
* neither: the control arm (no treatment).

For a learner, each sample is an outcome drawn from the predictive distribution under the
plan's arm (``mu_a(x)`` plus an out-of-fold residual of that arm, see
:meth:`EffectLearner.quantile`); the draw's rank ``u`` is a parameter, so that
:func:`~hygeia.twin.compare` pairs the plans (common random numbers). The trajectories
have one time point. For a Cox model, each sample is a survival curve ``S(t | x, arm)``
over the plan's horizon with the coefficients drawn from their asymptotic normal
distribution (the same draws for every plan); ``time_unit_h`` converts the model's time
unit to hours (24 for days).

:func:`covariates_from_record` turns a Hygeia patient (``load_patient``'s person and events)
into the covariate row such a model needs: age, sex, BMI, smoking and conditions.

Example:
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from hygeia.twin import Dose, Plan, TLearner, compare
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 1)); t = rng.integers(0, 2, 300)
    >>> y = X[:, 0] + 2.0 * t + rng.normal(scale=0.5, size=300)
    >>> model = TLearner(outcome_model=LinearRegression(), seed=0).fit(X, t, y)
    >>> sim = EffectsSimulator(model=model, covariates=[0.0])
    >>> c = compare(sim, [Plan("none"), Plan("treat", doses=(Dose("treatment", 1, unit="arm"),))], n=400, seed=1)
    >>> round(float(np.median(c.difference("outcome", lambda r: r.final("outcome")))), 1)
    2.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError
from hygeia.twin._effects import EffectLearner
from hygeia.twin._effects_cox import CoxPH
from hygeia.twin._plan import Plan
from hygeia.twin._simulator import Output, Params, Simulator, register

__all__ = ["DEFAULT_CONDITIONS", "EffectsSimulator", "covariates_from_record"]

_BMI = "39156-5"
_SMOKING = "72166-2"
_CURRENT_SMOKER = {"449868002", "428041000124106", "77176002", "65568007"}
_FORMER_SMOKER = {"8517006"}

#: column -> SNOMED CT codes of conditions that set it to 1 while active.
DEFAULT_CONDITIONS: dict[str, tuple[str, ...]] = {
    "hypertension": ("59621000", "38341003"),
    "diabetes": ("44054006", "73211009"),
    "hyperlipidemia": ("55822004",),
    "coronary_disease": ("53741008", "22298006", "414545008"),
    "asthma": ("195967001",),
    "copd": ("13645005", "185086009"),
    "obesity": ("162864005", "408512008"),
}


@register
class EffectsSimulator(Simulator):
    """A fitted effect model (learner or Cox) applied to one patient's covariates.

    Args:
        model: a fitted :class:`~hygeia.twin.EffectLearner` or :class:`~hygeia.twin.CoxPH`.
        covariates: the patient's row: a mapping, a one-row frame, or a sequence in the
            model's column order (for a Cox model, the treatment column's value is set by the plan).
        drug: the dose name that selects the arm.
        units: the dose units accepted for ``drug`` (the amount is the arm, whatever the unit).
        outcome: the output's name and ``unit``; ``low``/``high``: its physiological bounds;
            ``safe_low``/``safe_high``: thresholds whose crossing is an alert (``low_event``/``high_event``
            name it), so that a plan's share of samples past them is an adverse-event probability.
        treatment_column: a Cox model's column that holds the arm (default: the first column).
        time_unit_h: hours per unit of a Cox model's time (24 when it was fitted in days).

    Raises:
        ConfigError: an unfitted model, or covariates that do not match it.
    """

    name: ClassVar[str] = "effects"
    default_horizon_h: ClassVar[float] = 0.0
    default_step_h: ClassVar[float] = 1.0

    def __init__(self, *, model: Any, covariates: Any, drug: str = "treatment",
                 units: Sequence[str] = ("arm", "mg", "dose"), outcome: str = "outcome", unit: str = "",
                 low: float = -np.inf, high: float = np.inf, safe_low: float = -np.inf, safe_high: float = np.inf,
                 low_event: str = "below the safe range", high_event: str = "above the safe range",
                 treatment_column: str | None = None, time_unit_h: float = 1.0) -> None:
        self.model = model
        self.covariates = covariates
        self.drug = drug
        self.units = units
        self.outcome = outcome
        self.unit = unit
        self.low = low
        self.high = high
        self.safe_low = safe_low
        self.safe_high = safe_high
        self.low_event = low_event
        self.high_event = high_event
        self.treatment_column = treatment_column
        self.time_unit_h = time_unit_h
        if isinstance(model, CoxPH):
            model._check_fitted()
        elif isinstance(model, EffectLearner):
            if not hasattr(model, "arms_"):
                raise ConfigError(f"this {type(model).__name__} is not fitted yet; call fit(X, treatment, y) first")
            model._matrix(self._row())  # the row matches the model's columns
        else:
            raise ConfigError(f"model must be a fitted EffectLearner (TLearner, SLearner, XLearner, DRLearner) or "
                              f"CoxPH; got {type(model).__name__}")

    # -- the interface -------------------------------------------------------------------------
    @property
    def outputs(self) -> tuple[Output, ...]:  # type: ignore[override]
        if isinstance(self.model, CoxPH):
            return (Output("survival", "probability", 0.0, 1.0),)
        return (Output(self.outcome, self.unit, self.low, self.high, self.safe_low, self.safe_high, self.low_event,
                       self.high_event),)

    @property
    def drugs(self) -> Mapping[str, Sequence[str]]:  # type: ignore[override]
        return {self.drug: tuple(self.units)}

    def _names(self) -> list[str] | None:
        return self.model.feature_names_in_

    def _row(self) -> Any:
        cov, names = self.covariates, self._names()
        if isinstance(cov, pd.DataFrame):
            if len(cov) != 1:
                raise ConfigError(f"covariates: a frame of {len(cov)} rows; give the one patient's row")
            return cov if names is None else cov.reindex(columns=names)
        if isinstance(cov, Mapping):
            if names is None:
                raise ConfigError("covariates: a mapping needs a model fitted on a frame (with column names); "
                                  "give a sequence in the model's column order")
            missing = [c for c in names if c not in cov]
            if missing:
                raise ConfigError(f"covariates: no value for {', '.join(missing)}; the model needs "
                                  f"{', '.join(names)}")
            return pd.DataFrame([{c: cov[c] for c in names}])
        arr = np.asarray(cov, dtype=float).reshape(1, -1)
        return arr if names is None else pd.DataFrame(arr, columns=names)

    def settings(self) -> dict[str, Any]:
        """The keyword arguments, JSON-ready: the model as its class, parameters and arms, the row as a mapping."""
        out = super().settings()
        row = self._row()
        names = self._names() or [f"x{i}" for i in range(np.shape(row)[1])]
        values = row.to_numpy(dtype=float)[0] if isinstance(row, pd.DataFrame) else np.asarray(row, dtype=float)[0]
        out["covariates"] = {str(k): float(v) for k, v in zip(names, values)}
        out["model"] = {"class": type(self.model).__name__, "params": {k: repr(v) for k, v in
                                                                       self.model.get_params(deep=False).items()},
                        "arms": [str(a) for a in self.arms()]}
        out["units"] = list(self.units)
        return out

    def arms(self) -> tuple[Any, ...]:
        """The arms a plan may name (a Cox model: the treatment column's observed values, as 0/1...)."""
        if isinstance(self.model, CoxPH):
            return (0.0, 1.0)
        return tuple(self.model.arms_)

    def arm_of(self, plan: Plan) -> Any:
        """The arm ``plan`` stands for (see the module docstring).

        Raises:
            ConfigError: the plan names an arm the model does not know, or two different arms.
        """
        named = []
        if "treatment" in plan.settings:
            named.append((plan.settings["treatment"], False))
        named += [(d.amount, True) for d in plan.doses if d.drug == self.drug]
        arms = self.arms()
        if not named:
            return arms[0]
        found = []
        for v, dose in named:
            match = [a for a in arms if a == v or str(a) == str(v)]
            if not match and dose and float(v).is_integer() and 0 <= v < len(arms):
                match = [arms[int(v)]]  # labelled arms: a dose's amount is the arm's position (0 control, 1 treated)
            if not match:
                raise ConfigError(f"plan {plan.name!r} names arm {v!r}; the model knows {', '.join(map(repr, arms))} "
                                  f"(set settings.treatment or a {self.drug!r} dose's amount to one of them)")
            found.append(match[0])
        if len(set(map(str, found))) > 1:
            raise ConfigError(f"plan {plan.name!r} names several arms {found!r}; an effect model compares one "
                              f"arm per plan")
        return found[0]

    def prior(self, n: int, *, seed: int | None = None) -> Params:
        """``u``: the rank of each sample's draw from the predictive distribution (learners), or
        ``coef``: draws of the Cox coefficients (shape ``(n, p)``)."""
        rng = np.random.default_rng(resolve_seed(seed))
        if isinstance(self.model, CoxPH):
            return {"coef": rng.multivariate_normal(self.model.coef_, self.model.cov_, size=n)}
        return {"u": rng.uniform(size=n)}

    def _simulate(self, plan: Plan, params: Params, times_h: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        arm = self.arm_of(plan)
        row = self._row()
        if isinstance(self.model, CoxPH):
            names = self._names()
            col = self.treatment_column or (names[0] if names else None)
            frame = row if isinstance(row, pd.DataFrame) else pd.DataFrame(row)
            if col is not None and col in frame.columns:
                frame = frame.assign(**{col: float(arm)})
            else:
                frame = frame.copy()
                frame.iloc[:, 0] = float(arm)
            model_times = times_h / self.time_unit_h
            surv = np.exp(-self.model.cumulative_hazard(frame, model_times, coef=params["coef"]))
            return surv[:, 0, :, None]
        draws = self.model.quantile(row, arm, params["u"])[0]
        return np.repeat(draws[:, None], len(times_h), axis=1)[:, :, None]

    def simulate(self, plan: Plan, **kwargs: Any):
        """As :meth:`Simulator.simulate`; a learner's outcome has one time point (the horizon is 0)."""
        if not isinstance(self.model, CoxPH) and (plan.horizon_h or 0) > 0:
            plan = Plan(plan.name, plan.doses, 0.0, plan.targets, plan.settings, plan.backend)
        if isinstance(self.model, CoxPH) and not plan.horizon_h:
            last = float(self.model.baseline_times_[-1]) * self.time_unit_h
            plan = Plan(plan.name, plan.doses, last, plan.targets, plan.settings, plan.backend)
        if isinstance(self.model, CoxPH) and kwargs.get("step_h") is None:
            kwargs["step_h"] = plan.horizon_h / 100
        out = super().simulate(plan, **kwargs)
        out.meta["arm"] = str(self.arm_of(plan))
        return out


def covariates_from_record(person: Mapping[str, Any], events: pd.DataFrame, *, at: Any = None,
                           conditions: Mapping[str, Sequence[str]] | None = None,
                           rename: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A Hygeia patient's covariate row for a model fitted on a table.

    The columns, as of ``at``:

    * ``age``: years from ``birth_time``;
    * ``male``: 1 for sex ``M``, else 0;
    * ``bmi``: the latest BMI observation (LOINC 39156-5), NaN when none;
    * ``smoker`` / ``former_smoker``: from the latest smoking status (LOINC 72166-2: daily,
      occasional, heavy, light smoker; ex-smoker), 0 when none is recorded;
    * one 0/1 column per entry of ``conditions`` (default :data:`DEFAULT_CONDITIONS`): a
      condition with one of its SNOMED CT codes began before ``at`` and had not ended.

    ``rename`` maps these names to the model's own (``{"male": "sex"}``); a model needing
    other columns gets them added by the caller.

    Args:
        person: one row of ``persons`` (``birth_time``, ``sex``).
        events: that person's events (``kind``, ``code``, ``time``, ``end_time``, ``numeric_value``,
            ``text_value``).
        at: when (default: the person's last event, or death).

    Example:
        >>> import pandas as pd
        >>> person = {"birth_time": pd.Timestamp("1960-01-01"), "sex": "F"}
        >>> events = pd.DataFrame({"kind": ["observation", "condition"], "code": ["39156-5", "59621000"],
        ...     "time": pd.to_datetime(["2020-01-01", "2015-05-01"]), "end_time": [pd.NaT, pd.NaT],
        ...     "numeric_value": [31.2, None], "text_value": [None, None]})
        >>> row = covariates_from_record(person, events)
        >>> row[["age", "male", "bmi", "smoker", "hypertension", "diabetes"]].iloc[0].tolist()
        [60.0, 0.0, 31.2, 0.0, 1.0, 0.0]
    """
    ev = events.copy()
    for col in ("time", "end_time"):
        if col in ev:
            ev[col] = pd.to_datetime(ev[col])
    if at is None:
        times = [t for t in (ev["time"].max() if len(ev) else None, person.get("death_time")) if t is not None and pd.notna(t)]
        if not times:
            raise ConfigError("covariates_from_record: the record has no events and no death time; pass at= (a date)")
        at = max(pd.Timestamp(t) for t in times)
    at = pd.Timestamp(at)
    birth = pd.Timestamp(person["birth_time"])
    row: dict[str, float] = {"age": round((at - birth) / dt.timedelta(days=365.25), 2),
                             "male": 1.0 if str(person.get("sex", "")).upper().startswith("M") else 0.0}
    before = ev[ev["time"] <= at] if len(ev) else ev
    bmi = before[(before["kind"] == "observation") & (before["code"] == _BMI)].sort_values("time")
    row["bmi"] = float(bmi["numeric_value"].iloc[-1]) if len(bmi) else float("nan")
    smoke = before[before["code"] == _SMOKING].sort_values("time")
    status = str(smoke["text_value"].iloc[-1]) if len(smoke) else ""
    code = status.split("|")[1] if status.count("|") >= 2 else status
    row["smoker"] = 1.0 if code in _CURRENT_SMOKER else 0.0
    row["former_smoker"] = 1.0 if code in _FORMER_SMOKER else 0.0
    conds = before[before["kind"] == "condition"]
    if len(conds):
        active = conds["end_time"].isna() | (conds["end_time"] > at)
        codes = set(conds.loc[active, "code"].astype(str))
    else:
        codes = set()
    for col, wanted in (DEFAULT_CONDITIONS if conditions is None else conditions).items():
        row[col] = 1.0 if codes & set(map(str, wanted)) else 0.0
    frame = pd.DataFrame([row])
    return frame.set_axis([dict(rename).get(c, c) for c in frame.columns], axis=1) if rename else frame
