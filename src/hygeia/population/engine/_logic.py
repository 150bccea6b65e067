"""Logic conditions of the module format, dispatched through a registry.

Each condition compiles once, at load, into an object with

* ``test(person, t) -> bool``: whether it holds for ``person`` at time ``t``;
* ``next_change(person, t) -> int | None``: the next time after ``t`` at which
  its truth can change *by the passage of time alone* (ages and dates), or None;
* ``drifts``: True when its truth can change continuously with time (vital
  signs that the lifecycle evolves), so a waiting Guard re-checks periodically.

Anything else a condition reads (attributes, active conditions, observations)
changes only when some state records it, and the runner re-checks waiting
Guards after every such change. This is what lets the engine jump from event to
event instead of stepping every week as Synthea does.
"""

from __future__ import annotations

import datetime as dt
import math
import operator as op
from collections.abc import Callable
from typing import Any

from hygeia.population.engine._entries import Undiagnosed
from hygeia.population.engine._units import DURATION_MS, MS, duration_ms

__all__ = ["CONDITIONS", "Condition", "compile_condition", "compare"]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": op.lt,
    "<=": op.le,
    "==": op.eq,
    ">=": op.ge,
    ">": op.gt,
    "!=": op.ne,
}
_NIL_OPS = ("is nil", "is not nil")


def compare(lhs: Any, rhs: Any, operator: str) -> bool:
    """Compare like Synthea: nil checks, numbers as numbers, anything else by equality."""
    if operator == "is nil":
        return lhs is None
    if operator == "is not nil":
        return lhs is not None
    if lhs is None:
        return False
    f = _OPS[operator]
    try:
        if isinstance(rhs, bool) or isinstance(lhs, bool):
            if operator in ("==", "!="):
                return f(lhs, rhs)
            return False
        return f(lhs, rhs)
    except TypeError:
        if operator == "==":
            return str(lhs) == str(rhs)
        if operator == "!=":
            return str(lhs) != str(rhs)
        return False


class Condition:
    """Base class: a compiled logic condition (see module docstring)."""

    __slots__ = ()
    drifts = False

    def test(self, person, t: int) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def next_change(self, person, t: int) -> int | None:
        return None


CONDITIONS: dict[str, type[Condition]] = {}


def _register(name: str):
    def deco(cls):
        CONDITIONS[name] = cls
        cls.condition_type = name
        return cls

    return deco


def _operator(spec: dict, where: str, problems: list[str], allow_nil: bool = True) -> str:
    o = spec.get("operator")
    ok = o in _OPS or (allow_nil and o in _NIL_OPS)
    if not ok:
        problems.append(f"{where}: unknown operator {o!r}; use one of {list(_OPS) + list(_NIL_OPS)}")
        return "=="
    return o


def _codes(spec: dict, where: str, problems: list[str], key: str = "codes") -> tuple[str, ...]:
    codes = spec.get(key)
    if not isinstance(codes, list) or not codes:
        problems.append(f"{where}: {key!r} must be a non-empty list of {{system, code, display}}")
        return ()
    out = []
    for c in codes:
        if not isinstance(c, dict) or "code" not in c:
            problems.append(f"{where}: each code needs a 'code'; got {c!r}")
        else:
            out.append(str(c["code"]))
    return tuple(out)


@_register("True")
class TrueCondition(Condition):
    __slots__ = ()

    def __init__(self, spec, ctx, where, problems):
        pass

    def test(self, person, t):
        return True


@_register("False")
class FalseCondition(TrueCondition):
    __slots__ = ()

    def test(self, person, t):
        return False


class _Group(Condition):
    __slots__ = ("children", "drifts")

    def __init__(self, spec, ctx, where, problems, key="conditions"):
        kids = spec.get(key)
        if not isinstance(kids, list) or not kids:
            problems.append(f"{where}: {self.condition_type} needs a non-empty list {key!r}")
            kids = []
        self.children = tuple(
            c for c in (compile_condition(k, ctx, f"{where}.{key}[{i}]", problems) for i, k in enumerate(kids)) if c
        )
        self.drifts = any(c.drifts for c in self.children)

    def next_change(self, person, t):
        best = None
        for c in self.children:
            n = c.next_change(person, t)
            if n is not None and (best is None or n < best):
                best = n
        return best


@_register("And")
class And(_Group):
    __slots__ = ()

    def test(self, person, t):
        for c in self.children:
            if not c.test(person, t):
                return False
        return True


@_register("Or")
class Or(_Group):
    __slots__ = ()

    def test(self, person, t):
        for c in self.children:
            if c.test(person, t):
                return True
        return False


