"""One interface for every treatment simulator, and what a simulation returns.

A :class:`Simulator` runs :class:`~hygeia.twin.Plan` objects for one patient and returns
:class:`Trajectories`: ``n`` samples of each output over time, one sample per draw of the
patient's uncertain parameters (the prior, or the posterior that :meth:`Simulator.calibrate`
fits to the patient's own observations). Outputs declare physiological bounds (a state
outside them is clipped and reported) and safety thresholds (hypoglycaemia, a toxic
concentration); every crossing becomes a :class:`SafetyAlert` with its probability.

:func:`compare` runs several plans with common random numbers: the same parameter draws
and the same noise stream for every plan, so differences between plans are the plans'.

Back-ends subclass :class:`Simulator`, implement :meth:`Simulator._simulate` (and
:meth:`Simulator.prior` / :meth:`Simulator.calibrate`) and register with :func:`register`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError
from hygeia.twin._plan import Plan, check_plan

__all__ = [
    "SIMULATORS",
    "Comparison",
    "Output",
    "Params",
    "SafetyAlert",
    "Simulator",
    "Trajectories",
    "compare",
    "register",
    "share",
    "simulator_for",
]

#: Parameter draws: name -> array of shape ``(n,)`` (one value per sample).
Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Output:
    """One simulated quantity.

    Args:
        name: e.g. ``glucose``, ``propofol_plasma``, ``sbp``.
        unit: e.g. ``mg/dL``, ``ug/mL``, ``mmHg``.
        low, high: physiological bounds; the state is kept inside them and leaving is reported.
        safe_low, safe_high: safety thresholds; crossing one raises a :class:`SafetyAlert`.
        low_event, high_event: what crossing ``safe_low`` / ``safe_high`` means ("hypoglycaemia").
    """

    name: str
    unit: str
    low: float = -np.inf
    high: float = np.inf
    safe_low: float = -np.inf
    safe_high: float = np.inf
    low_event: str = "below the safe range"
    high_event: str = "above the safe range"


def share(p: float) -> str:
    """A probability as a percentage that never reads 0% or 100% when it is not.

    Example:
        >>> share(0.004), share(0.5), share(0.999), share(1.0)
        ('<1%', '50%', '>99%', '100%')
    """
    if 0.0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1.0:
        return ">99%"
    return f"{p:.0%}"


@dataclass(frozen=True)
class SafetyAlert:
    """A plan drove an output past a safety threshold or a physiological bound in some samples."""

    output: str
    event: str  # e.g. "hypoglycaemia", "toxic concentration", "left physiological bounds"
    threshold: float
    probability: float  # share of samples in which it happens
    first_time_h: float  # earliest time it happens in any sample
    worst: float  # the most extreme value reached

    def message(self, unit: str = "") -> str:
        """One sentence a clinician reads."""
        return (f"{self.event}: {self.output} crosses {self.threshold:g} {unit}".rstrip()
                + f" in {share(self.probability)} of simulations, first at {self.first_time_h:.3g} h "
                  f"(worst {self.worst:.4g} {unit})".rstrip())


@dataclass
class Trajectories:
    """``n`` simulated courses of each output under one plan.

    Attributes:
        plan: the plan simulated.
        backend: the simulator's registry name.
        times_h: shape ``(t,)``, hours from the plan's start.
        outputs: the :class:`Output` of each column of ``values``.
        values: shape ``(n, t, k)``.
        params: the parameter draws behind each sample.
        alerts: the safety alerts found (see :meth:`Simulator.simulate`).
        seed: the seed the noise was drawn from.
        meta: how it was made (simulator settings, calibration, version).
    """

    plan: Plan
    backend: str
    times_h: np.ndarray
    outputs: tuple[Output, ...]
    values: np.ndarray
    params: Params = field(default_factory=dict)
    alerts: list[SafetyAlert] = field(default_factory=list)
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def _column(self, output: str) -> int:
        names = [o.name for o in self.outputs]
        if output not in names:
            raise ConfigError(f"no output {output!r}; this simulation has: {', '.join(names)}")
        return names.index(output)

    def output(self, name: str) -> Output:
        """The :class:`Output` called ``name``."""
        return self.outputs[self._column(name)]

    def series(self, output: str) -> np.ndarray:
        """Shape ``(n, t)``: every sample's course of one output."""
        return self.values[:, :, self._column(output)]

    def quantiles(self, output: str, q: Sequence[float] = (0.05, 0.5, 0.95)) -> np.ndarray:
        """Shape ``(len(q), t)``: pointwise quantiles across samples (a band for plots)."""
        return np.quantile(self.series(output), q, axis=0)

    def time_in_range(self, output: str, low: float, high: float) -> np.ndarray:
        """Shape ``(n,)``: the share of time each sample spends in ``[low, high]`` (trapezoid weights)."""
        inside = ((self.series(output) >= low) & (self.series(output) <= high)).astype(float)
        if len(self.times_h) < 2:
            return inside[:, 0]
        w = np.diff(self.times_h)
        return (0.5 * (inside[:, 1:] + inside[:, :-1]) * w).sum(axis=1) / w.sum()

    def exposure(self, output: str) -> np.ndarray:
        """Shape ``(n,)``: area under the curve (unit x hours), e.g. a drug's AUC."""
        if len(self.times_h) < 2:
            return self.series(output)[:, 0] * 0.0
        return np.trapezoid(self.series(output), self.times_h, axis=1)

    def probability(self, output: str, *, below: float = -np.inf, above: float = np.inf) -> float:
        """The share of samples in which ``output`` ever goes below ``below`` or above ``above``."""
        s = self.series(output)
        return float(np.mean(np.any((s < below) | (s > above), axis=1)))

    def final(self, output: str) -> np.ndarray:
        """Shape ``(n,)``: each sample's value at the horizon."""
        return self.series(output)[:, -1]

    def summary(self) -> dict[str, Any]:
        """Per output: median and 90% interval at the horizon, target time-in-range, alerts."""
        out: dict[str, Any] = {"plan": self.plan.name, "backend": self.backend, "n": int(self.values.shape[0]),
                               "horizon_h": float(self.times_h[-1]) if len(self.times_h) else 0.0, "outputs": {}}
        for o in self.outputs:
            lo, med, hi = np.quantile(self.final(o.name), (0.05, 0.5, 0.95))
            entry: dict[str, Any] = {"unit": o.unit, "final_median": float(med), "final_90": [float(lo), float(hi)]}
            if o.name in self.plan.targets:
                tir = self.time_in_range(o.name, *self.plan.targets[o.name])
                entry["time_in_target"] = {"range": list(self.plan.targets[o.name]), "median": float(np.median(tir)),
                                           "90": [float(np.quantile(tir, 0.05)), float(np.quantile(tir, 0.95))]}
            out["outputs"][o.name] = entry
        out["alerts"] = [vars(a) for a in self.alerts]
        return out


