"""Treatment plans as data: what is given, when, and what the plan aims for.

A :class:`Plan` is declarative. It lists :class:`Dose` entries (a bolus, an infusion, an
oral dose, repeated every ``every_h`` hours ``times`` times), the ranges each output
should stay in (``targets``) and back-end settings (``settings``, e.g. a glucose
scenario's meals or a sepsis policy name). Plans are read from TOML files
(:func:`load_plan`) and checked against the simulator that will run them
(:func:`check_plan`): every problem is gathered into one :class:`~hygeia.errors.ConfigError`.

Example:
    >>> plan = Plan("low", doses=(Dose("amlodipine", 5.0, "mg", route="oral", every_h=24, times=7),))
    >>> [d.at_h for d in plan.doses[0].expand()][:3]
    [0.0, 24.0, 48.0]
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import tomllib

from hygeia.errors import ConfigError, Problem

__all__ = ["ROUTES", "Dose", "Plan", "check_plan", "load_plan", "plan_from_dict"]

#: Routes a dose may take; ``iv_infusion`` needs ``duration_h > 0``, the others are given at once.
ROUTES = ("iv_bolus", "iv_infusion", "oral", "sc", "sc_infusion", "inhaled")


@dataclass(frozen=True)
class Dose:
    """One dose, or a repeated dose, of one drug.

    Args:
        drug: the drug's name as the simulator knows it (``Simulator.drugs``).
        amount: the amount per dose (per hour for infusions), in ``unit``.
        unit: e.g. ``mg``, ``mg/kg``, ``U``, ``mg/kg/h``, ``ug/kg/min``, ``mL/kg``.
        at_h: hours from the plan's start to the first dose.
        route: one of :data:`ROUTES`.
        duration_h: the infusion length in hours (0 for a bolus or oral dose).
        every_h: the dosing interval for a repeated dose (0: given once).
        times: how many doses when repeated (ignored when ``every_h`` is 0).
    """

    drug: str
    amount: float
    unit: str = "mg"
    at_h: float = 0.0
    route: str = "oral"
    duration_h: float = 0.0
    every_h: float = 0.0
    times: int = 1

    def expand(self) -> list[Dose]:
        """The single administrations this entry stands for, in time order."""
        if self.every_h <= 0 or self.times <= 1:
            return [Dose(self.drug, self.amount, self.unit, self.at_h, self.route, self.duration_h)]
        return [Dose(self.drug, self.amount, self.unit, self.at_h + i * self.every_h, self.route, self.duration_h)
                for i in range(self.times)]

    @property
    def end_h(self) -> float:
        """When the last administration of this entry ends."""
        last = self.expand()[-1]
        return last.at_h + last.duration_h


@dataclass(frozen=True)
class Plan:
    """A named treatment plan.

    Args:
        name: a short label shown in reports ("A", "low dose", ...).
        doses: the doses, in any order.
        horizon_h: how long to simulate, in hours (0: the simulator's default).
        targets: output name -> ``(low, high)`` range the plan aims for.
        settings: back-end specific settings (meals, a policy name, rules), passed through.
        backend: the simulator the plan is written for (``""``: any).
    """

    name: str
    doses: tuple[Dose, ...] = ()
    horizon_h: float = 0.0
    targets: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    backend: str = ""

    def administrations(self) -> list[Dose]:
        """Every single administration of the plan, sorted by time."""
        return sorted((a for d in self.doses for a in d.expand()), key=lambda d: (d.at_h, d.drug))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (what a report and ``twin.json`` record)."""
        return {"name": self.name, "backend": self.backend, "horizon_h": self.horizon_h,
                "doses": [vars(d) | {} for d in self.doses],
                "targets": {k: list(v) for k, v in self.targets.items()}, "settings": dict(self.settings)}


def plan_from_dict(data: Mapping[str, Any], *, where: str = "plan") -> Plan:
    """Build a :class:`Plan` from a mapping (a parsed TOML file), gathering every problem.

    Raises:
        ConfigError: naming each malformed entry, its value and the fix.
    """
    problems: list[Problem] = []
    known = {"name", "backend", "horizon_h", "dose", "doses", "targets", "settings"}
    for key in data:
        if key not in known:
            problems.append(Problem(where, f"unknown key {key!r}; allowed: {', '.join(sorted(known))}"))
    doses: list[Dose] = []
    raw_doses = data.get("dose", data.get("doses", []))
    if isinstance(raw_doses, Mapping):
        raw_doses = [raw_doses]
    fields = {"drug", "amount", "unit", "at_h", "route", "duration_h", "every_h", "times"}
    for i, raw in enumerate(raw_doses or []):
        at = f"{where} dose {i + 1}"
        if not isinstance(raw, Mapping):
            problems.append(Problem(at, f"expected a table like {{drug = \"propofol\", amount = 2}}; got {raw!r}"))
            continue
        extra = set(raw) - fields
        if extra:
            problems.append(Problem(at, f"unknown key(s) {', '.join(sorted(extra))}; allowed: {', '.join(sorted(fields))}"))
        if "drug" not in raw or "amount" not in raw:
            problems.append(Problem(at, "needs at least 'drug' and 'amount'"))
            continue
        try:
            doses.append(Dose(str(raw["drug"]), float(raw["amount"]), str(raw.get("unit", "mg")),
                              float(raw.get("at_h", 0.0)), str(raw.get("route", "oral")),
                              float(raw.get("duration_h", 0.0)), float(raw.get("every_h", 0.0)),
                              int(raw.get("times", 1))))
        except (TypeError, ValueError) as exc:
            problems.append(Problem(at, f"a number is not a number ({exc}); write amounts and hours as numbers"))
    targets: dict[str, tuple[float, float]] = {}
    for name, rng in dict(data.get("targets", {})).items():
        if (not isinstance(rng, (list, tuple)) or len(rng) != 2
                or not all(isinstance(v, (int, float)) for v in rng) or rng[0] > rng[1]):
            problems.append(Problem(f"{where} targets.{name}", f"expected [low, high] with low <= high; got {rng!r}"))
            continue
        targets[str(name)] = (float(rng[0]), float(rng[1]))
    if problems:
        raise ConfigError(f"{where} is malformed:\n  " + "\n  ".join(problems))
    return Plan(name=str(data.get("name", where)), doses=tuple(doses), horizon_h=float(data.get("horizon_h", 0.0)),
                targets=targets, settings=dict(data.get("settings", {})), backend=str(data.get("backend", "")))


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a plan from a TOML file (see ``docs/twin.md`` for the keys).

    Raises:
        ConfigError: when the file is missing, is not TOML, or holds a malformed plan.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"plan file {name!r} does not exist; pass the path of a .toml plan "
                          f"(see docs/twin.md for an example)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"plan file {name!r} is not valid TOML ({exc}); see docs/twin.md for an example") from None
    data.setdefault("name", os.path.splitext(os.path.basename(name))[0])
    return plan_from_dict(data, where=f"plan {name!r}")


def check_plan(plan: Plan, drugs: Mapping[str, Iterable[str]], *, backend: str = "") -> None:
    """Check a plan against what a simulator can give, gathering every problem.

    Args:
        plan: the plan.
        drugs: drug name -> the units the simulator accepts for it.
        backend: the simulator's name (a plan written for another back-end is refused).

    Raises:
        ConfigError: negative or non-finite amounts or times, unknown drugs or units, unknown
            routes, infusions without a duration, and overlapping infusions of one drug.

    Example:
        >>> check_plan(Plan("x", doses=(Dose("aspirin", -1.0),)), {"aspirin": ["mg"]})
        Traceback (most recent call last):
        ...
        hygeia.errors.ConfigError: plan 'x' cannot be simulated:
          dose 1 (aspirin): amount -1.0 is negative; give a dose >= 0
    """
    problems: list[Problem] = []
    if backend and plan.backend and plan.backend != backend:
        problems.append(Problem("backend", f"the plan is written for {plan.backend!r}, not {backend!r}; "
                                           f"pick --backend {plan.backend} or edit the plan's 'backend'"))
    if not math.isfinite(plan.horizon_h) or plan.horizon_h < 0:
        problems.append(Problem("horizon_h", f"{plan.horizon_h} is not a duration; give hours >= 0"))
    for i, dose in enumerate(plan.doses):
        at = f"dose {i + 1} ({dose.drug})"
        if dose.drug not in drugs:
            known = ", ".join(sorted(drugs)) or "none"
            problems.append(Problem(at, f"unknown drug {dose.drug!r}; this simulator knows: {known}"))
        elif dose.unit not in set(drugs[dose.drug]):
            problems.append(Problem(at, f"unit {dose.unit!r} is not one of {', '.join(drugs[dose.drug])}"))
        for name in ("amount", "at_h", "duration_h", "every_h"):
            value = getattr(dose, name)
            if not math.isfinite(value):
                problems.append(Problem(at, f"{name} {value} is not a finite number"))
            elif value < 0:
                problems.append(Problem(at, f"{name} {value} is negative; give a "
                                            f"{'dose' if name == 'amount' else 'time'} >= 0"))
        if dose.route not in ROUTES:
            problems.append(Problem(at, f"route {dose.route!r} is not one of {', '.join(ROUTES)}"))
        if dose.route.endswith("infusion") and not dose.duration_h > 0:
            problems.append(Problem(at, "an infusion needs duration_h > 0"))
        if dose.times < 1:
            problems.append(Problem(at, f"times {dose.times} must be >= 1"))
        if dose.every_h > 0 and dose.duration_h > dose.every_h:
            problems.append(Problem(at, f"each infusion lasts {dose.duration_h} h but they repeat every "
                                        f"{dose.every_h} h, so they overlap; shorten duration_h or lengthen every_h"))
    infusions = sorted((a for a in plan.administrations() if a.duration_h > 0), key=lambda a: (a.drug, a.at_h))
    for before, after in itertools.pairwise(infusions):
        if before.drug == after.drug and after.at_h < before.at_h + before.duration_h - 1e-9:
            problems.append(Problem(f"{after.drug} at {after.at_h:g} h",
                                    f"overlaps the infusion started at {before.at_h:g} h (lasting "
                                    f"{before.duration_h:g} h); give one rate per period"))
    if problems:
        raise ConfigError(f"plan {plan.name!r} cannot be simulated:\n  " + "\n  ".join(problems))
