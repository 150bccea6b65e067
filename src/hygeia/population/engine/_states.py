"""State types of the module format, dispatched through an explicit registry.

Each state compiles once, at load, from its JSON object; unknown keys are
ignored (as Synthea does) but every field a state needs is checked and each
problem is reported with the module file and state name. At run time
``process(run, person, t)`` does the state's work and returns one of:

* ``ADVANCE``: leave now through the state's transition;
* ``DELAY``: wait until ``run.wake``;
* ``GUARD``: wait until the condition holds;
* ``WELLNESS``: wait for the person's next wellness encounter;
* ``CALL``: run the submodule ``state.submodule`` first;
* ``TERMINAL``: the module (or submodule) is finished;
* ``DIED``: the person died here; nothing more happens to them.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from hygeia.population.engine._codegen import compile_test
from hygeia.population.engine._logic import (
    DRIFT,
    HISTORY,
    TIME,
    Age,
    Condition,
    Date,
    Not,
    _Group,
    compile_condition,
    reads,
)
from hygeia.population.engine._person import CODE, END, row_key
from hygeia.population.engine._transitions import Direct, Fixed, compile_transition
from hygeia.population.engine._units import DAY_MS, compile_duration, number_sampler

__all__ = ["ADVANCE", "CALL", "DELAY", "DIED", "GUARD", "STATES", "State", "TERMINAL", "WELLNESS", "compile_state"]

ADVANCE, DELAY, GUARD, WELLNESS, CALL, TERMINAL, DIED = range(7)

#: How often a wait that reads a drifting vital sign (one that changes with age alone, such as
#: BMI) is looked at again: a waiting Guard, and a fast-forwarded loop's plan.
DRIFT_RECHECK_MS = 28 * DAY_MS

STATES: dict[str, type["State"]] = {}


def _register(*names: str):
    def deco(cls):
        for n in names:
            STATES[n] = cls
        return cls

    return deco


def _code(c: Any, where: str, problems: list[str]) -> tuple | None:
    if not isinstance(c, dict) or "code" not in c:
        problems.append(f"{where}: a code must be an object with system, code and display; got {c!r}")
        return None
    return (c.get("system"), str(c["code"]), c.get("display"))


def _codes(spec: dict, where: str, problems: list[str], key: str = "codes", required: bool = True) -> tuple:
    codes = spec.get(key)
    if codes is None and not required:
        return ()
    if not isinstance(codes, list) or not codes:
        problems.append(f"{where}: {key!r} must be a non-empty list of codes")
        return ()
    return tuple(c for c in (_code(c, f"{where}.{key}", problems) for c in codes) if c)


class State:
    """Base class of compiled states."""

    __slots__ = ("name", "key", "module", "transition", "type", "direct", "tracked", "plan")
    #: True for states whose ``process`` does nothing (the runner skips the call).
    trivial = False
    #: True for states where time can pass (used to reject cycles that never advance time).
    waits = False
    #: A :class:`FastLoop` on Delays that loop back to themselves; None elsewhere.
    fast = None

    def __init__(self, spec: dict, ctx, where: str, problems: list[str]) -> None:
        self.name = where.rsplit(":", 1)[-1].strip()
        self.module = ctx.key
        self.key = (ctx.key, self.name)
        self.type = spec.get("type")
        self.transition = compile_transition(spec, ctx, where, problems)
        self.direct = None  # the next state, when the transition is a direct one
        self.tracked = False  # whether a PriorState condition asks about this state
        #: What the runner does here, looked up once (see :meth:`make_plan`); None until then.
        self.plan = None

    def link(self, states: dict, problems: list[str]) -> None:
        if self.transition is not None:
            self.transition.link(states, problems)
            if isinstance(self.transition, Direct):
                self.direct = self.transition.state
        if isinstance(self, Delay):
            self._module_states = states

    def targets(self) -> list[str]:
        return self.transition.targets() if self.transition is not None else []

    def make_plan(self) -> tuple:
        """``(process, direct, fast, choose)``: what the runner reads at this state, read once.

        ``process`` is None for a trivial state, else :meth:`runner`; ``direct`` the next
        state of a direct transition; ``fast`` the :class:`FastLoop`; ``choose`` the
        transition's ``choose`` when neither of those decides the next state. Made on the
        runner's first visit, after the module is linked (the loader sets what it reads).
        """
        tr = self.transition
        choose = tr.chooser() if self.direct is None and self.fast is None and tr is not None else None
        self.plan = (None if self.trivial else self.runner(), self.direct, self.fast, choose)
        return self.plan

    def runner(self):
        """``(run, person, t) -> outcome``: :meth:`process`, or a state's faster equivalent of it."""
        return self.process

    def process(self, run, person, t: int) -> int:
        return ADVANCE


