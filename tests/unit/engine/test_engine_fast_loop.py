"""A Delay that loops back to itself is fast-forwarded (one geometric draw instead of a wake-up
every period); the onset times must be those of stepping every period."""

from __future__ import annotations

import random
import statistics

import pytest
from engine_testkit import BIRTH, DELAY_MONTH, YEAR, ks_statistic, load, marks, ms, one, rows, run

N_SEEDS = 400
END = "2100-01-01"  # a person still waiting then is censored (CENSORED)
#: The last loop (of the Delay's 30-day months, Synthea's ``Utilities.convertTime``) before END.
LAST = (ms(END) - BIRTH) // DELAY_MONTH
CENSORED = LAST + 1
HTN = "38341003"


def _onset_months(fixture: str, n: int = N_SEEDS) -> list[int | None]:
    """Months from birth to the onset, for seeds 0..n-1 (None: no onset by END)."""
    modules = load(fixture)
    out = []
    for seed in range(n):
        found = rows(run(modules, seed=seed, end=END), "condition", code=HTN)
        if not found:
            out.append(None)
            continue
        elapsed = found[0].time - BIRTH
        assert elapsed % DELAY_MONTH == 0, "a fast-forwarded exit must fall on the Delay's own grid"
        out.append(elapsed // DELAY_MONTH)
    return out


def test_mean_onset_matches_the_geometric_expectation() -> None:
    months = _onset_months("fast_loop.json")
    assert None not in months and min(months) >= 1
    p, q = 0.02, 0.98
    mean, sd = 1 / p, q**0.5 / p  # months until the first exit, counting the first Delay
    assert statistics.fmean(months) == pytest.approx(mean, abs=4 * sd / N_SEEDS**0.5)
    share_first_year = sum(m <= 12 for m in months) / N_SEEDS
    p12 = 1 - q**12
    assert share_first_year == pytest.approx(p12, abs=4 * (p12 * (1 - p12) / N_SEEDS) ** 0.5)


def test_the_stepped_model_steps_every_month() -> None:
    for seed in range(5):
        p = run(load("slow_loop.json"), seed=seed, end=END)
        assert p.attrs["months"] == (one(p, "condition").time - BIRTH) // DELAY_MONTH


@pytest.mark.parametrize("fixture", ["fast_loop.json", "fast_loop_via_simple.json"])
def test_fast_loop_matches_the_same_model_stepped_every_month(fixture: str) -> None:
    fast = _onset_months(fixture)
    slow = _onset_months("slow_loop.json")  # a Counter in the loop: the engine wakes every month
    assert ks_statistic(fast, slow) < 1.95 * (2 / N_SEEDS) ** 0.5  # KS critical value, alpha = 0.001


def _brute_force_onset_months(n: int, seed: int = 20240601) -> list[int | None]:
    """fast_loop_age stepped every 30-day month: risk 0.015 while younger than 10 (in years of
    age, calendar averages), then 0.005."""
    rng = random.Random(seed)
    out: list[int | None] = []
    for _ in range(n):
        month, onset = 1, None
        while month <= LAST:
            risk = 0.015 if month * DELAY_MONTH < 10 * YEAR else 0.005
            if rng.random() < risk:
                onset = month
                break
            month += 1
        out.append(onset)
    return out


def test_age_limited_risk_matches_a_brute_force_monte_carlo() -> None:
    engine = [CENSORED if m is None else m for m in _onset_months("fast_loop_age.json")]
    brute = [CENSORED if m is None else m for m in _brute_force_onset_months(10_000)]
    assert ks_statistic(engine, brute) < 1.95 * (1 / N_SEEDS + 1 / len(brute)) ** 0.5  # alpha = 0.001
    # The share falling ill before 10 (months 1-121: 121 * 30 days < 10 * 365.2425 days):
    # 1 - 0.985 ** 121 in theory.
    p_child = 1 - 0.985**121
    se = (p_child * (1 - p_child) / N_SEEDS) ** 0.5
    assert sum(m <= 121 for m in engine) / N_SEEDS == pytest.approx(p_child, abs=4 * se)
    assert sum(m <= 121 for m in brute) / len(brute) == pytest.approx(p_child, abs=0.02)
    # After 10 the monthly risk is 0.005: the adult onsets are geometric from month 122.


def test_fast_loop_replans_when_an_attribute_it_reads_changes() -> None:
    # risk is unset (0) until trigger.json sets it to 1 at 1827 days (5 years and ~1 day);
    # the next decision of the 30-day loop, month 61 (day 1,830), then takes the onset.
    for seed in range(5):
        p = run(load("fast_loop_attribute"), seed=seed)
        assert one(p, "condition").time == BIRTH + 61 * DELAY_MONTH
        assert one(p, "condition").module == "loop"


def test_fast_loop_that_can_never_leave_waits_quietly() -> None:
    p = run(load("fast_loop_attribute/loop.json"), end=END)
    assert p.rows == [] and p.alive


def test_prior_state_within_a_fast_loop_sees_its_last_loop() -> None:
    modules = load("fast_loop_prior_state.json")
    outcomes = [sorted(marks(run(modules, seed=seed))) for seed in range(100)]
    assert outcomes == [["left", "recent"]] * 100
