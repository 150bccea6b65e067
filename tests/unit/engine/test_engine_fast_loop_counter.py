"""A self-looping Delay whose loop keeps a counter (a quarterly loop that does something every fourth
quarter) is fast-forwarded following the counter; exits, their times and the counter on leaving
must follow the law of deciding every quarter."""

from __future__ import annotations

import json
import random

from engine_testkit import BIRTH, DAY, YEAR, ks_statistic, load, ms, rows, run

from hygeia.population.engine import load_modules

N_SEEDS = 400
END = "2040-01-01"
QUARTER = 90 * DAY  # 3 months of a Delay: 30-day months (Synthea's Utilities.convertTime)
YEARLY, QUARTERLY = "6142004", "54150009"
CENSORED = (ms(END) - BIRTH) // QUARTER + 1


def _exits(*fixtures: str, n: int = N_SEEDS) -> list[tuple[str, int, float | None]]:
    """(which onset, quarters from birth, counter recorded) for seeds 0..n-1."""
    modules = load(*fixtures)
    out = []
    for seed in range(n):
        p = run(modules, seed=seed, end=END)
        found = rows(p, "condition")
        if not found:
            out.append(("censored", CENSORED, None))
            continue
        elapsed = found[0].time - BIRTH
        assert elapsed % QUARTER == 0, "an exit must fall on the Delay's own grid"
        (count,) = rows(p, "observation", code="quarter_count")
        out.append(("yearly" if found[0].code == YEARLY else "quarterly", elapsed // QUARTER, count.numeric_value))
    return out


def _brute_force(n: int, seed: int = 20261206) -> list[tuple[str, int, float | None]]:
    """counter_loop decided every quarter, straight from its description."""
    rng = random.Random(seed)
    end = ms(END)
    out = []
    for _ in range(n):
        t, count, k, found = BIRTH, 0, 0, None
        while found is None:
            t += QUARTER
            k += 1
            if t > end:
                found = ("censored", CENSORED, None)
                break
            count += 1
            if count >= 4:
                count = 0
                if rng.random() < 0.05:
                    found = ("yearly", k, float(count))
                    break
            if rng.random() < (0.03 if t - BIRTH < 5 * YEAR else 0.01):
                found = ("quarterly", k, float(count))
        out.append(found)
    return out


def _assert_same_law(x: list, y: list) -> None:
    """Exit quarters (KS, alpha = 0.001) and the share of each way out (4 standard errors) agree."""
    assert ks_statistic([k for _, k, _ in x], [k for _, k, _ in y]) < 1.95 * (1 / len(x) + 1 / len(y)) ** 0.5
    for how in ("yearly", "quarterly", "censored"):
        px = sum(h == how for h, _, _ in x) / len(x)
        py = sum(h == how for h, _, _ in y) / len(y)
        pooled = (px * len(x) + py * len(y)) / (len(x) + len(y))
        se = (pooled * (1 - pooled) * (1 / len(x) + 1 / len(y))) ** 0.5
        assert abs(px - py) <= 4 * se + 1e-12, how


def test_the_counter_loop_is_fast_forwarded_unless_another_module_names_the_counter() -> None:
    (module,) = load("counter_loop.json").modules
    fast = module.states["Quarter"].fast
    assert fast is not None and fast.counter == "quarter_count"
    assert {s.name for s in fast.steps} == {"Count", "New_Year"}
    stepped = {m.key: m for m in load("counter_loop.json", "reads_counter.json").modules}
    assert stepped["counter_loop"].states["Quarter"].fast is None
    (tally,) = load("slow_loop.json").modules  # a counter the loop's choices do not read
    assert tally.states["Monthly"].fast is None


def test_the_counter_on_leaving_is_the_stepped_loops() -> None:
    for how, k, count in _exits("counter_loop.json", n=200):
        if how != "censored":
            assert count == (0.0 if how == "yearly" else float(k % 4)), (how, k, count)


def test_counter_loop_matches_a_brute_force_monte_carlo() -> None:
    fast = _exits("counter_loop.json")
    brute = _brute_force(4000)
    _assert_same_law(fast, brute)
    assert {"yearly", "quarterly"} <= {h for h, _, _ in fast} and any(k > 20 for _, k, _ in fast)


def test_counter_loop_matches_the_same_model_stepped_every_quarter() -> None:
    _assert_same_law(_exits("counter_loop.json"), _exits("counter_loop.json", "reads_counter.json"))


def test_counter_loop_is_deterministic_by_seed() -> None:
    modules = load("counter_loop.json")
    for seed in range(20):
        assert run(modules, seed=seed, end=END).rows == run(modules, seed=seed, end=END).rows


def _bmi_loop(days: int) -> dict:
    return {"name": "bmi_loop", "states": {
        "Initial": {"type": "Initial", "direct_transition": "Wait"},
        "Wait": {"type": "Delay", "exact": {"quantity": days, "unit": "days"}, "direct_transition": "Risk"},
        "Risk": {"type": "Simple", "complex_transition": [
            {"condition": {"condition_type": "Vital Sign", "vital_sign": "BMI", "operator": ">=", "value": 30},
             "distributions": [{"distribution": 0.1, "transition": "Terminal"}, {"distribution": 0.9, "transition": "Wait"}]},
            {"distributions": [{"distribution": 0.01, "transition": "Terminal"}, {"distribution": 0.99, "transition": "Wait"}]}]},
        "Terminal": {"type": "Terminal"}}}


def test_a_loop_reading_a_drifting_vital_sign_is_stepped_when_it_loops_no_faster_than_the_recheck(tmp_path) -> None:
    for days, fast in ((7, True), (28, False), (365, False)):
        path = tmp_path / f"bmi_loop_{days}.json"
        path.write_text(json.dumps(_bmi_loop(days)))
        (module,) = load_modules([path]).modules
        assert (module.states["Wait"].fast is not None) is fast, days