def find_alerts(times_h: np.ndarray, values: np.ndarray, outputs: Sequence[Output],
                raw: np.ndarray | None = None) -> list[SafetyAlert]:
    """Every threshold or bound crossed in ``values`` (shape ``(n, t, k)``), with its probability.

    ``raw`` is what the model computed before the state was clipped to the physiological
    bounds; a bound is reported when ``raw`` (or, without it, ``values``) goes past it, so a
    value sitting on a bound (a concentration of 0 before the first dose) is no alert.
    """
    alerts: list[SafetyAlert] = []
    beyond = values if raw is None else raw
    for j, o in enumerate(outputs):
        s, r = values[:, :, j], beyond[:, :, j]
        checks = [(o.safe_low, o.low_event, s < o.safe_low, np.min(s)),
                  (o.safe_high, o.high_event, s > o.safe_high, np.max(s)),
                  (o.low, "went below the lower physiological bound (kept at it)", r < o.low, np.min(r)),
                  (o.high, "went above the upper physiological bound (kept at it)", r > o.high, np.max(r))]
        for threshold, event, hit, worst in checks:
            if not np.isfinite(threshold) or not hit.any():
                continue
            first = times_h[np.argmax(hit.any(axis=0))]
            alerts.append(SafetyAlert(o.name, event, float(threshold), float(np.mean(hit.any(axis=1))),
                                      float(first), float(worst)))
    return alerts


