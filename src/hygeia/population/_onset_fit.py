"""Fit a module's onset probabilities to a target prevalence curve by age (private).

Used by :func:`hygeia.population.calibrate.fit_onsets` and ``hygeia calibrate fit``.

*Onset parameters* are found in the module's JSON: every numeric entry of a
``distributed_transition`` or of a ``complex_transition`` option whose destination
leads to a ConditionOnset of the measure's codes without passing back through the
state that draws it (so the "stay well" branch of a yearly risk loop is not one, and
a "diagnosed or not" draw after symptoms is). Each parameter gets the age range and
sex of its option's condition (``Age`` and ``Gender`` conditions under ``And``).

Fitting is iterative proportional scaling with common random numbers: simulate
``n`` persons of the default library with the module in its current version (same
seed every time), measure the prevalence of each target row, and multiply every
parameter by the damped, bounded ratio target / simulated over the rows whose age
band overlaps its own (weighted by their persons); the entries that do not lead to
onset absorb the change so every distribution still sums to what it did. The
result lists each parameter before and after, and each target row before and after.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["OnsetParameter", "fit_module", "onset_parameters"]

#: Largest change of one parameter in one iteration (a factor, either way).
MAX_STEP = 3.0


@dataclass
class OnsetParameter:
    """One onset probability of a module.

    Attributes:
        state: the state that draws it.
        option: index of its ``complex_transition`` option (None: a ``distributed_transition``).
        entry: index in that option's ``distributions``.
        transition: the state it leads to.
        probability: its value.
        age_lo, age_hi: the ages its condition allows (``age_hi`` None: no upper bound).
        sex: ``"M"``, ``"F"`` or ``"*"``.
        condition: the option's condition, in words.
    """

    state: str
    option: int | None
    entry: int
    transition: str
    probability: float
    age_lo: float
    age_hi: float | None
    sex: str
    condition: str


def _successors(spec: Mapping[str, Any]) -> list[str]:
    out = []
    if isinstance(spec.get("direct_transition"), str):
        out.append(spec["direct_transition"])
    for key in ("conditional_transition", "distributed_transition", "lookup_table_transition"):
        out += [t["transition"] for t in spec.get(key) or () if isinstance(t, dict) and "transition" in t]
    for opt in spec.get("complex_transition") or ():
        if "transition" in opt:
            out.append(opt["transition"])
        out += [d["transition"] for d in opt.get("distributions") or () if "transition" in d]
    for opt in (spec.get("type_of_care_transition") or {}).values() if isinstance(spec.get("type_of_care_transition"), dict) else ():
        if isinstance(opt, str):
            out.append(opt)
    return out


def _onset_states(states: Mapping[str, Any], codes: set[tuple[str, str]]) -> set[str]:
    return {name for name, st in states.items()
            if st.get("type") == "ConditionOnset"
            and any((c.get("system"), str(c.get("code"))) in codes for c in st.get("codes") or ())}


def _reaches(states: Mapping[str, Any], start: str, goals: set[str], blocked: str) -> bool:
    seen, stack = {blocked}, [start]
    while stack:
        name = stack.pop()
        if name in goals:
            return True
        if name in seen or name not in states:
            continue
        seen.add(name)
        stack.extend(_successors(states[name]))
    return False


def _before(states: Mapping[str, Any], goals: set[str]) -> set[str]:
    """States reachable from Initial without passing an onset state."""
    seen, stack = set(), ["Initial"]
    while stack:
        name = stack.pop()
        if name in seen or name in goals or name not in states:
            continue
        seen.add(name)
        stack.extend(_successors(states[name]))
    return seen


def _describe(cond: Any) -> tuple[float, float | None, str, str, bool]:
    """(age_lo, age_hi, sex, words, only age and sex) of a condition; only And/Age/Gender narrow the range."""
    lo, hi, sex, words = 0.0, None, "*", []
    other = False

    def walk(c: Any) -> None:
        nonlocal lo, hi, sex, other
        if not isinstance(c, dict):
            return
        kind = c.get("condition_type")
        if kind == "And":
            for sub in c.get("conditions") or ():
                walk(sub)
            return
        if kind == "Age" and c.get("unit", "years") == "years":
            q, op = float(c.get("quantity", 0)), c.get("operator")
            if op in (">", ">="):
                lo = max(lo, q)
            elif op in ("<", "<="):
                hi = q if hi is None else min(hi, q)
            words.append(f"age {op} {q:g}")
            return
        if kind == "Gender":
            sex = c.get("gender", "*")
            words.append(f"sex {sex}")
            return
        other = True
        if kind in ("Attribute", "Vital Sign", "Observation"):
            what = c.get("attribute") or c.get("vital_sign") or c.get("codes", [{}])[0].get("display", "")
            words.append(f"{what} {c.get('operator', '')} {c.get('value', '')}".strip())
            return
        words.append(str(kind))

    walk(cond)
    return lo, hi, sex, " and ".join(words) or "always", not other


def onset_parameters(module: Mapping[str, Any], codes: Iterable[tuple[str, str]]) -> list[OnsetParameter]:
    """The onset probabilities of a module (its parsed JSON) for a condition's codes.

    Example:
        >>> doc = {"states": {"Initial": {"type": "Initial", "direct_transition": "Risk"},
        ...     "Risk": {"type": "Simple", "distributed_transition": [
        ...         {"distribution": 0.01, "transition": "Onset"}, {"distribution": 0.99, "transition": "Wait"}]},
        ...     "Wait": {"type": "Delay", "exact": {"quantity": 1, "unit": "years"}, "direct_transition": "Risk"},
        ...     "Onset": {"type": "ConditionOnset", "codes": [{"system": "SNOMED-CT", "code": "1"}],
        ...               "direct_transition": "End"}, "End": {"type": "Terminal"}}}
        >>> [(p.state, p.transition, p.probability) for p in onset_parameters(doc, {("SNOMED-CT", "1")})]
        [('Risk', 'Onset', 0.01)]
    """
    states = module.get("states") or {}
    goals = _onset_states(states, set(codes))
    before_onset = _before(states, goals)
    found = []
    for name, st in states.items():
        if name not in before_onset:
            continue  # drawn only after an onset (exacerbations, remission...): not an onset probability
        covered = {"M": 0.0, "F": 0.0}  # ages that earlier catch-all options of a complex transition take
        options: list[tuple[int | None, Any, list]] = []
        if st.get("distributed_transition"):
            options.append((None, None, st["distributed_transition"]))
        for i, opt in enumerate(st.get("complex_transition") or ()):
            if opt.get("distributions"):
                options.append((i, opt.get("condition"), opt["distributions"]))
        for option, cond, dists in options:
            lo, hi, sex, words, catch_all = _describe(cond)
            lo = max(lo, covered[sex] if sex != "*" else min(covered.values()))
            if catch_all and hi is not None:
                for s in (("M", "F") if sex == "*" else (sex,)):
                    if covered[s] >= _describe(cond)[0]:
                        covered[s] = max(covered[s], hi)
            leads = [isinstance(d.get("distribution"), (int, float)) and _reaches(states, d["transition"], goals, name)
                     for d in dists]
            if not any(leads) or all(leads):
                continue
            for j, d in enumerate(dists):
                if leads[j]:
                    found.append(OnsetParameter(name, option, j, d["transition"], float(d["distribution"]),
                                                lo, hi, sex, words))
    return found


def _distributions(doc: dict, p: OnsetParameter) -> list[dict]:
    st = doc["states"][p.state]
    return st["distributed_transition"] if p.option is None else st["complex_transition"][p.option]["distributions"]


def _set_probability(doc: dict, p: OnsetParameter, value: float, onset_entries: set[int]) -> float:
    """Set one entry; the entries that do not lead to onset absorb the change. Returns the value set."""
    dists = _distributions(doc, p)
    others = [j for j, d in enumerate(dists) if j not in onset_entries and isinstance(d.get("distribution"), (int, float))]
    free = sum(dists[j]["distribution"] for j in others)
    old = dists[p.entry]["distribution"]
    value = max(0.0, min(value, old + free))
    if free > 0:
        scale = (free - (value - old)) / free
        for j in others:
            dists[j]["distribution"] = round(dists[j]["distribution"] * scale, 10)
    dists[p.entry]["distribution"] = round(value, 10)
    return value


def _overlaps(p: OnsetParameter, row: Mapping[str, Any]) -> bool:
    hi_p = math.inf if p.age_hi is None else p.age_hi
    hi_r = math.inf if row["age_hi"] is None else row["age_hi"]
    return row["age_lo"] < hi_p and p.age_lo < hi_r and (p.sex == "*" or row["sex"] in ("*", p.sex))


# --------------------------------------------------------------------------- simulation

_WORKER: dict[str, Any] = {}


def _context(library: str, locale: str, end: dt.date, version: str):
    """(modules, lifecycle) of a default run whose library is the folder ``library`` (as of ``version``)."""
    from hygeia.core.config import RunConfig
    from hygeia.population import simulate
    from hygeia.population.engine import load_modules
    from hygeia.population.lifecycle import Lifecycle, to_ms_date

    key = (library, locale, end, version)
    if _WORKER.get("key") != key:
        base = simulate._run_context(RunConfig(n=1, locale=locale, end=end))[1]
        lifecycle = Lifecycle(base.pack, to_ms_date(end), biometrics="pack", demography=base.demography)
        _WORKER.update(key=key, context=(load_modules([Path(library)]), lifecycle))
    return _WORKER["context"]


def _simulate_chunk(job: tuple[str, str, dt.date, str, int, int, int]):
    from hygeia.core.config import RunConfig
    from hygeia.population.simulate import simulate_shard

    library, locale, end, version, seed, first, count = job
    return simulate_shard(RunConfig(n=first + count, seed=seed, locale=locale, end=end), first, count,
                          context=_context(library, locale, end, version))


def _measure(library: str, version: str, measure: str, rows: Sequence[Mapping[str, Any]], *, n: int, seed: int,
             locale: str, end: dt.date, workers: int) -> list[dict[str, Any]]:
    import duckdb
    import pyarrow as pa

    from hygeia.population._calibrate_measure import person_table
    from hygeia.population.calibrate import wilson

    step = max(1, -(-n // max(workers, 1)))
    jobs = [(library, locale, end, version, seed, first, min(step, n - first)) for first in range(0, n, step)]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as ex:
            parts = list(ex.map(_simulate_chunk, jobs))
    else:
        parts = [_simulate_chunk(job) for job in jobs]
    con = duckdb.connect()
    con.register("persons", pa.concat_tables([p for p, _ in parts]))
    con.register("events", pa.concat_tables([e for _, e in parts]))
    people = person_table(con, end, [measure])
    con.close()
    out = []
    for row in rows:
        age = people["age"].to_numpy()
        mask = (age >= row["age_lo"]) & ((age < row["age_hi"]) if row["age_hi"] is not None else True)
        if row["sex"] != "*":
            mask &= people["sex"].to_numpy() == row["sex"]
        if f"{measure}:den" in people:
            mask &= people[f"{measure}:den"].to_numpy() > 0
        k, total = float(people.loc[mask, measure].sum()), float(mask.sum())
        value = k / total if total else math.nan
        lo, hi = wilson(k, total)
        out.append({**row, "simulated": None if math.isnan(value) else value, "ci_low": lo, "ci_high": hi,
                    "denominator": total,
                    "relative_error": None if math.isnan(value) or not row["value"] else value / row["value"] - 1})
    return out


def fit_module(module_path: Path, key: str, measure: str, rows: Sequence[Mapping[str, Any]], *, n: int, seed: int,
               iterations: int, damping: float, locale: str, end: dt.date, workers: int) -> dict[str, Any]:
    """Fit (or, with ``iterations=0``, only assess) a module's onset probabilities; see the module docstring."""
    from hygeia.population._measures import MEASURES, measure_codes
    from hygeia.population.engine import default_modules_dir

    doc = json.loads(Path(module_path).read_text(encoding="utf-8"))
    codes = {c for c in measure_codes({"numerator": MEASURES[measure]["numerator"]})}
    params = onset_parameters(doc, codes)
    onset_entries: dict[tuple[str, int | None], set[int]] = {}
    for p in params:
        onset_entries.setdefault((p.state, p.option), set()).add(p.entry)
    before = {id(p): p.probability for p in params}
    history = []
    with tempfile.TemporaryDirectory(prefix="hygeia-fit-") as tmp:
        library = Path(tmp) / "modules"
        shutil.copytree(default_modules_dir(), library)
        target_file = library / f"{key}.json"
        current = copy.deepcopy(doc)
        for it in range(iterations + 1):
            text = json.dumps(current, indent=2)
            target_file.write_text(text, encoding="utf-8")
            version = hashlib.sha256(text.encode()).hexdigest()
            measured = _measure(str(library), version, measure, rows, n=n, seed=seed, locale=locale, end=end,
                                workers=workers)
            history.append({"iteration": it, "rows": measured,
                            "parameters": {f"{p.state}[{p.option}][{p.entry}]": _distributions(current, p)[p.entry]["distribution"]
                                           for p in params}})
            if it == iterations:
                break
            for p in params:
                factor = _factor(p, measured, damping)
                if factor is not None:
                    now = _distributions(current, p)[p.entry]["distribution"]
                    _set_probability(current, p, now * factor, onset_entries[(p.state, p.option)])
    first, last = history[0]["rows"], history[-1]["rows"]
    report = []
    for p in params:
        factor = _factor(p, first, 1.0, bound=False)
        report.append({**asdict(p), "before": before[id(p)],
                       "after": _distributions(current, p)[p.entry]["distribution"],
                       "suggested_factor": factor,
                       "targets": [f'{r["age_band"]} {r["sex"]}' for r in first if _overlaps(p, r)]})
    return {"module": key, "measure": measure, "persons": n, "seed": seed, "iterations": iterations,
            "parameters": report, "before": first, "after": last, "history": history, "fitted": current}


def _factor(p: OnsetParameter, rows: Sequence[Mapping[str, Any]], damping: float, *,
            bound: bool = True) -> float | None:
    """Damped weighted geometric mean of target / simulated over the rows ``p`` bears on (bounded: a fitting step)."""
    logs, weights = 0.0, 0.0
    for r in rows:
        if not _overlaps(p, r) or r["simulated"] is None or not r["denominator"]:
            continue
        if r["simulated"] <= 0 or r["value"] <= 0:
            ratio = MAX_STEP if r["value"] > 0 else 1 / MAX_STEP
        else:
            ratio = r["value"] / r["simulated"]
        if bound:
            ratio = min(max(ratio, 1 / MAX_STEP), MAX_STEP)
        logs += r["denominator"] * math.log(ratio)
        weights += r["denominator"]
    if not weights:
        return None
    return math.exp(damping * logs / weights)
