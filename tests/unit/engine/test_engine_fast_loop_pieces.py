"""An exposure loop (a Delay coming back to itself through a lookup table keyed by date and age ranges)
is fast-forwarded piece by piece; the exits must follow the law of deciding every loop."""

from __future__ import annotations

import csv
import random

import pytest
from engine_testkit import BIRTH, DAY, FIXTURES, YEAR, ks_statistic, load, ms, rows, run

from hygeia.population.engine import Person
from hygeia.population.engine._tables import LookupTable

N_SEEDS = 400
END = "2005-01-01"
PERIOD = 4 * DAY
TABLE = FIXTURES / "lookup_tables" / "exposure_by_date_age.csv"
OUTCOMES = ["Wait", "Exposed", "Gone"]
DEFAULT = (0.995, 0.005, 0.0)
ONSET, GONE = "38341003", "73211009"
CENSORED = (ms(END) - BIRTH) // DAY + 1


def _exits(fixture: str, n: int = N_SEEDS) -> list[tuple[str, int]]:
    """(how, day) of each person's exit from the loop, for seeds 0..n-1 ("censored" when still waiting at END)."""
    modules = load(fixture)
    out = []
    for seed in range(n):
        found = rows(run(modules, seed=seed, end=END), "condition")
        if not found:
            out.append(("censored", CENSORED))
            continue
        elapsed = found[0].time - BIRTH
        assert elapsed % PERIOD == 0, "an exit must fall on the Delay's own 4-day grid"
        out.append(("onset" if found[0].code == ONSET else "gone", elapsed // DAY))
    return out


def _table_rows() -> list[tuple[tuple[int, int], tuple[int, int], tuple[float, ...]]]:
    with open(TABLE, newline="") as fh:
        out = []
        for r in csv.DictReader(fh):
            t_lo, t_hi = (int(x) for x in r["time"].split("-"))
            a_lo, a_hi = (int(x) for x in r["age"].split("-"))
            out.append(((t_lo, t_hi), (a_lo, a_hi), tuple(float(r[o]) for o in OUTCOMES)))
        return out


def _brute_force_exits(n: int, seed: int = 20240602) -> list[tuple[str, int]]:
    """The model decided every 4 days, straight from the CSV (first matching row, else the defaults)."""
    table = _table_rows()
    rng = random.Random(seed)
    end = ms(END)
    out = []
    for _ in range(n):
        t, how = BIRTH + PERIOD, "censored"
        while t <= end:
            age = (t - BIRTH) // YEAR
            probs = next((p for (tl, th), (al, ah), p in table if tl <= t <= th and al <= age <= ah), DEFAULT)
            r = rng.random() * sum(probs)
            if r >= probs[0] + probs[1]:
                how = "gone"
            elif r >= probs[0] and rng.random() < 0.5:
                how = "onset"
            if how != "censored":
                break
            t += PERIOD
        out.append((how, (t - BIRTH) // DAY if how != "censored" else CENSORED))
    return out


def _assert_same_law(x: list[tuple[str, int]], y: list[tuple[str, int]]) -> None:
    """Exit days (KS, alpha = 0.001) and the share of each way out (4 standard errors) agree."""
    assert ks_statistic([d for _, d in x], [d for _, d in y]) < 1.95 * (1 / len(x) + 1 / len(y)) ** 0.5
    for how in ("onset", "gone", "censored"):
        px = sum(h == how for h, _ in x) / len(x)
        py = sum(h == how for h, _ in y) / len(y)
        pooled = (px * len(x) + py * len(y)) / (len(x) + len(y))
        se = (pooled * (1 - pooled) * (1 / len(x) + 1 / len(y))) ** 0.5
        assert abs(px - py) <= 4 * se + 1e-12, how


def test_the_fixture_loop_is_fast_forwarded() -> None:
    (module,) = load("exposure_loop.json").modules
    assert module.states["Wait"].fast is not None
    (stepped,) = load("exposure_loop_stepped.json").modules
    assert stepped.states["Wait"].fast is None


def test_exposure_loop_matches_a_brute_force_monte_carlo() -> None:
    fast = _exits("exposure_loop.json")
    brute = _brute_force_exits(4000)
    _assert_same_law(fast, brute)
    # Every way out happens, including in the one-day date ranges and after the second birthday.
    assert {h for h, _ in fast} == {"onset", "gone", "censored"}
    assert any(30 <= d < 70 for _, d in fast) and any(d > 731 for h, d in fast if h != "censored")


def test_exposure_loop_matches_the_same_model_stepped_every_loop() -> None:
    _assert_same_law(_exits("exposure_loop.json"), _exits("exposure_loop_stepped.json"))


def test_exposure_loop_is_deterministic_by_seed() -> None:
    modules = load("exposure_loop.json")
    for seed in range(20):
        assert run(modules, seed=seed, end=END).rows == run(modules, seed=seed, end=END).rows


def _reference_lookup(table: list, person: Person, t: int):
    age = (t - person.birth) // YEAR
    return next((p for (tl, th), (al, ah), p in table if tl <= t <= th and al <= age <= ah), None)


@pytest.mark.parametrize("birth", ["2000-01-01", "1998-07-15"])
def test_lookup_cells_and_next_change_agree_with_a_plain_scan(birth: str) -> None:
    table = LookupTable(str(TABLE), OUTCOMES, "test", problems := [])
    assert problems == []
    reference = _table_rows()
    person = Person(1, 1, ms(birth), "F", "white", "nonhispanic")

    def probs(t: int):
        cum = table.lookup(person, t)
        return None if cum is None else tuple(round(b - a, 9) for a, b in zip([0.0, *cum], cum))

    t = BIRTH - 10 * DAY
    while t < BIRTH + 1600 * DAY:
        expect = _reference_lookup(reference, person, t)
        assert probs(t) == (None if expect is None else tuple(round(p, 9) for p in expect))
        nxt = table.next_change(person, t)
        if nxt is None:  # after the last range: the defaults for good
            assert t >= BIRTH + 1500 * DAY and probs(t + 50 * YEAR) is None
            break
        assert nxt > t and probs(nxt - 1) == probs(t) and probs((t + nxt) // 2) == probs(t)
        t = nxt if nxt - t > 7 * 3_600_000 else t + 7 * 3_600_000