@_register("At Least")
class AtLeast(_Group):
    __slots__ = ("minimum",)

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        self.minimum = spec.get("minimum")
        if not isinstance(self.minimum, int):
            problems.append(f"{where}: 'At Least' needs an integer 'minimum'; got {self.minimum!r}")
            self.minimum = 1

    def test(self, person, t):
        return sum(1 for c in self.children if c.test(person, t)) >= self.minimum


@_register("At Most")
class AtMost(_Group):
    __slots__ = ("maximum",)

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        self.maximum = spec.get("maximum")
        if not isinstance(self.maximum, int):
            problems.append(f"{where}: 'At Most' needs an integer 'maximum'; got {self.maximum!r}")
            self.maximum = 0

    def test(self, person, t):
        return sum(1 for c in self.children if c.test(person, t)) <= self.maximum


@_register("Not")
class Not(Condition):
    __slots__ = ("child", "drifts")

    def __init__(self, spec, ctx, where, problems):
        self.child = compile_condition(spec.get("condition"), ctx, where + ".condition", problems)
        self.drifts = bool(self.child and self.child.drifts)

    def test(self, person, t):
        return not self.child.test(person, t)

    def next_change(self, person, t):
        return self.child.next_change(person, t)


@_register("Gender")
class Gender(Condition):
    __slots__ = ("gender",)

    def __init__(self, spec, ctx, where, problems):
        self.gender = spec.get("gender")
        if self.gender not in ("M", "F"):
            problems.append(f"{where}: Gender needs gender 'M' or 'F'; got {self.gender!r}")

    def test(self, person, t):
        return person.sex == self.gender


@_register("Race")
class Race(Condition):
    __slots__ = ("race",)

    def __init__(self, spec, ctx, where, problems):
        race = spec.get("race")
        if not isinstance(race, str):
            problems.append(f"{where}: Race needs a race name; got {race!r}")
            race = ""
        self.race = race.lower()

    def test(self, person, t):
        if self.race == "hispanic":  # older modules treat Hispanic as a race; it is an ethnicity now
            return person.ethnicity == "hispanic"
        return person.race == self.race


@_register("Socioeconomic Status")
class SocioeconomicStatus(Condition):
    __slots__ = ("category",)

    def __init__(self, spec, ctx, where, problems):
        self.category = spec.get("category")
        if self.category not in ("High", "Middle", "Low"):
            problems.append(f"{where}: Socioeconomic Status category must be High, Middle or Low; got {self.category!r}")

    def test(self, person, t):
        return person.ses == self.category


@_register("Age")
class Age(Condition):
    """Whole elapsed units of age (as Synthea: floor of years or months), compared.

    Compiled to an interval of elapsed milliseconds since birth, ``lo <= t - birth < hi``,
    (negated for ``!=``), so a test is one subtraction and one comparison.
    """

    __slots__ = ("lo", "hi", "negate")

    def __init__(self, spec, ctx, where, problems):
        op = _operator(spec, where, problems, allow_nil=False)
        q = spec.get("quantity")
        if isinstance(q, bool) or not isinstance(q, (int, float)):
            problems.append(f"{where}: Age needs a numeric 'quantity'; got {q!r}")
            q = 0
        unit = spec.get("unit", "years")
        if unit not in MS:
            problems.append(f"{where}: unknown age unit {unit!r}; use years, months, weeks or days")
            unit = "years"
        u = MS[unit]
        inf = float("inf")
        # floor(x) compared with q, as an interval of x (elapsed units since birth).
        self.negate = op == "!="
        if op == ">=":
            lo, hi = math.ceil(q), inf
        elif op == ">":
            lo, hi = math.floor(q) + 1, inf
        elif op == "<":
            lo, hi = -inf, math.ceil(q)
        elif op == "<=":
            lo, hi = -inf, math.floor(q) + 1
        elif float(q).is_integer():  # == or !=
            lo, hi = q, q + 1
        else:
            lo, hi = 0, 0  # == a fractional quantity never holds
        self.lo = lo * u if lo != -inf else -inf
        self.hi = hi * u if hi != inf else inf

    def test(self, person, t):
        inside = self.lo <= t - person.birth < self.hi
        return not inside if self.negate else inside

    def next_change(self, person, t):
        for edge in (self.lo, self.hi):
            if edge not in (-math.inf, math.inf):
                at = person.birth + int(edge)
                if at > t:
                    return at
        return None


def _year_start(year: int) -> int:
    return int(dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)


def _year_of(t: int) -> int:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=t)).year