class Simulator(ABC):
    """The interface of every treatment simulator (see the module docstring).

    Subclasses set ``name``, ``outputs``, ``drugs`` (drug -> accepted units) and
    ``default_horizon_h``; they store their keyword arguments unchanged in ``__init__``.
    """

    name: ClassVar[str] = ""
    outputs: ClassVar[tuple[Output, ...]] = ()
    drugs: ClassVar[Mapping[str, Sequence[str]]] = {}
    default_horizon_h: ClassVar[float] = 24.0
    default_step_h: ClassVar[float] = 0.25

    @abstractmethod
    def prior(self, n: int, *, seed: int | None = None) -> Params:
        """``n`` draws of the patient's parameters before seeing their observations."""

    def calibrate(self, observations: pd.DataFrame, *, plan: Plan | None = None, n: int = 200,
                  seed: int | None = None) -> Params:
        """``n`` posterior draws of the parameters given the patient's observations.

        Args:
            observations: columns ``time_h``, ``output``, ``value`` (the patient's own
                measurements: a CGM trace, drug levels, BP readings).
            plan: what the patient received while observed.
            n: how many posterior draws.
            seed: the seed of the sampler.
        """
        raise ConfigError(f"the {self.name!r} simulator does not calibrate to observations")

    @abstractmethod
    def _simulate(self, plan: Plan, params: Params, times_h: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return shape ``(n, len(times_h), len(self.outputs))`` for the parameter draws ``params``."""

    def simulate(self, plan: Plan, *, params: Params | None = None, n: int = 200, seed: int | None = None,
                 step_h: float | None = None) -> Trajectories:
        """Simulate ``plan``: validate it, draw parameters when none are given, find safety alerts.

        Args:
            plan: the plan (checked with :func:`~hygeia.twin.check_plan`).
            params: parameter draws (e.g. from :meth:`calibrate`); ``None`` draws ``n`` from the prior.
            n: samples when ``params`` is ``None``.
            seed: the seed of the parameter draws and of any noise; ``None`` draws a fresh one.
            step_h: output spacing in hours (default ``default_step_h``).
        """
        check_plan(plan, self.drugs, backend=self.name)
        seed = resolve_seed(seed)
        seq = np.random.SeedSequence(seed)
        prior_seq, noise_seq = seq.spawn(2)
        if params is None:
            params = self.prior(n, seed=int(prior_seq.generate_state(1, np.uint64)[0] >> 1))
        horizon = plan.horizon_h or self.default_horizon_h
        step = step_h or self.default_step_h
        times = np.round(np.arange(0.0, horizon + step / 2, step), 9)
        raw = self._simulate(plan, params, times, np.random.default_rng(noise_seq))
        lows = np.array([o.low for o in self.outputs])
        highs = np.array([o.high for o in self.outputs])
        values = np.clip(raw, lows, highs)
        return Trajectories(plan, self.name, times, tuple(self.outputs), values, params,
                            find_alerts(times, values, self.outputs, raw), seed, {"simulator": self.settings()})

    def settings(self) -> dict[str, Any]:
        """The keyword arguments the simulator was built with (recorded in outputs)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and not k.endswith("_")}


@dataclass
class Comparison:
    """Several plans simulated with common random numbers."""

    runs: list[Trajectories]

    def difference(self, output: str, metric: Callable[[Trajectories], np.ndarray], a: int = 1, b: int = 0) -> np.ndarray:
        """Per-sample ``metric(runs[a]) - metric(runs[b])``: paired, so its spread is the plans' difference alone."""
        return metric(self.runs[a]) - metric(self.runs[b])


def compare(simulator: Simulator, plans: Sequence[Plan], *, params: Params | None = None, n: int = 200,
            seed: int | None = None, step_h: float | None = None) -> Comparison:
    """Run every plan on the same parameter draws and the same noise stream.

    Example:
        >>> import numpy as np
        >>> from hygeia.twin import Dose, Plan
        >>> class Decay(Simulator):
        ...     name, drugs = "decay", {"x": ["mg"]}
        ...     outputs = (Output("level", "mg"),)
        ...     def prior(self, n, *, seed=None):
        ...         return {"k": np.random.default_rng(seed).uniform(0.1, 0.2, n)}
        ...     def _simulate(self, plan, params, times, rng):
        ...         dose = sum(d.amount for d in plan.administrations())
        ...         return (dose * np.exp(-params["k"][:, None] * times))[:, :, None]
        >>> c = compare(Decay(), [Plan("A", doses=(Dose("x", 1.0),)), Plan("B", doses=(Dose("x", 2.0),))], n=5, seed=1)
        >>> bool(np.allclose(c.runs[1].values, 2 * c.runs[0].values))
        True
    """
    if not plans:
        raise ConfigError("compare needs at least one plan; pass --plan A.toml (twice to compare two)")
    seed = resolve_seed(seed)
    if params is None:
        params = simulator.prior(n, seed=int(np.random.SeedSequence(seed).spawn(1)[0].generate_state(1, np.uint64)[0] >> 1))
    return Comparison([simulator.simulate(p, params=params, seed=seed, step_h=step_h) for p in plans])


#: name -> simulator class; filled by :func:`register`.
SIMULATORS: dict[str, type[Simulator]] = {}


def register(cls: type[Simulator]) -> type[Simulator]:
    """Class decorator: make a simulator available by its ``name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty 'name' to be registered")
    SIMULATORS[cls.name] = cls
    return cls


def simulator_for(name: str, **options: Any) -> Simulator:
    """The registered simulator called ``name``, built with ``options``.

    Raises:
        ConfigError: when no simulator has that name.
    """
    if name not in SIMULATORS:
        raise ConfigError(f"no simulator {name!r}; choose one of: {', '.join(sorted(SIMULATORS)) or 'none'}")
    return SIMULATORS[name](**options)