def _needs_transition(state: State, where: str, problems: list[str]) -> None:
    if state.transition is None:
        problems.append(f"{where}: a {state.type} state needs a transition")


@_register("Initial", "Simple")
class Simple(State):
    __slots__ = ()
    trivial = True

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)


@_register("Terminal")
class Terminal(State):
    __slots__ = ()

    def process(self, run, person, t):
        return TERMINAL


def _time_edges(conditions: list) -> tuple[tuple[int, ...], tuple[int, ...], tuple]:
    """The leaves of ``conditions`` whose outcome can change with time, split for :meth:`FastLoop.horizon`.

    Returns ``(age_edges, date_edges, timed)``: the finite edges of every Age leaf (ms
    after birth, as ``Age.next_change`` adds them to the birth time), the change points
    of every Date leaf on a year or a date (absolute ms), both sorted and without
    repeats, and the other leaves whose ``next_change`` is not always ``None`` (months,
    PriorState ``within``...), each once. Leaves that never change with time are left out.
    """
    ages: set[int] = set()
    dates: set[int] = set()
    timed: list = []
    seen: set[int] = set()
    stack = list(conditions)
    while stack:
        c = stack.pop()
        if c is None or id(c) in seen:
            continue
        seen.add(id(c))
        kind = type(c)
        if isinstance(c, _Group):
            stack.extend(c.children)
        elif kind is Not:
            stack.append(c.child)
        elif kind.next_change is Condition.next_change:
            continue
        elif kind is Age:
            ages.update(int(e) for e in (c.lo, c.hi) if e not in (-math.inf, math.inf))
        elif kind is Date and c.field != "month":
            dates.update(c.points)
        else:
            timed.append(c)
    return tuple(sorted(ages)), tuple(sorted(dates)), tuple(timed)