@_register("Date")
class Date(Condition):
    """Compares the calendar year, the month (1-12), or a full date."""

    __slots__ = ("f", "field", "value", "points")

    def __init__(self, spec, ctx, where, problems):
        self.f = _OPS[_operator(spec, where, problems, allow_nil=False)]
        self.points: tuple[int, ...] = ()
        if "year" in spec:
            self.field, self.value = "year", spec["year"]
            if not isinstance(self.value, int):
                problems.append(f"{where}: Date 'year' must be an integer; got {self.value!r}")
                self.value = 0
            else:
                self.points = (_year_start(self.value), _year_start(self.value + 1))
        elif "month" in spec:
            self.field, self.value = "month", spec["month"]
        elif "date" in spec and isinstance(spec["date"], dict):
            d = spec["date"]
            try:
                when = dt.datetime(
                    d["year"], d.get("month", 1), d.get("day", 1), d.get("hour", 0), d.get("minute", 0),
                    d.get("second", 0), d.get("millisecond", 0) * 1000, tzinfo=dt.timezone.utc,
                )
            except (KeyError, TypeError, ValueError) as e:
                problems.append(f"{where}: Date 'date' is not a valid date ({e}); got {d!r}")
                when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
            self.field, self.value = "date", int(when.timestamp() * 1000)
            self.points = (self.value, self.value + 1)
        else:
            problems.append(f"{where}: Date needs 'year', 'month' or 'date'")
            self.field, self.value = "year", 0

    def test(self, person, t):
        if self.field == "date":
            return self.f(t, self.value)
        d = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=t)
        return self.f(d.year if self.field == "year" else d.month, self.value)

    def next_change(self, person, t):
        if self.field == "month":
            d = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=t)
            y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
            return _year_start(y) + int((dt.datetime(y, m, 1) - dt.datetime(y, 1, 1)).total_seconds() * 1000)
        for p in self.points:
            if p > t:
                return p
        return None


@_register("Attribute")
class Attribute(Condition):
    __slots__ = ("attribute", "op", "value")

    def __init__(self, spec, ctx, where, problems):
        self.attribute = spec.get("attribute")
        if not isinstance(self.attribute, str):
            problems.append(f"{where}: Attribute needs an 'attribute' name; got {self.attribute!r}")
        self.op = _operator(spec, where, problems)
        self.value = spec.get("value")
        if self.op not in _NIL_OPS and "value" not in spec:
            problems.append(f"{where}: Attribute with operator {self.op!r} needs a 'value'")

    def test(self, person, t):
        op = self.op
        if op == "==":
            v = person.attrs.get(self.attribute)
            return v is not None and v == self.value
        if op == "is not nil":
            return person.attrs.get(self.attribute) is not None
        if op == "is nil":
            return person.attrs.get(self.attribute) is None
        return compare(person.attrs.get(self.attribute), self.value, op)


@_register("Symptom")
class Symptom(Condition):
    __slots__ = ("symptom", "op", "value")

    def __init__(self, spec, ctx, where, problems):
        self.symptom = spec.get("symptom")
        self.op = _operator(spec, where, problems)
        self.value = spec.get("value")

    def test(self, person, t):
        causes = person.symptoms.get(self.symptom)
        level = max(causes.values()) if causes else 0
        return compare(level, self.value, self.op)


@_register("Vital Sign")
class VitalSign(Condition):
    __slots__ = ("name", "op", "value")
    drifts = True

    def __init__(self, spec, ctx, where, problems):
        self.name = spec.get("vital_sign")
        if not isinstance(self.name, str):
            problems.append(f"{where}: 'Vital Sign' needs a 'vital_sign' name; got {self.name!r}")
        self.op = _operator(spec, where, problems)
        self.value = spec.get("value")

    def test(self, person, t):
        return compare(person.vital(self.name, t), self.value, self.op)


@_register("Observation")
class Observation(Condition):
    """Compares the latest recorded value of an observation (numeric or coded)."""

    __slots__ = ("codes", "attribute", "op", "value")

    def __init__(self, spec, ctx, where, problems):
        self.attribute = spec.get("referenced_by_attribute")
        self.codes = () if self.attribute else _codes(spec, where, problems)
        self.op = _operator(spec, where, problems)
        if "value_code" in spec:
            vc = spec["value_code"]
            self.value = str(vc.get("code")) if isinstance(vc, dict) else None
        else:
            self.value = spec.get("value")

    def test(self, person, t):
        obs = person.obs
        if self.attribute:
            row = person.attrs.get(self.attribute)
            latest = obs.get(row[4]) if isinstance(row, list) else None
        else:
            latest = None
            for c in self.codes:
                if c in obs:
                    latest = obs[c]
                    break
        return compare(latest, self.value, self.op)


