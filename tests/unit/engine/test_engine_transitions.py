"""Transition types: direct, distributed, conditional, complex, lookup table."""

from __future__ import annotations

from collections import Counter

import pytest
from engine_testkit import BIRTH, YEAR, load, marks, run

N = 2000


def _outcomes(fixture: str, n: int = N, **kw) -> Counter:
    """How often each marker was recorded over ``n`` people (seeds 0..n-1)."""
    modules = load(fixture)
    counts: Counter = Counter()
    for seed in range(n):
        counts.update(marks(run(modules, seed=seed, **kw)).keys())
    return counts


def _sigma4(p: float, n: int = N) -> float:
    return 4 * (p * (1 - p) / n) ** 0.5


def test_direct() -> None:
    assert marks(run("transition_direct.json")) == {"next": [BIRTH]}


def test_distributed_static_probabilities() -> None:
    c = _outcomes("transition_distributed.json")
    assert c["heads"] + c["tails"] == N
    assert c["heads"] / N == pytest.approx(0.3, abs=_sigma4(0.3))
    # 0.2 / 0.3 leaves 0.5 unassigned: it goes to the last option, as in Synthea.
    assert c["first_option"] + c["last_option"] == N
    assert c["first_option"] / N == pytest.approx(0.2, abs=_sigma4(0.2))


@pytest.mark.parametrize(("attributes", "p_sick"), [({"risk": 0.8}, 0.8), ({}, 0.1), ({"risk": "high"}, 0.1)],
                         ids=["from-attribute", "default", "non-numeric-attribute"])
def test_distributed_probability_from_an_attribute(attributes: dict, p_sick: float) -> None:
    c = _outcomes("transition_distributed_attribute.json", attributes=attributes)
    assert c["sick"] + c["well"] == N
    assert c["sick"] / N == pytest.approx(p_sick, abs=_sigma4(p_sick))


@pytest.mark.parametrize(("sex", "attributes", "taken"), [
    ("F", {"vip": True}, "by_gender"),  # the first option that holds wins
    ("M", {"vip": True}, "by_attribute"),
    ("M", {}, "fallback"),  # an option without a condition always holds
])
def test_conditional_takes_the_first_option_that_holds(sex: str, attributes: dict, taken: str) -> None:
    p = run("transition_conditional.json", sex=sex, attributes=attributes)
    # ...and when no option holds (No_Match: one option, condition False), its last option is
    # followed anyway, as Synthea's Transition.ConditionalTransition.follow does.
    assert marks(p) == {taken: [BIRTH], "last_option": [BIRTH]}


def test_complex_distributions_under_a_condition() -> None:
    c = _outcomes("transition_complex.json", sex="F")
    assert c["option_a"] + c["option_b"] == N
    assert c["option_a"] / N == pytest.approx(0.25, abs=_sigma4(0.25))


def test_complex_without_a_matching_condition_follows_its_last_option() -> None:
    """No_Match: both conditions fail; Synthea's ``Transition.ComplexTransition.follow`` then
    follows the last option (here its 0.4/0.6 distribution), whatever that option's condition."""
    c = _outcomes("transition_complex.json", sex="F")
    assert "not_taken" not in c
    assert c["last_a"] + c["last_b"] == N
    assert c["last_a"] / N == pytest.approx(0.4, abs=_sigma4(0.4))


def _first_choice(c: Counter) -> Counter:
    return Counter({k: v for k, v in c.items() if k not in ("last_a", "last_b")})


def test_complex_named_transition_wins_over_empty_distributions() -> None:
    c = _outcomes("transition_complex.json", n=200, sex="M", attributes={"force": True})
    assert _first_choice(c) == {"option_c": 200}


def test_complex_option_without_condition_is_the_fallback() -> None:
    c = _outcomes("transition_complex.json", n=200, sex="M")
    assert _first_choice(c) == {"option_d": 200}


@pytest.mark.parametrize(("sex", "at_birth", "at_18"), [("F", "girl", "woman"), ("M", "boy", "unlisted")])
def test_lookup_table_by_age_range_and_gender_with_defaults(sex: str, at_birth: str, at_18: str) -> None:
    p = run("transition_lookup_table.json", sex=sex)
    # Men have no row in age_gender.csv: the default probabilities apply.
    assert marks(p) == {at_birth: [BIRTH], at_18: [BIRTH + 18 * YEAR]}