class FastLoop:
    """How a Delay that loops back to itself can skip the loops that change nothing.

    A Delay of fixed length ``period`` whose transition comes back to it, directly or
    through ``pure`` states (Simple states: choices without side effects), with
    probability ``q``, repeats a geometric number of times; the engine draws that
    number at once instead of waking every period, and picks the way out from the
    exit probabilities. The draw stays valid until something the choices read
    changes (``reads``: attribute names or record keys), a time threshold passes
    (``horizon``), or, for drifting vital signs, 28 days pass; then it is drawn
    again from the next loop.
    """

    __slots__ = ("period", "reads", "drift", "pure", "transitions", "conditions", "age_edges", "date_edges", "timed",
                 "memo", "changes", "root", "counter", "steps")

    def __init__(self, period: int, reads: set, pure: frozenset, transitions: list, conditions: list,
                 counter: str | None = None, steps: dict | None = None) -> None:
        self.period = period
        self.drift = DRIFT in reads
        self.reads = frozenset(reads - {TIME, DRIFT})
        self.pure = pure
        #: The attribute that Counter and SetAttribute states of the loop keep (see
        #: :meth:`counter_outcomes`), and each such state's ``value -> new value``; None and {} otherwise.
        self.counter = counter
        self.steps = steps or {}
        self.transitions = transitions
        self.conditions = conditions
        self.age_edges, self.date_edges, self.timed = _time_edges(conditions)
        #: id of a Fixed probabilities list -> (that list, its outcomes); see ``outcomes``.
        self.memo: dict[int, tuple] = {}
        #: The one transition whose probabilities decide the outcomes, when there is one: the
        #: Delay's own, or (a Direct to the only pure state) that state's. None: walk them all.
        first = transitions[0]
        self.root = first if not pure else (
            transitions[1] if len(pure) == 1 and type(first) is Direct and first.state in pure else None)
        #: ``next_change`` of the transitions that have one (lookup tables).
        self.changes = tuple(nc for nc in (getattr(tr, "next_change", None) for tr in transitions) if nc is not None)

    def outcomes(self, delay, person, t: int) -> tuple[float, list]:
        """``(q, exits)``: the chance of coming back to ``delay`` and ``[(state, probability)]`` of leaving.

        When they follow from one list of probabilities (``root``: the Delay's transition,
        or the one pure state's that the Delay leads to directly), and that list is a
        :class:`Fixed` one (the same object each time), they are kept by it and not summed
        again.
        """
        root = self.root
        if root is not None:
            probs = root.probabilities(person, t)
            memo = self.memo
            hit = memo.get(id(probs))
            if hit is not None and hit[0] is probs:
                return hit[1]
            q = 0.0
            exits: dict = {}
            for st, pr in probs:
                if pr <= 0.0:
                    continue
                if st is delay:
                    q += pr
                else:
                    exits[st] = exits.get(st, 0.0) + pr
            out = (q, list(exits.items()))
            if type(probs) is Fixed:
                memo[id(probs)] = (probs, out)  # holds ``probs``: its id is not reused while kept
            return out
        q = 0.0
        exits = {}
        stack = [(delay.transition, 1.0)]
        pure = self.pure
        while stack:
            tr, w = stack.pop()
            for st, pr in tr.probabilities(person, t):
                if pr <= 0.0:
                    continue
                if st is delay:
                    q += w * pr
                elif st in pure:
                    stack.append((st.transition, w * pr))
                else:
                    exits[st] = exits.get(st, 0.0) + w * pr
        return q, list(exits.items())

    def counter_outcomes(self, delay, person, t: int, value) -> tuple[float, list, object]:
        """``(q, exits, back)`` of a loop that keeps a counter, when the counter holds ``value`` at ``t``.

        The loop's choices are walked as the stepped loop would make them: each Counter or
        SetAttribute on the way changes the counter (``steps``) before its own transition
        is chosen, and the choices read the counter as it is there. ``q`` is the chance of
        coming back to ``delay``; ``exits`` is ``[((state, counter there), probability)]``;
        ``back`` the counter's value on coming back, or, when the ways back leave it at
        different values, ``[(value, probability)]``.
        """
        attrs = person.attrs
        attr = self.counter
        had, old = attr in attrs, attrs.get(attr)
        pure, steps = self.pure, self.steps
        back: dict = {}
        exits: dict = {}
        stack = [(delay.transition, 1.0, value)]
        try:
            while stack:
                tr, w, v = stack.pop()
                attrs[attr] = v
                for st, pr in tr.probabilities(person, t):
                    if pr <= 0.0:
                        continue
                    if st is delay:
                        back[v] = back.get(v, 0.0) + w * pr
                    elif st in pure:
                        step = steps.get(st)
                        stack.append((st.transition, w * pr, v if step is None else step(v)))
                    else:
                        exits[(st, v)] = exits.get((st, v), 0.0) + w * pr
        finally:
            if had:
                attrs[attr] = old
            else:
                attrs.pop(attr, None)
        q = sum(back.values())
        if len(back) == 1:
            (way_back,) = back
        else:
            way_back = list(back.items()) if back else value
        return q, list(exits.items()), way_back

    def horizon(self, person, t: int) -> int | None:
        """The next time after ``t`` at which a time threshold may change the outcomes.

        The earliest ``next_change`` of every condition: a group's is its children's
        earliest, so this is the earliest over the leaves, and the age and date leaves'
        edges are fixed (sorted once, see :func:`_time_edges`), so they are bisected.
        """
        best = None
        edges = self.age_edges
        if edges:
            j = bisect.bisect_right(edges, t - person.birth)
            if j < len(edges):
                best = person.birth + edges[j]
        edges = self.date_edges
        if edges:
            j = bisect.bisect_right(edges, t)
            if j < len(edges) and (best is None or edges[j] < best):
                best = edges[j]
        for c in self.timed:
            n = c.next_change(person, t)
            if n is not None and (best is None or n < best):
                best = n
        for nc in self.changes:
            n = nc(person, t)
            if n is not None and (best is None or n < best):
                best = n
        return best


def _counter_step(state):
    """``value -> new value`` of a Counter, or of a SetAttribute of a fixed value; None for other states."""
    kind = type(state)
    if kind is Counter:
        delta = state.delta

        def step(v):
            return (v if isinstance(v, (int, float)) else 0) + delta
        return step
    if kind is SetAttribute and state.sampler is None and state.value_attribute is None \
            and isinstance(state.value, (int, float, str, tuple, type(None))):
        value = state.value
        return lambda v: value
    return None