class _Active(Condition):
    """Whether a recorded entry of one kind is active (by codes or by an attribute)."""

    __slots__ = ("codes", "attribute")
    table = ""
    kind = ""

    def __init__(self, spec, ctx, where, problems):
        self.attribute = spec.get("referenced_by_attribute")
        self.codes = () if self.attribute else _codes(spec, where, problems)

    def test(self, person, t):
        active = getattr(person, self.table)
        if self.attribute:
            row = person.attrs.get(self.attribute)
            if type(row) is Undiagnosed:  # Synthea's ActiveLogic.checkAttribute looks the code up
                return row[4] in active
            return isinstance(row, list) and active.get(row[4]) is row
        for c in self.codes:
            if c in active:
                return True
        return False


@_register("Active Condition")
class ActiveCondition(_Active):
    __slots__ = ()
    kind = "condition"
    table = "conditions"


@_register("Active Medication")
class ActiveMedication(_Active):
    __slots__ = ()
    kind = "medication"
    table = "medications"


@_register("Active CarePlan")
class ActiveCarePlan(_Active):
    __slots__ = ()
    kind = "careplan"
    table = "careplans"


@_register("Active Allergy")
class ActiveAllergy(_Active):
    __slots__ = ()
    kind = "allergy"
    table = "allergies"


@_register("PriorState")
class PriorState(Condition):
    """Whether the module has been in state ``name`` (since another state, within a time)."""

    __slots__ = ("name", "since", "within", "key", "since_key")

    def __init__(self, spec, ctx, where, problems):
        self.name = spec.get("name")
        if not isinstance(self.name, str):
            problems.append(f"{where}: PriorState needs a state 'name'; got {self.name!r}")
        self.since = spec.get("since")
        self.within = None
        w = spec.get("within")
        if w is not None:
            if not isinstance(w, dict) or w.get("unit") not in DURATION_MS or not isinstance(
                    w.get("quantity"), (int, float)):
                problems.append(f"{where}: PriorState 'within' needs quantity and a time unit; got {w!r}")
            else:
                # Logic.PriorState: within is an ExactWithUnit<Double>, so convertTime's double
                # overload (a month is 30 days, a year 365.25 days truncated to whole days).
                self.within = duration_ms(w["quantity"], w["unit"])
        self.key = (ctx.key, self.name)
        self.since_key = (ctx.key, self.since)
        ctx.prior_refs.append((where, self.name, self.since))

    def test(self, person, t):
        prior = person.prior
        when = prior.get(self.key)
        if when is None:
            return False
        if self.since is not None:
            s = prior.get(self.since_key)
            if s is not None and when < s:
                return False
        if self.within is not None and t - when > self.within:
            return False
        return True

    def next_change(self, person, t):
        if self.within is None:
            return None
        when = person.prior.get(self.key)
        if when is None or when + self.within <= t:
            return None
        return when + self.within + 1


#: Keys of what a condition reads, besides attribute names: the passage of time (ages and
#: dates), vital signs that drift with age, the module's own state history, and parts of
#: the health record: "@" + a record kind ("@condition", "@observation"...), "@symptom",
#: and "@vital" (vital signs set by states).
TIME, DRIFT, HISTORY, SYMPTOMS, VITALS = "@time", "@drift", "@history", "@symptom", "@vital"


def record_key(kind: str) -> str:
    """The change key of a record kind (what the runner sees when such a row changes)."""
    return RECORD_KEYS.get(kind) or "@" + kind


RECORD_KEYS = {k: "@" + k for k in ("condition", "medication", "careplan", "allergy", "device", "observation")}


def reads(cond: Condition | None) -> set[str]:
    """What can flip ``cond``: attribute names and the change keys above."""
    if cond is None:
        return set()
    if isinstance(cond, _Group):
        out: set[str] = set()
        for c in cond.children:
            out |= reads(c)
        return out
    if isinstance(cond, Not):
        return reads(cond.child)
    if isinstance(cond, (Age, Date)):
        return {TIME}
    if isinstance(cond, Attribute):
        return {cond.attribute}
    if isinstance(cond, VitalSign):
        return {VITALS, DRIFT}
    if isinstance(cond, (_Active, Observation)):
        key = "@observation" if isinstance(cond, Observation) else record_key(cond.kind)
        return {key, cond.attribute} if cond.attribute else {key}
    if isinstance(cond, Symptom):
        return {SYMPTOMS}
    if isinstance(cond, PriorState):
        return {HISTORY, TIME} if cond.within is not None else {HISTORY}
    return set()


def compile_condition(spec: Any, ctx, where: str, problems: list[str]) -> Condition | None:
    """Compile one condition object; records problems instead of raising."""
    if not isinstance(spec, dict):
        problems.append(f"{where}: a condition must be an object with 'condition_type'; got {spec!r}")
        return None
    ctype = spec.get("condition_type")
    cls = CONDITIONS.get(ctype)
    if cls is None:
        problems.append(f"{where}: unknown condition_type {ctype!r}; known types are {sorted(CONDITIONS)}")
        return None
    return cls(spec, ctx, where, problems)

