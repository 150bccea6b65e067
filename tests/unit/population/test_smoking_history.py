"""Smoking histories (hygeia.population._smoking): the pack's current smoking and quit ratio on
the end date, coherent onset and quit ages, the lifecycle's attributes, and the pack's check."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest

from hygeia.errors import ConfigError, LocaleError
from hygeia.population._smoking import SmokingHistory, draw_history, ever_share
from hygeia.population.lifecycle import Lifecycle
from hygeia.population.locale import LOCALES_DIR, load_locale

YEAR = 31_556_952_000

#: NHIS 2021 (Cornelius et al., MMWR 2023;72(18)): current smoking and quit ratio by age band.
BANDS = [((18, 25), 0.053, 0.503), ((25, 45), 0.126, 0.590), ((45, 65), 0.149, 0.621), ((65, 85), 0.083, 0.819)]


@pytest.fixture(scope="module")
def us():
    return load_locale("us")


def _draw(pack, lo: float, hi: float, sex: str, n: int, seed: int) -> list[tuple[float, SmokingHistory]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        age = rng.uniform(lo, hi)
        out.append((age, draw_history(pack, age, sex, rng.random(), rng)))
    return out


@pytest.mark.parametrize(("band", "current", "quit_ratio"), BANDS)
def test_current_smoking_and_quit_ratio_on_the_end_date_match_the_pack(us, band, current, quit_ratio) -> None:
    draws = [d for sex in "MF" for d in _draw(us, *band, sex, 20_000, seed=band[0])]
    smoking = sum(h.smoking_at(age) for age, h in draws)
    ever = sum(h.ever for _, h in draws)
    former = ever - smoking
    # Equal numbers of each sex: the sex factors (13.1% and 10.1% over 11.5%) average to 1.0087.
    assert smoking / len(draws) == pytest.approx(current * 1.0087, rel=0.06)
    assert former / ever == pytest.approx(quit_ratio, abs=0.02)


def test_men_smoke_more_and_quit_a_little_more(us) -> None:
    stats = {}
    for sex in "MF":
        draws = _draw(us, 18, 85, sex, 30_000, seed=7)
        smoking = sum(h.smoking_at(age) for age, h in draws)
        ever = sum(h.ever for _, h in draws)
        stats[sex] = (smoking / len(draws), (ever - smoking) / ever)
    assert stats["M"][0] > 1.2 * stats["F"][0]
    assert stats["M"][1] > stats["F"][1]


def test_older_cohorts_smoked_more(us) -> None:
    shares = [ever_share(us, age, "M") for age in (20, 35, 55, 75)]
    assert shares == sorted(shares)
    assert ever_share(us, 75, "F") == pytest.approx(0.083 * 0.101 / 0.115 / (1 - 0.819 * 0.654 / 0.665), rel=1e-9)
    assert ever_share(us, 11.9, "F") == 0.0


def test_histories_are_coherent(us) -> None:
    for sex in "MF":
        for age, h in _draw(us, 12, 100, sex, 20_000, seed=11):
            if not h.ever:
                assert h.quit is None and not h.smoking_at(age)
                continue
            assert 12.0 <= h.onset <= age
            assert not h.smoking_at(h.onset - 0.01)
            assert h.smoking_at(h.onset)
            if h.quit is not None:
                assert h.onset < h.quit <= age
                assert h.smoking_at((h.onset + h.quit) / 2) and not h.smoking_at(h.quit)


def test_youth_smokers_are_all_current(us) -> None:
    draws = _draw(us, 12, 18, "F", 40_000, seed=3)
    assert all(h.quit is None for _, h in draws)
    assert sum(h.ever for _, h in draws) / len(draws) == pytest.approx(0.016 * 0.101 / 0.115, rel=0.15)


def test_initiation_truncated_below_an_age(us) -> None:
    rng = random.Random(5)
    ages = [us.sample_smoking_initiation_age(rng, before=15.0) for _ in range(2000)]
    assert all(12.0 <= a < 15.0 for a in ages)
    ages = [us.sample_smoking_initiation_age(rng, before=40.0) for _ in range(4000)]
    assert sum(a < 18 for a in ages) / len(ages) == pytest.approx(0.87, abs=0.03)
    with pytest.raises(ConfigError, match=re.escape("nobody starts smoking before age 11")):
        us.sample_smoking_initiation_age(rng, before=11.0)


class _Sim:
    """The part of the simulation the lifecycle's smoking events use: the person and a schedule."""

    def __init__(self, person) -> None:
        self.person = person
        self.times: list[int] = []

    def schedule(self, t: int, fn, sim) -> None:
        self.times.append(t)


def test_lifecycle_sets_smoker_ever_smoked_and_quit_age() -> None:
    end = 80 * YEAR
    life = Lifecycle(load_locale("us"), end)
    seen = set()
    for seed in range(400):
        p = life.make_person(seed, seed)
        h = p.extra["smoking"]
        age_at_end = (end - p.birth) / YEAR
        assert h == life.make_person(seed, seed).extra["smoking"]  # deterministic per person
        if h.quit is None or age_at_end < 30:
            continue

        sim = _Sim(p)
        life.begin(p, sim)
        onset_t, quit_t = p.birth + int(h.onset * YEAR), p.birth + int(h.quit * YEAR)
        assert {onset_t, quit_t} <= set(sim.times)
        life._smoking(sim, onset_t)
        assert p.attrs["smoker"] is True and p.attrs["ever_smoked"] is True
        assert "quit smoking age" not in p.attrs
        life._smoking(sim, quit_t)
        assert p.attrs["smoker"] is False and p.attrs["ever_smoked"] is True
        assert p.attrs["quit smoking age"] == int(h.quit)
        seen.add(seed)
    assert len(seen) > 20


def test_a_quit_ratio_that_implies_more_ever_smokers_than_people_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "toomany"
    shutil.copytree(LOCALES_DIR / "us", broken)
    doc = json.loads((broken / "smoking.json").read_text())
    doc["quit_ratio"]["by_age"][2]["ratio"] = 0.9  # 45-64: 14.9% current would need 149% ever
    (broken / "smoking.json").write_text(json.dumps(doc))
    with pytest.raises(LocaleError, match=re.escape("at age 45 (M) current prevalence 0.170 and quit ratio")):
        load_locale(broken)