@_register("Delay")
class Delay(State):
    __slots__ = ("duration", "exact_ms", "fast", "_module_states")
    waits = True

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        # State.Delay.endOfDelay: exact and range through convertTime's double overload, a
        # distribution's draw cast to long first (its long overload: a year is 365 days).
        self.duration = compile_duration(spec, where, problems, whole_distribution=True)
        if self.duration is None and not any(k in spec for k in ("exact", "range", "distribution")):
            problems.append(f"{where}: a Delay needs 'exact', 'range' or 'distribution'")
        self.exact_ms = None
        dist = spec.get("distribution")
        if self.duration is not None and (
            "exact" in spec or (isinstance(dist, dict) and dist.get("kind") == "EXACT" and not dist.get("round"))
        ):
            self.exact_ms = self.duration(None)
        self.fast = None

    def prepare_fast(self) -> None:
        """Enable :class:`FastLoop` when this fixed Delay comes back to itself through pure choices.

        The way round may also pass Counter states and SetAttribute states of a fixed value
        that all keep one attribute, the loop's counter, when the loop's choices read that
        counter and nothing else that can change but time (a quarterly loop that does
        something every fourth quarter): the loop is then walked with the counter's value
        (:meth:`FastLoop.counter_outcomes`). :func:`~hygeia.population.engine._loader.load_modules`
        turns that off again when another module names the attribute.
        """
        tr = self.transition
        if not self.exact_ms or tr is None or self.tracked:
            return  # a PriorState asks about this Delay: every loop must be recorded
        pure = self._loop_walk(())
        steps: dict = {}
        if pure is None:  # no way back through Simple states alone: try through the counter's states
            found = self._loop_walk(None)
            if found is None:
                return
            pure = self._loop_walk(self._leading_back(found))
            if pure is None:
                return
            steps = {st: _counter_step(st) for st in pure.values() if type(st) is not Simple}
        counters = {st.attribute for st in steps}
        transitions = [tr] + [st.transition for st in pure.values()]
        conditions, deps = [], set()
        for x in transitions:
            deps |= x.attributes()
            for c in x.conditions():
                conditions.append(c)
                deps |= reads(c)
        if HISTORY in deps:
            return
        if DRIFT in deps and self.exact_ms >= DRIFT_RECHECK_MS:
            # Each plan of a loop that reads a drifting vital sign covers at most the drift's
            # re-check, here one loop, and each change of what it reads plans again: it costs
            # more than waking at every loop (a yearly risk that reads BMI).
            return
        counter = None
        if counters:
            (counter,) = counters if len(counters) == 1 else (None,)
            if counter is None or counter not in deps or deps - {counter, TIME}:
                return  # several counters, one the choices do not read, or other reads: step every loop
            deps = {TIME}
        self.fast = FastLoop(self.exact_ms, deps, frozenset(pure.values()), transitions, conditions,
                             counter=counter, steps=steps)
        self.direct = None  # the runner must see the loop, not a plain direct transition

    def _loop_walk(self, steps) -> dict | None:
        """The pure states of the ways back to this Delay (by name), or None when there is no way back.

        Pure: untracked Simple states and, if ``steps`` is None, every untracked Counter and
        fixed SetAttribute, else those in ``steps``. None too when pure states loop among themselves.
        """
        pure: dict[str, State] = {}
        state_of = self._module_states
        colour: dict[str, int] = {}
        loops = False

        def visit(trans) -> bool:
            nonlocal loops
            for name in trans.targets():
                st = state_of.get(name)
                if st is None:
                    continue
                if st is self:
                    loops = True
                elif (type(st) is Simple or (_counter_step(st) is not None if steps is None else st in steps)) \
                        and not st.tracked and st.transition is not None:
                    c = colour.get(name, 0)
                    if c == 1:
                        return False  # a loop among pure states: leave it to the normal path
                    if c == 0:
                        colour[name] = 1
                        pure[name] = st
                        if not visit(st.transition):
                            return False
                        colour[name] = 2
            return True

        return pure if visit(self.transition) and loops else None

    def _leading_back(self, pure: dict) -> frozenset:
        """The Counter and SetAttribute states of ``pure`` from which this Delay can be reached again."""
        back = {self}
        grew = True
        while grew:
            grew = False
            for st in pure.values():
                if st not in back and any(self._module_states.get(n) in back for n in st.transition.targets()):
                    back.add(st)
                    grew = True
        return frozenset(st for st in back if st is not self and type(st) is not Simple)

    def drop_fast(self) -> None:
        """Step every loop again (the loader's veto of a counter another module names)."""
        self.fast = None
        self.plan = None
        if isinstance(self.transition, Direct):
            self.direct = self.transition.state

    def process(self, run, person, t):
        wake = run.wake
        if wake is None:
            ms = self.exact_ms  # a fixed length draws nothing
            if ms is None:
                ms = self.duration(person.rng) if self.duration else 0
            wake = run.wake = t + ms
        if wake <= t:
            run.wake = None
            return ADVANCE
        return DELAY

    def runner(self):
        """:meth:`process` as a closure over the Delay's length (the commonest state the runner meets)."""
        exact_ms, duration = self.exact_ms, self.duration

        def process(run, person, t):
            wake = run.wake
            if wake is None:
                if exact_ms is not None:
                    wake = run.wake = t + exact_ms
                else:
                    wake = run.wake = t + (duration(person.rng) if duration else 0)
            if wake <= t:
                run.wake = None
                return ADVANCE
            return DELAY
        return process


