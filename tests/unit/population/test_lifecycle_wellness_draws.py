"""The lifecycle's wellness draws, written without the library calls' overhead, are those calls' draws."""

from __future__ import annotations

import random

from hygeia.population.engine._person import Person
from hygeia.population.lifecycle import _WELLNESS_SALT, Lifecycle, attends_wellness, wellness_attendance


def test_randbelow_is_randint() -> None:
    for lo, hi in ((-3, 3), (-20, 20)):
        a, b = random.Random(7), random.Random(7)
        assert [a.randint(lo, hi) for _ in range(500)] == [lo + b._randbelow(hi - lo + 1) for _ in range(500)]


def test_attends_is_the_probit_model_at_the_attendance_of_the_age() -> None:
    ages = [-1.0, 0.0, 2.99, 3.0, 17.9, 18.0, 44.5, 45.0, 64.99, 65.0, 90.0] + [i * 0.37 for i in range(300)]
    for seed in range(20):
        p, q = Person(1, seed, 0, "F", "white", "nonhispanic"), Person(1, seed, 0, "F", "white", "nonhispanic")
        got = [Lifecycle._attends(p, age) for age in ages]
        Lifecycle._attends(q, 0.0)  # the same stream: its propensity, then one draw per offer
        q.extra["wellness_rng"] = random.Random(seed ^ _WELLNESS_SALT)
        z = q.extra["wellness_rng"].gauss(0.0, 1.0)
        want = [attends_wellness(z, q.extra["wellness_rng"].gauss(0.0, 1.0), wellness_attendance(a)) for a in ages]
        assert got == want


def test_a_pickled_lifecycle_makes_its_row_keys_again() -> None:
    import pickle

    from hygeia.core.config import RunConfig
    from hygeia.population.simulate import _run_context, simulate_person

    config = RunConfig(n=2, seed=3)
    modules, lifecycle = _run_context(config)
    first = simulate_person(config, 1, context=(modules, lifecycle)).rows
    copy = pickle.loads(pickle.dumps(lifecycle))
    assert copy._vaccine_keys is None  # indexes of a process's row-key table are not carried over
    assert simulate_person(config, 1, context=(modules, copy)).rows == first
