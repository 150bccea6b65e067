"""The depression and asthma modules: coherent records, and the shape their calibration relies on.

Monte Carlo checks on a few hundred persons of one birth cohort with each module alone (no
chronic illness, no pregnancy); tolerances are several standard errors wide.
"""

from __future__ import annotations

import datetime as dt

import pytest

from hygeia.population.engine import load_modules, simulate
from hygeia.population.engine._loader import default_modules_dir
from hygeia.population.engine._person import CODE, END, KIND, T

MODULES = default_modules_dir()
END_DATE = "2026-01-01"
END_MS = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
YEAR_MS = 365 * 86_400_000
DEPRESSION = {"36923009", "370143000", "58703003"}
ASTHMA = {"195967001", "233678006"}
SSRIS = {"312941", "349332", "310385"}


@pytest.fixture(scope="module")
def depression():
    return load_modules([MODULES / "depression.json"], strict=True)


@pytest.fixture(scope="module")
def asthma():
    return load_modules([MODULES / "asthma.json"], strict=True)


def _share(modules, codes: set[str], *, n: int, age: int, sex: str, window_ms: int) -> float:
    """Share of ``n`` persons aged ``age`` on the end date with a diagnosis active in the window."""
    hits = 0
    for seed in range(n):
        p = simulate(modules, seed=seed, birth=f"{2026 - age}-01-01", end=END_DATE, sex=sex)
        hits += any(r[KIND] == "condition" and r[CODE] in codes and r[T] < END_MS
                    and (r[END] is None or r[END] >= END_MS - window_ms) for r in p.rows)
    return hits / n


def test_a_past_year_episode_is_common_in_young_women_and_rarer_in_men_and_later_life(depression) -> None:
    # Module alone, 400 persons each: about 17% of women and 11% of men aged 23, 4% of women at 60
    # (recorded, i.e. treated, episodes; NSDUH 2021 x 61% treated gives 11.3% at 18-25 for both sexes).
    young_f = _share(depression, DEPRESSION, n=400, age=23, sex="F", window_ms=YEAR_MS)
    young_m = _share(depression, DEPRESSION, n=400, age=23, sex="M", window_ms=YEAR_MS)
    older_f = _share(depression, DEPRESSION, n=400, age=60, sex="F", window_ms=YEAR_MS)
    assert 0.12 < young_f < 0.25
    assert 0.05 < young_m < 0.15
    assert young_f > 1.3 * young_m
    assert older_f < 0.08


def test_episodes_recur_and_treatment_follows_the_diagnosis(depression) -> None:
    recurrent = 0
    for seed in range(300):
        p = simulate(depression, seed=seed, birth="1990-01-01", end=END_DATE, sex="F")
        episodes = sorted((r[T], r[END]) for r in p.rows if r[KIND] == "condition" and r[CODE] in DEPRESSION)
        recurrent += len(episodes) > 1
        for a, b in zip(episodes, episodes[1:]):
            assert a[1] is not None and a[1] <= b[0]  # one episode at a time
        for r in p.rows:
            if r[KIND] == "medication" and r[CODE] in SSRIS:  # an SSRI starts inside a diagnosed episode
                assert any(t0 <= r[T] and (t1 is None or r[T] <= t1) for t0, t1 in episodes)
    assert recurrent > 20  # a first episode is often followed by others


def _episodes(modules, *, n: int, age: int, sex: str) -> tuple[float, list[int]]:
    """Share of ``n`` persons aged ``age`` ever diagnosed, and each person's count of episodes (diagnosed or not)."""
    ever, counts = 0, []
    for seed in range(n):
        p = simulate(modules, seed=seed, birth=f"{2026 - age}-01-01", end=END_DATE, sex=sex)
        ever += any(r[KIND] == "condition" and r[CODE] in DEPRESSION and r[T] < END_MS for r in p.rows)
        counts.append(p.attrs.get("depression_episode_count", 0))
    return ever / n, counts


def test_episodes_are_concentrated_and_lifetime_diagnosis_is_lower_in_older_cohorts(depression) -> None:
    # Module alone, 400 women each: ever diagnosed 33% at 30 and 18% at 70 (BRFSS 2021: 24.6% at 26-34,
    # 16.9% at 50+; the full library adds postpartum depression); at 60, 16% of women have had three or
    # more episodes and they carry ~95% of all episodes. Before the liability and the episode-count
    # recurrence, about half of all adult women had a diagnosis on record.
    ever_30, _ = _episodes(depression, n=400, age=30, sex="F")
    ever_70, _ = _episodes(depression, n=400, age=70, sex="F")
    ever_60, counts = _episodes(depression, n=400, age=60, sex="F")
    assert 0.2 < ever_30 < 0.45
    assert ever_70 < 0.8 * ever_30  # older cohorts were young when depression was rarer and less treated
    assert ever_60 < 0.3
    many = [c for c in counts if c >= 3]
    assert len(many) < 0.3 * len(counts)  # a minority ...
    assert sum(many) > 0.75 * sum(counts)  # ... carries most episodes


def test_asthma_remits_so_that_current_asthma_does_not_accumulate_with_age(asthma) -> None:
    # Module alone, 2,000 persons each: boys 9.9% at 10; men 5.1% at 58 and 4.9% at 75;
    # women 10.2% at 58 and 9.2% at 75 (NHIS 2021: boys 5-14 9.1%, men 35-64 6.0%, 65+ 4.6%; women 10.4%, 9.4%).
    boys = _share(asthma, ASTHMA, n=400, age=10, sex="M", window_ms=0)
    men = _share(asthma, ASTHMA, n=400, age=75, sex="M", window_ms=0)
    women = _share(asthma, ASTHMA, n=400, age=75, sex="F", window_ms=0)
    assert 0.06 < boys < 0.15
    assert men < 0.085  # without adult remission, 75-year-olds would carry twice this
    assert 0.06 < women < 0.14
    assert women > 1.3 * men
