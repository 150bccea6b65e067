"""One patient's twin: a simulator built from a Hygeia record, calibrated, run on several plans.

:func:`load_patient` reads one person and their events from a run folder;
:func:`twin_from_record` asks the chosen back-end to build its simulator from them
(covariates such as weight, age, renal function) and to pick out the observations it can
calibrate to (a glucose trace, drug levels, BP readings); :func:`simulate_twin` draws the
posterior from those observations when there are any (else the prior), runs every plan
with common random numbers and returns a :class:`TwinResult`, which
:func:`write_twin` saves as ``twin.json``, ``trajectories.csv`` and ``report.html``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hygeia.core.atomic import atomic_output
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError
from hygeia.evaluate._audit import jsonable
from hygeia.twin._plan import Plan
from hygeia.twin._simulator import SIMULATORS, Comparison, Params, Simulator, compare

__all__ = ["Twin", "TwinResult", "load_patient", "simulate_twin", "twin_from_record", "write_twin"]


@dataclass
class Twin:
    """A patient's simulator with what it was built from.

    Attributes:
        simulator: the back-end, with the patient's covariates set.
        observations: the patient's measurements it calibrates to (``time_h``, ``output``,
            ``value``), or ``None``.
        history: what the patient received while observed (a plan), or ``None``.
        subject_id: the record's subject, when built from a run.
        taken: what was read from the record, in words (shown in the report).
    """

    simulator: Simulator
    observations: pd.DataFrame | None = None
    history: Plan | None = None
    subject_id: int | None = None
    taken: dict[str, Any] = field(default_factory=dict)


def load_patient(run: str | os.PathLike[str], subject_id: int | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """One person of a ``hygeia generate`` run and their events, time-ordered
    (:func:`hygeia.core.storage.read_person`).

    Args:
        run: the run folder.
        subject_id: the person; ``None`` takes the first person of the run.

    Raises:
        DataValidationError: when the folder is not a run or has no such person.
    """
    from hygeia.core.storage import read_person

    return read_person(run, subject_id)


def twin_from_record(person: Mapping[str, Any], events: pd.DataFrame, backend: str) -> Twin:
    """Ask the back-end ``backend`` to build the patient's twin from their record.

    A back-end's ``from_record(person, events)`` returns a :class:`Twin`, a simulator, or a
    ``(simulator, observations)`` pair; all three are accepted.

    Raises:
        ConfigError: when the back-end is unknown or cannot be built from a record.
    """
    if backend not in SIMULATORS:
        raise ConfigError(f"no simulator {backend!r}; choose one of: {', '.join(sorted(SIMULATORS)) or 'none'}")
    cls = SIMULATORS[backend]
    build = getattr(cls, "from_record", None)
    if build is None:
        raise ConfigError(f"the {backend!r} simulator cannot be built from a record; use it from Python with "
                          f"the patient's covariates")
    made = build(person, events)
    if isinstance(made, Twin):
        twin = made
    elif isinstance(made, Simulator):
        twin = Twin(made)
    else:
        simulator, observations = made[0], made[1]
        twin = Twin(simulator, observations)
    if twin.subject_id is None and "subject_id" in person:
        twin.subject_id = int(person["subject_id"])
    return twin


@dataclass
class TwinResult:
    """The plans' simulations for one patient, and how they were made."""

    twin: Twin
    comparison: Comparison
    calibrated: bool
    seed: int
    seconds: float
    n: int

    @property
    def runs(self):
        return self.comparison.runs

    def to_json(self) -> dict[str, Any]:
        """``twin.json``: provenance, what came from the record, each plan's summary and alerts."""
        try:
            hygeia_version = version("hygeia")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            hygeia_version = "unknown"
        sim = self.twin.simulator
        out: dict[str, Any] = {
            "made_by": {"tool": "hygeia twin", "version": hygeia_version, "backend": sim.name, "seed": self.seed,
                        "n": self.n, "calibrated": self.calibrated, "simulator": jsonable(sim.settings())},
            "subject_id": self.twin.subject_id,
            "taken_from_record": jsonable(self.twin.taken),
            "observations": 0 if self.twin.observations is None else len(self.twin.observations),
            "plans": [r.plan.to_dict() for r in self.runs],
            "results": [jsonable(r.summary()) for r in self.runs],
        }
        if len(self.runs) > 1:
            out["differences"] = _differences(self.comparison)
        return out


def _differences(c: Comparison) -> list[dict[str, Any]]:
    """Paired (common random numbers) difference of each plan from the first, per output, at the horizon."""
    rows = []
    base = c.runs[0]
    for i, run in enumerate(c.runs[1:], start=1):
        for o in run.outputs:
            d = c.difference(o.name, lambda r, name=o.name: r.final(name), a=i, b=0)
            lo, med, hi = np.quantile(d, (0.05, 0.5, 0.95))
            rows.append({"plan": run.plan.name, "versus": base.plan.name, "output": o.name, "unit": o.unit,
                         "final_difference_median": float(med), "final_difference_90": [float(lo), float(hi)],
                         "probability_higher": float(np.mean(d > 0))})
    return rows


def simulate_twin(twin: Twin, plans: Sequence[Plan], *, n: int = 200, seed: int | None = None,
                  step_h: float | None = None, params: Params | None = None) -> TwinResult:
    """Calibrate the twin to its observations (when it has any) and run every plan on the same draws.

    Args:
        twin: from :func:`twin_from_record` or built by hand (``Twin(simulator, observations)``).
        plans: the plans to compare (the first is the reference of the differences).
        n: parameter draws (posterior or prior samples).
        seed: the seed of calibration and simulation; ``None`` draws a fresh one.
        step_h: output spacing in hours.
        params: parameter draws to use as they are (skips calibration).
    """
    if n < 1:
        raise ConfigError(f"n must be at least 1; got {n}. Pass e.g. n=200.")
    seed = resolve_seed(seed)
    start = time.process_time()
    calibrated = False
    if params is None and twin.observations is not None and len(twin.observations):
        params = twin.simulator.calibrate(twin.observations, plan=twin.history, n=n, seed=seed)
        calibrated = True
    comparison = compare(twin.simulator, plans, params=params, n=n, seed=seed, step_h=step_h)
    return TwinResult(twin, comparison, calibrated, seed, time.process_time() - start, n)


def write_twin(result: TwinResult, out: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``twin.json``, ``trajectories.csv`` (quantiles per plan, output and time) and ``report.html``.

    Outputs that stay at 0 under every plan (a drug no plan gives) are left out of the CSV and
    the page; ``twin.json`` keeps every output's summary.
    """
    from hygeia.twin._report import render_report, shown_outputs

    shown = shown_outputs(result.runs)
    with atomic_output(out, folder=True, overwrite=overwrite, what="twin folder") as tmp:
        tmp = Path(tmp)
        data = result.to_json()
        (tmp / "twin.json").write_text(json.dumps(data, indent=1, default=str) + "\n")
        frames = []
        for run in result.runs:
            for o in run.outputs:
                if o.name not in shown:  # identically 0 under every plan: no plan gives its drug
                    continue
                q = run.quantiles(o.name, (0.05, 0.25, 0.5, 0.75, 0.95))
                frames.append(pd.DataFrame({"plan": run.plan.name, "output": o.name, "unit": o.unit,
                                            "time_h": run.times_h, "q05": q[0], "q25": q[1], "median": q[2],
                                            "q75": q[3], "q95": q[4]}))
        pd.concat(frames).to_csv(tmp / "trajectories.csv", index=False, float_format="%.6g")
        (tmp / "report.html").write_text(render_report(result, data, shown))
    return Path(out)
