"""Births and natural deaths agree with the pack's pyramid and life table (hygeia.population._demography).

The draws are checked without the engine, on many persons: the living on the end
date follow the pyramid, deaths in the final year follow the life table, and both
still hold when a share of the hazard is taken by "module" deaths that strike from
birth, unconditioned, as a module's Death states do.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from hygeia.population._demography import MAX_AGE, NATURAL_FLOOR, Demography, _hazards
from hygeia.population.engine._units import YEAR_MS
from hygeia.population.locale import load_locale

END = 60 * YEAR_MS  # any epoch works: nothing depends on the calendar
N = 120_000


@pytest.fixture(scope="module")
def pack():
    return load_locale("us")


def _pyramid_shares(pack) -> list[float]:
    total = sum(m + f for _, _, m, f in pack.age_bands)
    out = [0.0] * 9
    for lo, _hi, m, f in pack.age_bands:
        out[min(int(lo) // 10, 8)] += (m + f) / total
    return out


def _population(demo: Demography, n: int, seed: int, module_share=None):
    """(age on end, sex, death age or None) for n persons; module deaths drawn from birth if a share is given."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        age, sex = demo.sample_age_sex(rng)
        birth = END - int(age * YEAR_MS)
        death = demo.sample_death(rng, birth, sex, age)
        death_age = None if death is None else (death - birth) / YEAR_MS
        if module_share is not None:  # an independent cause with hazard f x mu_lt, from birth
            mu = demo.mu_lt[sex]
            need, x = -math.log(1.0 - rng.random()), 0.0
            while x < age:
                k = int(x)
                rate = mu[k] * module_share[sex][min(k, len(module_share[sex]) - 1)]
                if rate * (k + 1 - x) >= need:
                    x += need / rate
                    break
                need -= rate * (k + 1 - x)
                x = k + 1.0
            if x < age and (death_age is None or x < death_age):
                death_age = x
        out.append((age, sex, death_age))
    return out


def _check(pack, demo: Demography, people) -> None:
    alive = [a for a, _, d in people if d is None]
    shares = np.bincount(np.minimum(np.asarray(alive, dtype=int) // 10, 8), minlength=9) / len(alive)
    for band, (sim, target) in enumerate(zip(shares, _pyramid_shares(pack))):
        assert abs(sim / target - 1) < 0.05, f"band {band * 10}: {sim:.4f} alive vs pyramid {target:.4f}"
    # deaths in the final year against the life table's expectation for the person-time lived in it
    observed = np.zeros(3)
    expected = np.zeros(3)
    bands = (0, 65, 85)
    for age, sex, death_age in people:
        start, stop = age - 1.0, (age if death_age is None else death_age)
        if stop <= max(start, 0.0):
            continue
        x = max(start, 0.0)
        while x < stop:
            k = int(x)
            nxt = min(k + 1.0, stop)
            expected[sum(k >= b for b in bands) - 1] += (nxt - x) * demo.mu_lt[sex][k]
            x = nxt
        if death_age is not None and death_age >= start:
            observed[sum(death_age >= b for b in bands) - 1] += 1
    for band, (o, e) in enumerate(zip(observed, expected)):
        assert abs(o / e - 1) < 0.12, f"deaths at {bands[band]}+: {o:.0f} observed, {e:.1f} expected"


def test_the_living_follow_the_pyramid_and_final_year_deaths_the_life_table(pack) -> None:
    demo = Demography(pack, END, window_years=10.0)
    _check(pack, demo, _population(demo, N, seed=1))


def test_module_deaths_replace_part_of_the_hazard_instead_of_adding_to_it(pack) -> None:
    share = {sex: [0.0] * 40 + [0.5] * 40 + [0.3] * 40 for sex in ("M", "F")}
    demo = Demography(pack, END, window_years=10.0, module_share=share)
    for sex in ("M", "F"):
        assert demo.mu_nat[sex][50] == pytest.approx(0.5 * demo.mu_lt[sex][50])
        assert demo.mu_nat[sex][10] == pytest.approx(demo.mu_lt[sex][10])
    _check(pack, demo, _population(demo, N, seed=2, module_share=share))


def test_the_natural_hazard_keeps_a_floor_when_modules_would_take_it_all(pack) -> None:
    demo = Demography(pack, END, module_share={"M": [1.5] * 120, "F": [1.0] * 120})
    assert demo.mu_nat["M"][70] == pytest.approx(NATURAL_FLOOR * demo.mu_lt["M"][70])
    assert demo.mu_nat["F"][70] == pytest.approx(NATURAL_FLOOR * demo.mu_lt["F"][70])


def test_natural_deaths_fall_in_the_window_and_never_after_the_end(pack) -> None:
    demo = Demography(pack, END, window_years=5.0)
    rng = random.Random(3)
    deaths = 0
    for _ in range(20_000):
        age, sex = demo.sample_age_sex(rng)
        birth = END - int(age * YEAR_MS)
        death = demo.sample_death(rng, birth, sex, age)
        assert 0.0 <= age < MAX_AGE
        if death is not None:
            deaths += 1
            assert birth <= death <= END
            assert death >= END - 5 * YEAR_MS - YEAR_MS // 1000 or age < 5
    assert 0.02 < deaths / 20_000 < 0.08  # about five years of a crude death rate near 0.9%


def test_draws_depend_only_on_the_random_generator(pack) -> None:
    demo = Demography(pack, END)
    a = [demo.sample_age_sex(random.Random(9)) for _ in range(3)]
    b = [demo.sample_age_sex(random.Random(9)) for _ in range(3)]
    assert a == b


def test_the_open_last_age_of_the_life_table_keeps_the_hazard_before_it(pack) -> None:
    mu = _hazards(pack.life_table_qx("F"))
    assert pack.life_table_qx("F")[-1] == 1.0
    assert mu[100] == mu[99] == pytest.approx(-math.log(1 - pack.life_table_qx("F")[99]))
    assert len(mu) > MAX_AGE
