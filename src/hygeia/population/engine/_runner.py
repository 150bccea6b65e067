"""Runs every module for one person, from birth to death or the end of the simulation.

Synthea steps every module of every person through every week of a lifetime.
Hygeia instead jumps from event to event: a module waiting in a Delay is
woken at its expiry (exactly, not at the next weekly step); one waiting at a
Guard is re-checked only when something about the person changed, or when the
passage of time alone could flip its condition (an age or a date threshold, or
a vital sign that drifts, which is re-checked every 28 days); one waiting for a
wellness encounter is woken by the lifecycle's next wellness visit. The order
of work is fixed by (time, order of scheduling), so results depend only on the
person's seed.
"""

from __future__ import annotations

import heapq
import math
from heapq import heappush

from hygeia.errors import SimulationError
from hygeia.population.engine._person import END, Person
from hygeia.population.engine._states import ADVANCE, CALL, DELAY, DRIFT_RECHECK_MS, GUARD, TERMINAL, WELLNESS
from hygeia.population.engine._units import DAY_MS

__all__ = ["ModuleRun", "Simulation"]

#: Most state changes one module may make at one instant before it is called an endless loop.
MAX_STEPS_PER_INSTANT = 5000
#: Most pieces of constant loop probability one fast-loop plan walks before planning again,
#: and how far ahead (a piece starting later is planned when it comes).
FAST_PIECES = 64
FAST_SPAN_MS = 91 * DAY_MS
_WAITING = object()


class ModuleRun:
    """Where one module stands for one person."""

    __slots__ = ("module", "state", "stack", "wake", "encounter", "encounter_state", "pending", "entries",
                 "last_wellness", "token", "anchor")

    def __init__(self, module) -> None:
        self.module = module
        self.state = module.initial
        self.stack: list = []
        self.wake: int | None = None
        self.encounter: list | None = None
        self.encounter_state: str | None = None
        self.pending: list = []
        self.entries: dict[str, list] = {}
        self.last_wellness = None
        self.token = 0
        self.anchor = 0