@_register("Guard")
class Guard(State):
    __slots__ = ("allow", "reads", "test")
    waits = True

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.allow = compile_condition(spec.get("allow"), ctx, where + ".allow", problems)
        #: What can open the guard besides time: attribute names and record keys.
        self.reads = frozenset(reads(self.allow) - {TIME, DRIFT})
        self.test = compile_test(self.allow) if self.allow is not None else None

    def process(self, run, person, t):
        return ADVANCE if self.test(person, t) else GUARD


@_register("SetAttribute")
class SetAttribute(State):
    __slots__ = ("attribute", "value", "sampler", "value_attribute")

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.attribute = spec.get("attribute")
        if not isinstance(self.attribute, str):
            problems.append(f"{where}: SetAttribute needs an 'attribute' name; got {self.attribute!r}")
        self.value = spec.get("value")
        if "value_code" in spec:
            self.value = _code(spec["value_code"], where + ".value_code", problems)
        self.sampler = number_sampler(spec, where, problems)
        self.value_attribute = spec.get("value_attribute")

    def process(self, run, person, t):
        if self.sampler is not None:
            v = self.sampler(person.rng)
        elif self.value_attribute is not None:
            v = person.attrs.get(self.value_attribute)
        else:
            v = self.value
        person.attrs[self.attribute] = v
        person.dirty.add(self.attribute)
        return ADVANCE

    def runner(self):
        """:meth:`process` for a fixed value, as a closure over it (sampled or copied values: ``process``)."""
        if self.sampler is not None or self.value_attribute is not None:
            return self.process
        attribute, value = self.attribute, self.value

        def process(run, person, t):
            person.attrs[attribute] = value
            person.dirty.add(attribute)
            return ADVANCE
        return process


@_register("Counter")
class Counter(State):
    __slots__ = ("attribute", "delta")

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.attribute = spec.get("attribute")
        action = spec.get("action")
        if action not in ("increment", "decrement"):
            problems.append(f"{where}: Counter action must be 'increment' or 'decrement'; got {action!r}")
        amount = spec.get("amount", 1)
        self.delta = -amount if action == "decrement" else amount

    def process(self, run, person, t):
        v = person.attrs.get(self.attribute)
        person.attrs[self.attribute] = (v if isinstance(v, (int, float)) else 0) + self.delta
        person.dirty.add(self.attribute)
        return ADVANCE

    def runner(self):
        """:meth:`process` as a closure over the attribute and step."""
        attribute, delta = self.attribute, self.delta

        def process(run, person, t):
            attrs = person.attrs
            v = attrs.get(attribute)
            attrs[attribute] = (v if isinstance(v, (int, float)) else 0) + delta
            person.dirty.add(attribute)
            return ADVANCE
        return process


@_register("CallSubmodule")
class CallSubmodule(State):
    __slots__ = ("submodule", "target")

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.submodule = spec.get("submodule")
        if not isinstance(self.submodule, str):
            problems.append(f"{where}: CallSubmodule needs a 'submodule' path; got {self.submodule!r}")
        ctx.submodule_refs.append((where, self.submodule))
        self.target = None  # the Module, bound after every module has loaded

    def process(self, run, person, t):
        return CALL


