"""The Death state: immediate and delayed, its cause, and what stops after it."""

from __future__ import annotations

from engine_testkit import BIRTH, DELAY_MONTH, YEAR, delay_years, load, marks, ms, one, rows, run

DM, METFORMIN, HTN = "44054006", "860975", "38341003"


def test_immediate_death_records_the_cause_and_stops_everything() -> None:
    p = run("state_death.json", wellness_every_years=1)
    death_time = BIRTH + delay_years(5)  # 1,826 days
    assert not p.alive and p.death_time == death_time
    death = one(p, "death")
    assert (death.time, death.code_system, death.code, death.display) == (
        death_time, "SNOMED-CT", DM, "Diabetes mellitus type 2")  # the cause: the referenced condition
    assert (death.module, death.state, death.encounter_id) == ("state_death", "Die", None)
    assert [r.time for r in rows(p, "encounter")] == [BIRTH + YEAR // 2 + k * YEAR for k in range(5)]
    assert all(r.time <= death_time for r in rows(p))
    assert all(r.end_time is None or r.end_time <= death_time for r in rows(p))


def test_immediate_death_ends_open_medications() -> None:
    p = run("state_death.json")
    assert one(p, "medication", code=METFORMIN).end_time == p.death_time
    assert p.medications == {}


def test_delayed_death_comes_within_its_range_and_the_module_goes_on_until_then() -> None:
    modules = load("state_death_delayed.json")
    times = set()
    for seed in range(30):
        p = run(modules, seed=seed)
        assert not p.alive
        assert BIRTH + delay_years(1) <= p.death_time <= BIRTH + delay_years(2)
        times.add(p.death_time)
        death = one(p, "death")
        assert (death.time, death.code, death.module, death.state) == (p.death_time, HTN, "state_death_delayed", "Die")
        ticks = marks(p)["tick"]
        assert ticks == [BIRTH + k * DELAY_MONTH for k in range(1, len(ticks) + 1)]
        assert ticks[-1] < p.death_time <= ticks[-1] + DELAY_MONTH
        assert rows(p)[-1].kind == "death"
    assert len(times) == 30


def test_an_earlier_natural_death_wins_over_a_later_module_death() -> None:
    p = run("state_death_delayed.json", death="2000-06-01")
    death = one(p, "death")
    assert (death.time, death.code, death.module, death.state) == (ms("2000-06-01"), "419620001", "lifecycle", "Death")
    assert p.death_time == ms("2000-06-01")
    assert len(marks(p)["tick"]) == 5  # 30-day months 1-5 end by day 150, before June 1st 2000 (day 152)


def test_a_delayed_death_after_the_end_of_the_simulation_does_not_happen() -> None:
    p = run("state_death_delayed.json", end=BIRTH + delay_years(1) - 1)
    assert p.alive and p.death_time is None and rows(p, "death") == []
