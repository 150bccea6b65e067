"""Transitions of the module format, dispatched through a registry.

A transition compiles at load into an object whose ``choose(person, t)``
returns the next :class:`State`. State names are resolved in a second pass
(``link``) once every state of the module exists, so a transition to a missing
state is reported at load, with its module file and state name.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from hygeia.population.engine._codegen import compile_choice
from hygeia.population.engine._logic import compile_condition

__all__ = ["TRANSITIONS", "Transition", "compile_transition"]


class Transition:
    """Base class of compiled transitions."""

    __slots__ = ("where",)

    def targets(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def link(self, states: dict, problems: list[str]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def choose(self, person, t: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def chooser(self):
        """``(person, t) -> State``, the same as :meth:`choose` (a faster equivalent where there is one)."""
        return self.choose

    def probabilities(self, person, t: int) -> list:
        """``[(state, probability), ...]`` of what ``choose`` would return now."""
        raise NotImplementedError  # pragma: no cover - abstract

    def conditions(self) -> list:
        """Every condition this transition reads."""
        return []

    def attributes(self) -> set[str]:
        """Attributes read by the transition itself (not through conditions)."""
        return set()


class Fixed(list):
    """A ``probabilities`` answer that a transition returns again and again as one object.

    It is never changed once built, so what is derived from it can be kept by identity
    (see ``FastLoop.outcomes``); plain lists, built afresh on each call, are not.
    """

    __slots__ = ()


def _cum_to_probs(states: list, cum: list, total: float = 1.0) -> list:
    """Probabilities of the options of a cumulative table, as ``bisect`` on ``r * total`` picks them."""
    out, prev = [], 0.0
    last = len(states) - 1
    for i, st in enumerate(states):
        c = total if i == last else min(max(cum[i], 0.0), total)
        p = max(c - prev, 0.0)
        prev = max(prev, c)
        out.append((st, p / total if total > 0 else (1.0 if i == last else 0.0)))
    return out


def _resolve(name: Any, states: dict, where: str, problems: list[str]):
    st = states.get(name) if isinstance(name, str) else None
    if st is None:
        problems.append(f"{where}: transition to missing state {name!r}")
    return st


class Direct(Transition):
    __slots__ = ("fixed", "name", "state")

    def __init__(self, spec, ctx, where, problems):
        self.where = where
        self.name = spec
        if not isinstance(spec, str):
            problems.append(f"{where}: direct_transition must be a state name; got {spec!r}")

    def targets(self):
        return [self.name]

    def link(self, states, problems):
        self.state = _resolve(self.name, states, self.where, problems)
        self.fixed = Fixed([(self.state, 1.0)])

    def choose(self, person, t):
        return self.state

    def probabilities(self, person, t):
        return self.fixed


class Distributed(Transition):
    """Picks one state at random; a probability may be read from an attribute."""

    __slots__ = ("names", "probs", "attrs", "states", "static_cum", "static_probs")

    def __init__(self, spec, ctx, where, problems):
        self.where = where
        self.names, self.probs, self.attrs = [], [], []
        if not isinstance(spec, list):
            problems.append(f"{where}: distributed_transition must be a list")
            spec = []
        for i, d in enumerate(spec):
            if not isinstance(d, dict) or "transition" not in d or "distribution" not in d:
                problems.append(f"{where}[{i}]: needs 'transition' and 'distribution'; got {d!r}")
                continue
            dist = d["distribution"]
            if isinstance(dist, dict):
                attr, default = dist.get("attribute"), dist.get("default")
                if not isinstance(attr, str) or not isinstance(default, (int, float)):
                    problems.append(f"{where}[{i}]: an attribute distribution needs 'attribute' and numeric 'default'")
                    attr, default = None, 0.0
                self.attrs.append(attr)
                self.probs.append(float(default))
            elif isinstance(dist, (int, float)) and not isinstance(dist, bool) and 0 <= dist <= 1:
                self.attrs.append(None)
                self.probs.append(float(dist))
            else:
                problems.append(f"{where}[{i}]: distribution must be a probability in [0, 1]; got {dist!r}")
                continue
            self.names.append(d["transition"])
        self.static_cum = None
        if all(a is None for a in self.attrs):
            acc, cum = 0.0, []
            for p in self.probs:
                acc += p
                cum.append(acc)
            self.static_cum = cum

    def targets(self):
        return list(self.names)

    def link(self, states, problems):
        self.states = [_resolve(n, states, self.where, problems) for n in self.names]
        self.static_probs = None
        if self.static_cum is not None and self.states:
            self.static_probs = Fixed(_cum_to_probs(self.states, self.static_cum))

    def choose(self, person, t):
        if not self.states:
            return None
        r = person.rng.random()
        if self.static_cum is not None:
            i = bisect_right(self.static_cum, r)
            return self.states[i if i < len(self.states) else -1]
        acc = 0.0
        attrs = person.attrs
        for st, p, a in zip(self.states, self.probs, self.attrs):
            if a is not None:
                v = attrs.get(a)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    p = float(v)
            acc += p
            if r < acc:
                return st
        return self.states[-1]  # as Synthea: leftover probability goes to the last option

    def chooser(self):
        """:meth:`choose` with fixed probabilities as one closure (no look-ups on ``self``)."""
        if not self.states or self.static_cum is None:
            return self.choose
        cum, states = self.static_cum, tuple(self.states)
        n, last = len(states), states[-1]

        def choose(person, t):
            i = bisect_right(cum, person.rng.random())
            return states[i] if i < n else last
        return choose

    def _cum(self, person):
        if self.static_cum is not None:
            return self.static_cum
        acc, cum = 0.0, []
        attrs = person.attrs
        for p, a in zip(self.probs, self.attrs):
            if a is not None:
                v = attrs.get(a)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    p = float(v)
            acc += p
            cum.append(acc)
        return cum

    def probabilities(self, person, t):
        if self.static_probs is not None:
            return self.static_probs
        if not self.states:
            return [(None, 1.0)]
        return _cum_to_probs(self.states, self._cum(person))

    def attributes(self):
        return {a for a in self.attrs if a is not None}


class Conditional(Transition):
    """The first option whose condition holds (an option without one always holds).

    When no condition holds, the last option is followed whatever its condition,
    as Synthea's ``Transition.ConditionalTransition.follow`` does: a module
    never ends at a conditional transition. ``link`` replaces ``choose`` with a
    compiled equivalent (see ``_codegen``).
    """

    __slots__ = ("options", "states", "choose")

    def __init__(self, spec, ctx, where, problems):
        self.where = where
        self.options = []
        if not isinstance(spec, list) or not spec:
            problems.append(f"{where}: conditional_transition must be a non-empty list")
            spec = []
        for i, d in enumerate(spec):
            if not isinstance(d, dict) or "transition" not in d:
                problems.append(f"{where}[{i}]: needs a 'transition'; got {d!r}")
                continue
            cond = compile_condition(d["condition"], ctx, f"{where}[{i}].condition", problems) if "condition" in d else None
            self.options.append((cond, d["transition"]))
        self.choose = self.choose_slow

    def targets(self):
        return [n for _, n in self.options]

    def link(self, states, problems):
        self.states = [(c, _resolve(n, states, self.where, problems)) for c, n in self.options]
        if not problems:
            self.choose = compile_choice(self.states)

    def choose_slow(self, person, t):
        """The reference implementation, node by node (``choose`` is compiled from the same options)."""
        for cond, st in self.states:
            if cond is None or cond.test(person, t):
                return st
        return self.states[-1][1] if self.states else None  # no option holds: the last one

    def probabilities(self, person, t):
        return [(self.choose(person, t), 1.0)]

    def conditions(self):
        return [c for c, _ in self.options if c is not None]


class Complex(Transition):
    """Conditions, each leading to one state or a distribution over several.

    When no condition holds, the last option (its state, or a draw from its
    distribution) is followed whatever its condition, as Synthea's
    ``Transition.ComplexTransition.follow`` does. ``link`` replaces ``choose``
    with a compiled equivalent (see ``_codegen``).
    """

    __slots__ = ("options", "choose", "which")

    def __init__(self, spec, ctx, where, problems):
        self.where = where
        self.options = []
        self.which = None
        if not isinstance(spec, list) or not spec:
            problems.append(f"{where}: complex_transition must be a non-empty list")
            spec = []
        for i, d in enumerate(spec):
            w = f"{where}[{i}]"
            if not isinstance(d, dict):
                problems.append(f"{w}: must be an object; got {d!r}")
                continue
            cond = compile_condition(d["condition"], ctx, w + ".condition", problems) if "condition" in d else None
            if "transition" in d:  # as Synthea: a named transition wins over (empty) distributions
                inner: Transition = Direct(d["transition"], ctx, w + ".transition", problems)
            elif "distributions" in d:
                inner = Distributed(d["distributions"], ctx, w + ".distributions", problems)
            else:
                problems.append(f"{w}: needs 'transition' or 'distributions'")
                continue
            self.options.append((cond, inner))
        self.choose = self.choose_slow

    def targets(self):
        return [n for _, inner in self.options for n in inner.targets()]

    def link(self, states, problems):
        for _, inner in self.options:
            inner.link(states, problems)
        if not problems:
            self.choose = compile_choice(
                [(c, inner.state if type(inner) is Direct else inner) for c, inner in self.options])
            self.which = compile_choice([(c, i) for i, (c, _) in enumerate(self.options)])

    def choose_slow(self, person, t):
        """The reference implementation, node by node (``choose`` is compiled from the same options)."""
        for cond, inner in self.options:
            if cond is None or cond.test(person, t):
                return inner.choose(person, t)
        return self.options[-1][1].choose(person, t) if self.options else None  # the last option

    def probabilities(self, person, t):
        if self.which is not None:  # compiled: the index of the option ``choose`` would follow
            return self.options[self.which(person, t)][1].probabilities(person, t)
        for cond, inner in self.options:
            if cond is None or cond.test(person, t):
                return inner.probabilities(person, t)
        return self.options[-1][1].probabilities(person, t) if self.options else [(None, 1.0)]

    def conditions(self):
        return [c for c, _ in self.options if c is not None]

    def attributes(self):
        out = set()
        for _, inner in self.options:
            out |= inner.attributes()
        return out


class LookupTable(Transition):
    """Probabilities read from a CSV table keyed by the person's attributes.

    The table's columns that name a transition's target are its probabilities;
    the others are keys: ``age`` (whole years, ``low-high`` ranges), ``time``
    (epoch milliseconds, ``low-high``), ``gender``, ``race``, ``ethnicity``,
    ``state`` and any attribute. No matching row uses ``default_probability``.
    """

    __slots__ = ("names", "defaults", "table", "states", "default_cum", "probs_of")

    def __init__(self, spec, ctx, where, problems):
        self.where = where
        self.names, self.defaults, self.table = [], [], None
        if not isinstance(spec, list) or not spec:
            problems.append(f"{where}: lookup_table_transition must be a non-empty list")
            spec = []
        table_names = set()
        for i, d in enumerate(spec):
            if not isinstance(d, dict) or not {"transition", "default_probability", "lookup_table_name"} <= set(d):
                problems.append(
                    f"{where}[{i}]: needs 'transition', 'default_probability' and 'lookup_table_name'; got {d!r}"
                )
                continue
            self.names.append(d["transition"])
            self.defaults.append(float(d["default_probability"]))
            table_names.add(d["lookup_table_name"])
        if len(table_names) > 1:
            problems.append(f"{where}: all options must name one lookup table; got {sorted(table_names)}")
        if table_names:
            self.table = ctx.lookup_table(sorted(table_names)[0], self.names, where, problems)
        acc, self.default_cum = 0.0, []
        for p in self.defaults:
            acc += p
            self.default_cum.append(acc)

    def targets(self):
        return list(self.names)

    def link(self, states, problems):
        self.states = [_resolve(n, states, self.where, problems) for n in self.names]
        #: id of a cumulative row (the table's rows and the defaults live as long as this) -> probabilities.
        self.probs_of: dict[int, list] = {}

    def choose(self, person, t):
        cum = self.table.lookup(person, t) if self.table is not None else None
        if cum is None:
            cum = self.default_cum
        r = person.rng.random() * (cum[-1] if cum and cum[-1] > 0 else 1.0)
        i = bisect_right(cum, r)
        return self.states[i if i < len(self.states) else -1]

    def probabilities(self, person, t):
        cum = self.table.lookup(person, t) if self.table is not None else None
        if cum is None:
            cum = self.default_cum
        probs = self.probs_of.get(id(cum))
        if probs is None:
            total = cum[-1] if cum and cum[-1] > 0 else 1.0
            probs = self.probs_of[id(cum)] = Fixed(_cum_to_probs(self.states, cum, total))
        return probs

    def attributes(self):
        static = {"gender", "race", "ethnicity"}
        return {c for c in self.table.key_cols if c not in static} if self.table is not None else set()

    def next_change(self, person, t):
        """The first time after ``t`` at which the matching row may change (an age or date range edge), or None."""
        return self.table.next_change(person, t) if self.table is not None else None


class TypeOfCare(Transition):
    """Synthea's type_of_care_transition: ambulatory, emergency or telemedicine care.

    Hygeia has no telemedicine model, so the ambulatory option is taken when
    present, then emergency, then telemedicine.
    """

    __slots__ = ("order", "state")

    def __init__(self, spec, ctx, where, problems):
        self.where = where
        if not isinstance(spec, dict) or not spec:
            problems.append(f"{where}: type_of_care_transition must map ambulatory/emergency/telemedicine to states")
            spec = {}
        self.order = [spec[k] for k in ("ambulatory", "emergency", "telemedicine") if k in spec]

    def targets(self):
        return list(self.order)

    def link(self, states, problems):
        self.state = _resolve(self.order[0], states, self.where, problems) if self.order else None

    def choose(self, person, t):
        return self.state

    def probabilities(self, person, t):
        return [(self.state, 1.0)]


TRANSITIONS: dict[str, type[Transition]] = {
    "direct_transition": Direct,
    "distributed_transition": Distributed,
    "conditional_transition": Conditional,
    "complex_transition": Complex,
    "lookup_table_transition": LookupTable,
    "type_of_care_transition": TypeOfCare,
}


def compile_transition(spec: dict, ctx, where: str, problems: list[str], key: str | None = None):
    """Compile the one transition of a state (``key`` forces which field to read)."""
    keys = [key] if key else [k for k in TRANSITIONS if k in spec]
    if len(keys) > 1:
        problems.append(f"{where}: a state has one transition; found {keys}")
    if not keys:
        return None
    k = keys[0]
    return TRANSITIONS[k](spec[k], ctx, f"{where}.{k}", problems)
