"""The engine's faster equivalents give exactly what the plain code gives.

``rounder`` stands in for ``round(x, digits)`` on floats, ``Transition.chooser`` for
``choose`` and ``State.make_plan``/``runner`` for ``process``: each is checked here
against the reference, value by value and draw by draw.
"""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.population.engine import Person, default_modules_dir, load_modules
from hygeia.population.engine._transitions import Distributed
from hygeia.population.engine._units import YEAR_MS, round1, rounder


def _same(a: float, b: float) -> bool:
    """Equal floats, with the sign of a zero (and NaN equal to NaN)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@settings(derandomize=True, max_examples=3000)
@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(0, 6))
def test_rounder_is_round_on_any_float(x, digits):
    assert _same(rounder(digits)(x), round(x, digits))


@settings(derandomize=True, max_examples=2000)
@given(st.integers(-10**9, 10**9), st.integers(0, 4), st.sampled_from([0.0, 1e-12, -1e-12, 5e-7, -5e-7]))
def test_rounder_near_halves_and_exact_decimals(k, digits, nudge):
    """Values at and around k + 1/2 units of the last digit, where the fast path must defer to round."""
    scale = 10.0 ** digits
    for x in ((k + 0.5) / scale + nudge, k / scale + nudge, (k + 0.5) / scale * (1 + nudge)):
        assert _same(rounder(digits)(x), round(x, digits))


def test_rounder_on_vital_sign_sized_values():
    rng = random.Random(3)
    r1 = rounder(1)
    for _ in range(200_000):
        x = rng.choice([rng.uniform(-5, 5), rng.uniform(0, 300), rng.gauss(120, 20), rng.randint(0, 3000) / 20])
        assert _same(r1(x), round(x, 1)), x
    assert _same(round1(-0.04), -0.0) and _same(round1(0.0), 0.0) and _same(round1(-0.0), -0.0)
    assert rounder(-1)(1234.5) == round(1234.5, -1)  # outside 0..6 digits: round itself


def test_distributed_chooser_draws_as_choose():
    modules = load_modules([default_modules_dir()])
    checked = 0
    for m in modules.modules:
        for state in m.states.values():
            tr = state.transition
            if type(tr) is not Distributed or tr.static_cum is None:
                continue
            fast = tr.chooser()
            assert fast is not tr.choose
            a = Person(1, 7, -40 * YEAR_MS, "F", "white", "nonhispanic")
            b = Person(1, 7, -40 * YEAR_MS, "F", "white", "nonhispanic")
            assert [tr.choose(a, 0) for _ in range(200)] == [fast(b, 0) for _ in range(200)]
            checked += 1
    assert checked > 10


def test_every_state_plans_its_own_transition():
    """A plan holds the state's direct target, fast loop and (otherwise) its transition's chooser."""
    modules = load_modules([default_modules_dir()])
    for m in modules.modules:
        for state in m.states.values():
            process, direct, fast, choose = state.make_plan()
            assert state.plan == (process, direct, fast, choose)
            assert (process is None) == state.trivial
            assert direct is state.direct and fast is state.fast
            assert (choose is None) == (direct is not None or fast is not None or state.transition is None)


def test_compiled_date_conditions_match_the_calendar():
    """Year and date conditions compile to comparisons of t with year starts; months still call ``test``."""
    from hygeia.population.engine._codegen import compile_test
    from hygeia.population.engine._logic import Date, _year_start

    dates = [Date({"operator": op, "year": year}, None, "w", []) for op in ("<", "<=", "==", ">=", ">", "!=")
             for year in (1900, 1969, 1970, 2000, 2024)]
    dates += [Date({"operator": op, "date": {"year": 2001, "month": 3, "day": 9}}, None, "w", [])
              for op in ("<", "<=", "==", ">=", ">", "!=")]
    dates += [Date({"operator": op, "month": 6}, None, "w", []) for op in ("<", "==", ">=")]
    times = [_year_start(y) + d for y in (1899, 1900, 1901, 1969, 1970, 1971, 1999, 2000, 2001, 2024, 2025)
             for d in (-1, 0, 1, 86_400_000 * 200)] + [Date({"operator": "==", "date": {"year": 2001, "month": 3,
                                                                                      "day": 9}}, None, "w", []).value + d
                                                       for d in (-1, 0, 1)]
    p = Person(1, 1, 0, "F", "white", "nonhispanic")
    for cond in dates:
        fast = compile_test(cond)
        for t in times:
            assert fast(p, t) == cond.test(p, t), (cond.field, cond.value, t)
