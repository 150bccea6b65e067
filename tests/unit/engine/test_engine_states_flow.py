"""State types that steer a module: Initial, Terminal, Simple, Guard, Delay, SetAttribute,
Counter, CallSubmodule, Physiology."""

from __future__ import annotations

import math
import statistics

import pytest
from engine_testkit import BIRTH, DAY, DELAY_MONTH, FIELDS, YEAR, delay_years, load, marks, one, rows, run

HTN = "38341003"


def test_row_layout_is_the_documented_one() -> None:
    from hygeia.population.engine._person import ROW_FIELDS

    assert ROW_FIELDS == FIELDS


def test_initial_runs_at_birth() -> None:
    p = run("state_initial.json")
    row = one(p, "condition")
    assert (row.time, row.code, row.module, row.state) == (BIRTH, HTN, "state_initial", "At_Birth")
    assert row.end_time is None and row.encounter_id is None
    assert p.conditions[HTN][:12] == list(row)  # then the row key (engine._person.KEY)


def test_terminal_ends_the_module() -> None:
    p = run("state_terminal.json")
    assert marks(p) == {"Before": [BIRTH]}
    assert len(p.rows) == 1
    assert p.alive


def test_simple_moves_on_at_once_and_records_nothing() -> None:
    p = run("state_simple.json")
    assert [(r.kind, r.time, r.state) for r in rows(p)] == [("condition", BIRTH, "After")]


def test_guard_opens_exactly_at_the_age_threshold() -> None:
    p = run("state_guard.json")
    row = one(p, "condition")
    assert row.time == BIRTH + 18 * YEAR
    assert (row.module, row.state) == ("state_guard", "Adult_Onset")


def test_guard_blocks_until_its_condition_holds() -> None:
    p = run("state_guard.json", end=BIRTH + 18 * YEAR - 1)
    assert p.rows == [] and p.conditions == {}


def test_guards_open_when_another_module_changes_what_they_read() -> None:
    p = run("guard_cross_module")
    m = marks(p)
    assert m["attribute_guard_opened"] == [BIRTH + delay_years(3)]  # setter's Delays: 3, then 2 years
    assert m["condition_guard_opened"] == [BIRTH + delay_years(3) + delay_years(2)]
    assert one(p, "observation", code="attribute_guard_opened").module == "waiter_attribute"
    assert one(p, "condition").module == "setter"


def test_delay_exact_range_and_exact_distribution_in_each_unit() -> None:
    m = {k: v[0] for k, v in marks(run("state_delay.json")).items()}
    assert m["after_days"] == BIRTH + 3 * DAY
    assert m["after_years"] == m["after_days"] + delay_years(2)  # 730 days
    assert m["after_months"] == m["after_years"] + 5 * DELAY_MONTH  # 150 days
    assert 10 * DAY <= m["after_range"] - m["after_months"] <= 20 * DAY
    assert m["after_exact_distribution"] == m["after_range"] + 7 * DAY


def test_delay_range_varies_between_people() -> None:
    gaps = set()
    for seed in range(20):
        m = {k: v[0] for k, v in marks(run("state_delay.json", seed=seed)).items()}
        gap = m["after_range"] - m["after_months"]
        assert 10 * DAY <= gap <= 20 * DAY
        gaps.add(gap)
    assert len(gaps) == 20


def _gaps_in_days(name: str) -> list[float]:
    ticks = marks(run(name, end="2060-01-01"))["tick"]
    return [(b - a) / DAY for a, b in zip([BIRTH] + ticks, ticks)]


# A Delay's distribution is drawn, then cut to a whole number of its unit (State.Delay.endOfDelay:
# ``convertTime(unit, (long) distribution.generate(person))``): whole days here, on average half a
# day less than the distribution's mean.


def test_delay_uniform_distribution() -> None:
    gaps = _gaps_in_days("state_delay_uniform.json")
    assert len(gaps) > 1000
    assert all(g == int(g) for g in gaps)
    assert min(gaps) >= 5 and max(gaps) <= 14  # floor of U(5, 15): 5, 6, ..., 14
    assert statistics.fmean(gaps) == pytest.approx(9.5, abs=0.25)  # sd 2.9 / sqrt(1000): 4 sigma
    assert statistics.pstdev(gaps) == pytest.approx((99 / 12) ** 0.5, rel=0.1)


def test_delay_gaussian_distribution() -> None:
    gaps = _gaps_in_days("state_delay_gaussian.json")
    assert len(gaps) > 1000
    assert all(g == int(g) for g in gaps)
    assert statistics.fmean(gaps) == pytest.approx(9.5, abs=0.25)  # sd 2 / sqrt(1000): 4 sigma
    assert statistics.pstdev(gaps) == pytest.approx((4 + 1 / 12) ** 0.5, rel=0.1)


def test_delay_exponential_distribution() -> None:
    gaps = _gaps_in_days("state_delay_exponential.json")
    assert len(gaps) > 1000
    assert min(gaps) >= 0 and all(g == int(g) for g in gaps)
    mean = math.exp(-0.1) / (1 - math.exp(-0.1))  # E[floor(X)], X exponential of mean 10: 9.51
    assert statistics.fmean(gaps) == pytest.approx(mean, rel=0.12)  # sd 10 / sqrt(1000): 4 sigma
    assert sum(g > 10 for g in gaps) / len(gaps) == pytest.approx(math.exp(-1.1), abs=0.06)  # X >= 11


def test_set_attribute() -> None:
    p = run("state_set_attribute.json", attributes={"to_clear": 1})
    a = p.attrs
    assert a["flavor"] == "mint"
    assert a["diagnosis"] == ("SNOMED-CT", "44054006", "Diabetes mellitus type 2")
    assert 1 <= a["ranged"] <= 2
    assert a["dose"] == 4.5
    assert 1 <= a["rounded"] <= 10 and a["rounded"] == int(a["rounded"])
    assert a["flavor_copy"] == "mint"
    assert "to_clear" in a and a["to_clear"] is None
    assert p.rows == []


def test_counter() -> None:
    p = run("state_counter.json", attributes={"preset": 10})
    assert p.attrs["visits"] == 1 + 5 - 1 - 2
    assert p.attrs["preset"] == 11


def test_call_submodule_resumes_the_caller_after_the_submodule_terminal() -> None:
    modules = load("call_submodule")
    assert [m.key for m in modules.modules] == ["caller"]
    assert list(modules.submodules) == ["sub/child"]
    p = run(modules)
    got = [(r.time, r.kind, r.module, r.state) for r in rows(p)]
    assert got == [
        (BIRTH, "observation", "caller", "Before_Call"),
        (BIRTH + 2 * DAY, "observation", "sub/child", "Child_Observation"),
        (BIRTH + 2 * DAY, "condition", "caller", "After_Call"),
    ]


def test_physiology_follows_alt_direct_transition() -> None:
    p = run("state_physiology.json")
    row = one(p, "observation")
    assert (row.time, row.code, row.state) == (BIRTH, "after_physiology", "After_Physiology")