@_register("Physiology")
class Physiology(State):
    """Physiology simulation is off (as in Synthea by default): follow ``alt_direct_transition``."""

    __slots__ = ()

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        if "alt_direct_transition" in spec:
            self.transition = Direct(spec["alt_direct_transition"], ctx, where + ".alt_direct_transition", problems)
        if self.transition is None:
            problems.append(f"{where}: a Physiology state needs 'alt_direct_transition' (physiology is not simulated)")


@_register("Encounter")
class Encounter(State):
    __slots__ = ("wellness", "code", "enc_class", "waits", "row_key")

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)
        self.wellness = bool(spec.get("wellness"))
        self.waits = self.wellness
        self.enc_class = spec.get("encounter_class", "ambulatory")
        codes = _codes(spec, where, problems, required=not self.wellness)
        self.code = codes[0] if codes else None
        self.row_key = None  # its rows' row_key, made on the first (the loader names the state last)

    def process(self, run, person, t):
        if self.wellness:
            w = person.wellness
            if w is None or run.last_wellness is w:
                return WELLNESS
            run.last_wellness = w
            run.encounter = w
        else:
            key = self.row_key
            if key is None:
                key = self.row_key = row_key("encounter", self.code, self.module, self.name)
            run.encounter = person.start_encounter(t, self.code, self.enc_class, self.module, self.name, key=key)
        run.encounter_state = self.name
        if run.pending:
            still = []
            for target, state in run.pending:
                if target == self.name:
                    state.diagnose(run, person, t)
                else:
                    still.append((target, state))
            run.pending = still
        return ADVANCE


@_register("EncounterEnd")
class EncounterEnd(State):
    __slots__ = ()

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        _needs_transition(self, where, problems)

    def process(self, run, person, t):
        return _end_encounter(run, person, t)

    def runner(self):
        return _end_encounter


def _end_encounter(run, person, t):
    """``EncounterEnd.process``, one function for every such state (it reads nothing of the state)."""
    enc = run.encounter
    if enc is not None:
        if enc[END] < t:
            enc[END] = t
        run.encounter = None
        run.encounter_state = None
    return ADVANCE


@_register("Death")
class Death(State):
    """Death now, or after the given delay; the cause is its code or a referenced condition."""

    __slots__ = ("code", "ref_state", "ref_attr", "delay")

    def __init__(self, spec, ctx, where, problems):
        super().__init__(spec, ctx, where, problems)
        codes = _codes(spec, where, problems, required=False)
        self.code = codes[0] if codes else None
        self.ref_state = spec.get("condition_onset")
        self.ref_attr = spec.get("referenced_by_attribute")
        if self.ref_state:
            ctx.state_refs.append((where, "condition_onset", self.ref_state))
        # State.Death.process: exact and range (Double) through convertTime's double overload.
        self.delay = compile_duration(spec, where, problems)

    def process(self, run, person, t):
        cause = self.code
        ref = run.entries.get(self.ref_state) if self.ref_state else (
            person.attrs.get(self.ref_attr) if self.ref_attr else None)
        if cause is None and isinstance(ref, list):
            cause = (ref[3], ref[CODE], ref[5])
        when = t + (self.delay(person.rng) if self.delay else 0)
        if when <= t:
            person.death_cause = cause
            person.die(t, cause, self.module, self.name)
            return DIED
        elif person.death_due is None or when < person.death_due:
            person.death_due = when
            person.death_cause = cause
            person.extra["death_state"] = (self.module, self.name)
        return ADVANCE if self.transition is not None else TERMINAL


def compile_state(name: str, spec: Any, ctx, problems: list[str]) -> State | None:
    """Compile one state; records problems (with file and state name) instead of raising."""
    where = f"{ctx.path}: state {name}"
    if not isinstance(spec, dict):
        problems.append(f"{where}: a state must be an object; got {type(spec).__name__}")
        return None
    stype = spec.get("type")
    cls = STATES.get(stype)
    if cls is None:
        problems.append(f"{where}: unknown state type {stype!r}; known types are {sorted(STATES)}")
        return None
    state = cls(spec, ctx, where, problems)
    state.name = name
    state.key = (ctx.key, name)
    return state


# The record-writing state types register themselves on import.
from hygeia.population.engine import _states_record  # noqa: E402,F401