class Simulation:
    """The event loop of one person.

    Args:
        person: the :class:`Person` to simulate (born at ``person.birth``).
        modules: the compiled :class:`ModuleSet`.
        end: the simulation's end, epoch ms.
    """

    def __init__(self, person: Person, modules, end: int) -> None:
        self.person = person
        self.modules = modules
        self.end = end
        self.heap: list = []
        self.seq = 0
        self.guards: list[ModuleRun] = []
        self.waiting_wellness: list[ModuleRun] = []
        self.runs: list[ModuleRun] = []
        self.fast: list[ModuleRun] = []
        #: How many waiting Guards and fast loops read each change key.
        self.watched: dict[str, int] = {}
        #: Counter loops' outcomes by (Delay, horizon, counter value); see :meth:`_fast_plan_counter`.
        self.counter_memo: dict = {}

    # -- scheduling ------------------------------------------------------------
    def schedule(self, t: int, fn, arg=None) -> None:
        """Call ``fn(arg, t)`` at time ``t`` (ties run in the order scheduled)."""
        heappush(self.heap, (t, self.seq, fn, arg))
        self.seq += 1

    def run(self) -> None:
        p = self.person
        t0 = p.birth
        for m in self.modules.modules:
            if m.initial is None:
                continue
            r = ModuleRun(m)
            self.runs.append(r)
            p.prior[m.initial.key] = t0
            self.advance(r, t0)
            if not p.alive:
                break
        self.check_guards(t0)
        if p.dirty:
            self._changed(t0)
        heap, end, watched = self.heap, self.end, self.watched
        heappop = heapq.heappop
        while heap and p.alive:
            t, _, fn, arg = heappop(heap)
            due = p.death_due
            if due is not None and due <= t and due <= end:
                self._die_due()
                break
            if t > end:
                break
            fn(arg, t)
            dirty = p.dirty
            if dirty and p.alive:
                for key in dirty:  # (a set of one or two keys: cheaper than a keys view)
                    if key in watched:
                        self._changed(t)
                        break
                else:
                    dirty.clear()  # nothing waiting reads what changed (``_changed`` would do just this)
        if p.alive and p.death_due is not None and p.death_due <= end:
            self._die_due()
        self._finish()
        # Break the reference cycles (heap entries hold bound methods of this object) so
        # that a simulated person is freed by reference counting alone.
        self.heap.clear()
        self.counter_memo.clear()
        self.guards.clear()
        self.fast.clear()
        self.waiting_wellness.clear()

    def _die_due(self) -> None:
        p = self.person
        module, state = p.extra.get("death_state", ("lifecycle", "Death"))
        p.die(p.death_due, p.death_cause, module, state)

    # -- module stepping -------------------------------------------------------
    def advance(self, run: ModuleRun, t: int) -> None:
        """Run ``run``'s module from its current state until it waits or ends."""
        p = self.person
        prior = p.prior
        state = run.state
        steps = 0
        advance_, delay_, most = ADVANCE, DELAY, MAX_STEPS_PER_INSTANT
        while True:
            plan = state.plan
            if plan is None:
                plan = state.make_plan()
            process, nxt, fast, choose = plan
            # Simple states do nothing (no call); the others' work returns what happens next.
            if process is None or (r := process(run, p, t)) == advance_:
                if nxt is None:
                    if fast is not None:
                        nxt = self._fast_plan(run, state, t, True)
                        if nxt is _WAITING:
                            return
                    elif choose is not None:
                        nxt = choose(p, t)
            elif r == delay_:
                run.state = state
                run.token += 1
                # ``schedule(run.wake, self.advance, run)``, inlined: the commonest way to wait
                heappush(self.heap, (run.wake, self.seq, self.advance, run))
                self.seq += 1
                return
            elif r == CALL:
                run.stack.append(state)
                nxt = state.target.initial
            elif r == TERMINAL:
                if not run.stack:
                    run.state = state
                    return
                caller = run.stack.pop()
                nxt = caller.direct or (caller.transition.choose(p, t) if caller.transition is not None else None)
            elif r == GUARD:
                run.state = state
                run.token += 1
                self.guards.append(run)
                self._watch(state.reads)
                self._schedule_guard_tick(run, t)
                return
            elif r == WELLNESS:
                run.state = state
                self.waiting_wellness.append(run)
                return
            else:  # DIED
                run.state = state
                return
            if nxt is None:
                # Unreachable for validated modules: every non-Terminal state has a transition and
                # conditional/complex ones fall back to their last option (as Synthea's
                # Transition.ConditionalTransition.follow). Kept as a guard: the module ends here.
                run.stack.clear()
                run.state = state
                return
            state = nxt
            if state.tracked:
                prior[state.key] = t
            steps += 1
            if steps > most:
                raise SimulationError(
                    f"module {run.module.key!r} looped {steps} times without time passing, last at state "
                    f"{state.name!r} (person {p.subject_id}); add a Delay or Guard to that loop"
                )

    # -- fast loops (see FastLoop) -------------------------------------------------
    def _fast_plan(self, run: ModuleRun, state, g: int, now: bool):
        """At grid time ``g`` of a fast-looping Delay: leave now, or plan the next exit or re-check.

        The chance ``q`` of looping once more is constant between the times at which an
        age, a date or a drifting vital sign can change it (``FastLoop.horizon``): a
        piece. One uniform ``u`` decides the whole walk: the loop survives the ``n``
        decisions of a piece with probability ``q ** n``, so it leaves at decision
        ``k = floor(log(u) / log(q))`` of the first piece where ``k < n``, and
        otherwise goes on with ``log(u) - n log(q)``, the log of a fresh uniform
        (inversion of the survival function: the same law as deciding every period).
        The walk stops at the end of the simulation, and at the first piece that starts
        ``FAST_SPAN_MS`` or more after ``g`` or after ``FAST_PIECES`` pieces: it is then
        planned again, with a new draw, when that piece comes (by then a change of what
        the choices read may have made the plan moot: walking far ahead would be wasted).

        Returns the next state when leaving at ``g`` (only if ``now``), else ``_WAITING``.
        """
        fast = state.fast
        if fast.counter is not None:
            return self._fast_plan_counter(run, state, g, now)
        p = self.person
        d = fast.period
        drift = fast.drift
        end = self.end
        log_u = None
        stop = g + FAST_SPAN_MS
        for _ in range(FAST_PIECES):
            q, exits = fast.outcomes(state, p, g)
            if q <= 0.0:
                k = 0
            elif q >= 1.0 or not exits:
                k = -1  # never leaves while nothing changes
            else:
                if log_u is None:
                    log_u = math.log(1.0 - p.rng.random())
                k = int(log_u / math.log(q))
            if k == 0:
                if now:
                    return self._pick_exit(exits, q)
                return self._fast_schedule(run, state, g, g, self._fast_exit, (q, exits))
            horizon = fast.horizon(p, g)
            if drift and (horizon is None or horizon > g + DRIFT_RECHECK_MS):
                horizon = g + DRIFT_RECHECK_MS
            if horizon is None:
                n = None
            else:
                n = max(1, -(-(horizon - g) // d))  # decisions in this piece; the next starts at g + n * d
            if k > 0 and (n is None or k < n):
                return self._fast_schedule(run, state, g, g + k * d, self._fast_exit, (q, exits))
            if n is None:
                return self._fast_schedule(run, state, g, None, None)
            if k > 0:
                log_u -= n * math.log(q)
            now = False
            g += n * d
            if g > end:
                return self._fast_schedule(run, state, g, None, None)
            if g >= stop:
                break
        return self._fast_schedule(run, state, g, g, self._fast_eval)

    def _fast_plan_counter(self, run, state, g: int, now: bool):
        """:meth:`_fast_plan` for a loop that keeps a counter (``FastLoop.counter``), decision by decision.

        The chance of looping once more depends on the counter (a quarterly loop that does
        something every fourth quarter) and, between the loop's time thresholds, on nothing
        else, so the walk follows the counter through the loops of each piece, one uniform
        deciding the whole walk as in :meth:`_fast_plan`: the loop at ``g`` survives with
        ``q``, and with ``u`` the uniform it is left at the first loop where the logs of the
        ``q`` so far fall below ``log(u)`` (inversion of the survival function). Where the
        ways back leave the counter at different values, that loop is decided on its own
        with a fresh uniform. The counter's value at the planned time is kept in the
        attribute (no other module reads it: the loader checks), so the wake-up finds it
        there; on leaving, the attribute holds the value the way out gave it.

        Returns the next state when leaving at ``g`` (only if ``now``), else ``_WAITING``.
        """
        p = self.person
        fast = state.fast
        attr = fast.counter
        d = fast.period
        end = self.end
        attrs = p.attrs
        rng = p.rng
        log = math.log
        value = attrs.get(attr)
        first = g
        log_u = None
        memo = self.counter_memo
        while True:
            horizon = fast.horizon(p, g)
            stop = None if horizon is None else g + max(1, -(-(horizon - g) // d)) * d
            while stop is None or g < stop:
                if g > end:
                    attrs[attr] = value
                    return self._fast_schedule(run, state, g, None, None)
                # The outcomes hold until the horizon (the loop reads nothing else that changes), so
                # this person's later plans in the same piece find them by (loop, horizon, counter).
                key = (state, horizon, value)
                out = memo.get(key)
                if out is None:
                    out = memo[key] = fast.counter_outcomes(state, p, g, value)
                q, exits, back = out
                leave = False
                if type(back) is list:  # the way back is chosen at random: this loop on its own
                    r = rng.random()
                    acc = 0.0
                    for v, pr in back:
                        acc += pr
                        if r < acc:
                            back = v
                            break
                    else:
                        leave = True
                elif q <= 0.0:
                    leave = True
                elif q < 1.0 and exits:
                    if log_u is None:
                        log_u = log(1.0 - rng.random())
                    lq = log(q)
                    if lq < log_u:
                        leave = True
                    else:
                        log_u -= lq
                if leave and exits:
                    if now and g == first:
                        nxt, value = self._pick_exit(exits, q)
                        attrs[attr] = value
                        p.dirty.add(attr)
                        return nxt
                    attrs[attr] = value
                    return self._fast_schedule(run, state, g, g, self._fast_exit, (q, exits))
                value = back
                g += d

    def _fast_schedule(self, run, state, anchor, when, fn, outcomes=None):
        """Wait in the fast loop (``run.anchor``: the plan's grid); ``fn`` at ``when``, if any.

        ``outcomes``: the ``(q, exits)`` of an exit planned at ``when``, which hold there: the
        plan stops at the loop's next time threshold, and a change of what it reads plans again.
        """
        run.state = state
        run.anchor = anchor
        run.token += 1
        self.fast.append(run)
        reads = state.fast.reads
        if reads:
            self._watch(reads)
        if when is not None and when <= self.end:
            heappush(self.heap, (when, self.seq, fn, (run, run.token, outcomes)))  # self.schedule, inlined
            self.seq += 1
        return _WAITING

    def _pick_exit(self, exits: list, q: float):
        """One way out, drawn in proportion to the exit probabilities (which sum to 1 - q)."""
        r = self.person.rng.random() * (1.0 - q)
        acc = 0.0
        last = None
        for st, pr in exits:
            acc += pr
            last = st
            if r < acc:
                return st
        return last

    def _claim_fast(self, arg) -> ModuleRun | None:
        """The run a fast-loop wake-up is for, taken out of the fast list; None if the plan is stale."""
        run, token, _ = arg
        if run.token != token:
            return None
        self.fast.remove(run)
        reads = run.state.fast.reads
        if reads:
            self._unwatch(reads)
        run.token += 1
        return run

    def _fast_exit(self, arg, t: int) -> None:
        run = self._claim_fast(arg)
        if run is None:
            return
        state = run.state
        fast = state.fast
        p = self.person
        if arg[2] is not None:
            q, exits = arg[2]
        elif fast.counter is not None:
            q, exits, _ = fast.counter_outcomes(state, p, t, p.attrs.get(fast.counter))
        else:
            q, exits = fast.outcomes(state, p, t)
        if q >= 1.0 or not exits:  # nothing leads out any more: plan again
            self._fast_plan(run, state, t, False)
            return
        nxt = self._pick_exit(exits, q)
        if fast.counter is not None:
            nxt, p.attrs[fast.counter] = nxt
            p.dirty.add(fast.counter)
        self._continue(run, nxt, t)

    def _fast_eval(self, arg, t: int) -> None:
        run = self._claim_fast(arg)
        if run is None:
            return
        nxt = self._fast_plan(run, run.state, t, True)
        if nxt is not _WAITING:
            self._continue(run, nxt, t)

    def _continue(self, run: ModuleRun, nxt, t: int) -> None:
        if nxt is None:
            run.stack.clear()
            return
        run.state = nxt
        if nxt.tracked:
            self.person.prior[nxt.key] = t
        self.advance(run, t)

    def _watch(self, keys) -> None:
        w = self.watched
        for k in keys:
            w[k] = w.get(k, 0) + 1

    def _unwatch(self, keys) -> None:
        w = self.watched
        for k in keys:
            n = w[k] - 1
            if n:
                w[k] = n
            else:
                del w[k]

    def _changed(self, t: int) -> None:
        """Something about the person changed at ``t``: open the Guards and re-plan the fast loops that read it.

        Each opening may change more, so this repeats until nothing new has changed.
        """
        p = self.person
        for _ in range(MAX_STEPS_PER_INSTANT):
            dirty = p.dirty
            if not dirty or not p.alive:
                return
            p.dirty = set()
            if self.watched.keys().isdisjoint(dirty):
                continue  # nothing waiting reads what changed
            if self.guards:
                opened = [r for r in self.guards if not r.state.reads.isdisjoint(dirty) and r.state.test(p, t)]
                if opened:
                    self._open(opened, t)
            if self.fast:
                for run in [r for r in self.fast if not r.state.fast.reads.isdisjoint(dirty)]:
                    self.fast.remove(run)
                    self._unwatch(run.state.fast.reads)
                    d = run.state.fast.period
                    g = run.anchor + ((t - run.anchor) // d + 1) * d
                    self._fast_plan(run, run.state, g, False)
        raise SimulationError(f"person {p.subject_id}: changes kept opening Guards at one instant; check for a loop")

    def _schedule_guard_tick(self, run: ModuleRun, t: int) -> None:
        cond = run.state.allow
        nt = cond.next_change(self.person, t)
        if cond.drifts and (nt is None or nt > t + DRIFT_RECHECK_MS):
            nt = t + DRIFT_RECHECK_MS
        if nt is not None and nt <= self.end:
            self.schedule(nt, self._guard_tick, (run, run.token))

    def _guard_tick(self, arg, t: int) -> None:
        run, token = arg
        if run.token != token:
            return
        if run.state.test(self.person, t):
            self._open([run], t)
        else:
            self._schedule_guard_tick(run, t)

    def check_guards(self, t: int) -> None:
        """Test every waiting Guard once (at birth, after every module has started)."""
        p = self.person
        self._open([r for r in self.guards if r.state.test(p, t)], t)

    def _open(self, opened: list[ModuleRun], t: int) -> None:
        """Take the Guards whose condition now holds off the waiting list, then move each on."""
        for r in opened:
            self.guards.remove(r)
            self._unwatch(r.state.reads)
            r.token += 1
        for r in opened:
            if self.person.alive:
                self.advance(r, t)

    def wellness_visit(self, encounter: list, t: int) -> None:
        """Run every module waiting for a wellness encounter inside ``encounter``."""
        p = self.person
        p.wellness = encounter
        waiting, self.waiting_wellness = self.waiting_wellness, []
        for r in waiting:
            if not p.alive:
                break
            self.advance(r, t)
        p.wellness = None

    # -- the end -------------------------------------------------------------
    def _finish(self) -> None:
        """Clamp open-ended facts to death (or the simulation's end)."""
        p = self.person
        stop = p.death_time if p.death_time is not None else self.end
        for row in p.rows:
            e = row[END]
            if e is not None and e > stop:
                row[END] = stop
        if p.death_time is not None:
            for table in (p.medications, p.careplans, p.devices):
                for row in table.values():
                    row[END] = p.death_time
                table.clear()
