"""Fasting glucose and HbA1c of adults without diabetes rise with age (pack mode)."""

from __future__ import annotations

import statistics

import pytest

from hygeia.population.lifecycle import Lifecycle
from hygeia.population.locale import load_locale

YEAR = 31_556_952_000
N = 1500


@pytest.fixture(scope="module")
def lifecycle() -> Lifecycle:
    return Lifecycle(load_locale("us"), 100 * YEAR)


def _labs(lifecycle: Lifecycle, age: float, seed0: int = 0) -> list[tuple[float, float]]:
    out = []
    for s in range(seed0, seed0 + N):
        p = lifecycle.make_person(s, 1000 + s)
        p.birth = 0
        t = int(age * YEAR)
        out.append((p.vital("Glucose", t), p.vital("Blood Glucose", t)))
    return out


def _prediabetic(labs: list[tuple[float, float]], with_a1c: bool) -> float:
    return sum(100 <= g < 126 or (with_a1c and 5.7 <= a < 6.5) for g, a in labs) / len(labs)


def test_prediabetic_share_rises_with_age_band(lifecycle) -> None:
    # Shares among adults without diabetes; the NDSR's prediabetes (24% at 18-44, 42% at
    # 45-64, 49% at 65+ of all adults, diabetes included) divided by the share without it.
    young = _prediabetic(_labs(lifecycle, 27.0), with_a1c=False)  # no HbA1c screening under 35
    middle = _prediabetic(_labs(lifecycle, 55.0), with_a1c=True)
    old = _prediabetic(_labs(lifecycle, 72.0), with_a1c=True)
    assert 0.15 <= young <= 0.32
    assert 0.40 <= middle <= 0.62
    assert 0.58 <= old <= 0.80
    assert young < middle < old


def test_no_diabetic_reading_without_diabetes(lifecycle) -> None:
    for age in (30.0, 60.0, 85.0):
        labs = _labs(lifecycle, age)
        assert max(g for g, _ in labs) < 126
        assert max(a for _, a in labs) < 6.5
        assert min(a for _, a in labs) >= 4.0


def test_hba1c_mean_rises_about_a_hundredth_a_year(lifecycle) -> None:
    m30 = statistics.mean(a for _, a in _labs(lifecycle, 30.0))
    m70 = statistics.mean(a for _, a in _labs(lifecycle, 70.0))
    assert 0.25 <= m70 - m30 <= 0.6  # Pani 2008: 0.010-0.014 a year


def test_person_keeps_rank_from_year_to_year(lifecycle) -> None:
    a50 = _labs(lifecycle, 50.0)
    a51 = _labs(lifecycle, 51.0)
    assert statistics.correlation([g for g, _ in a50], [g for g, _ in a51]) > 0.8
    assert statistics.correlation([a for _, a in a50], [a for _, a in a51]) > 0.7
    # glucose and HbA1c of a person go together
    assert 0.2 < statistics.correlation([g for g, _ in a50], [a for _, a in a50]) < 0.7


def test_synthea_biometrics_keep_synthea_hba1c() -> None:
    lc = Lifecycle(load_locale("us"), 100 * YEAR, biometrics="synthea")
    p = lc.make_person(1, 7)
    p.birth = 0
    assert all(5.0 <= p.vital("Blood Glucose", int(70 * YEAR) + k * 86_400_000) <= 5.7 for k in range(50))
