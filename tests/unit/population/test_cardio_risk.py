"""Cardiovascular risk attributes (Synthea's CardiovascularDiseaseModule and risk calculators)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.core.config import RunConfig
from hygeia.population._cardio import (
    af_10y,
    ascvd_10y,
    chadsvasc_1y,
    per_period,
    update_cardio_risk,
)
from hygeia.population.engine._person import Person
from hygeia.population.simulate import _run_context, simulate_person

FIXTURES = Path(__file__).parent / "fixtures"
YEAR = 31_556_952_000


@pytest.mark.parametrize(("sex", "race", "expected"), [
    # Goff et al. 2014 worked example: age 55, TC 213, HDL 50, untreated SBP 120, no smoking or diabetes.
    ("F", "white", 0.021), ("F", "black", 0.030), ("M", "white", 0.053), ("M", "black", 0.061),
])
def test_pooled_cohort_equations_match_the_published_example(sex: str, race: str, expected: float) -> None:
    risk = ascvd_10y(55, sex, race, 120, 213, 50, smoker=False, diabetic=False, treated_bp=False)
    assert risk == pytest.approx(expected, abs=0.0015)


def test_ascvd_only_between_40_and_79() -> None:
    assert ascvd_10y(39, "M", "white", 120, 213, 50, False, False, False) == -1.0
    assert ascvd_10y(80, "M", "white", 120, 213, 50, False, False, False) == -1.0


def test_af_points_and_chadsvasc() -> None:
    assert af_10y(44, "M", 25, 120, False) == -1.0
    assert af_10y(45, "M", 25, 120, False) == 0.02  # 1 point
    assert af_10y(90, "M", 31, 170, True) == 0.3  # 8 + 3 points, capped at 10
    assert chadsvasc_1y(50, "M", False, False, False, False, False) == 0.002
    assert chadsvasc_1y(80, "F", True, True, True, True, True) == 0.122


def test_per_period_converts_and_clamps() -> None:
    assert per_period(-1.0, 3652, 30) == 0.0
    assert per_period(1 - 0.9 ** 10, 10, 1) == pytest.approx(0.1)


def test_update_sets_monthly_risks_in_synthea_ratios() -> None:
    p = Person(1, 9, 0, "M", "white", "nonhispanic", vital_fn=lambda p, n, t: {
        "Systolic Blood Pressure": 150.0, "Total Cholesterol": 240.0, "HDL": 40.0, "BMI": 32.0}.get(n))
    p.attrs["smoker"] = True
    update_cardio_risk(p, 60 * YEAR)
    a = p.attrs
    assert a["mi_risk"] > 0 and a["ihd_risk"] == pytest.approx(10 * a["mi_risk"])
    assert a["stroke_risk"] == pytest.approx(a["mi_risk"])
    assert a["atrial_fibrillation_risk"] > 0
    assert {"mi_risk", "ihd_risk", "stroke_risk", "atrial_fibrillation_risk"} <= p.dirty
    p.attrs["atrial_fibrillation"] = True
    update_cardio_risk(p, 60 * YEAR)
    assert a["atrial_fibrillation_risk"] == 0.0  # Synthea stops once AF is present
    assert a["stroke_risk"] == pytest.approx(per_period(0.002, 365, 30))  # CHA2DS2-VASc 0: man of 60


def test_only_the_attributes_modules_read_are_kept() -> None:
    def person() -> Person:
        return Person(1, 9, 0, "M", "white", "nonhispanic", vital_fn=lambda p, n, t: {
            "Systolic Blood Pressure": 150.0, "Total Cholesterol": 240.0, "HDL": 40.0, "BMI": 32.0}.get(n))

    full, some, none = person(), person(), person()
    update_cardio_risk(full, 60 * YEAR)
    update_cardio_risk(some, 60 * YEAR, ("ascvd_risk",))
    update_cardio_risk(none, 60 * YEAR, ())
    assert some.attrs["ascvd_risk"] == full.attrs["ascvd_risk"] > 0
    assert "atrial_fibrillation_risk" not in some.attrs and "stroke_risk" not in some.attrs
    assert "ascvd_risk" not in none.attrs
    # Past 79 the Pooled Cohort Equations do not apply: their risks are set without reading a vital sign.
    old = Person(2, 9, 0, "F", "white", "nonhispanic", vital_fn=lambda p, n, t: 1 / 0)
    update_cardio_risk(old, 85 * YEAR, ("ascvd_risk",))
    assert (old.attrs["ascvd_risk"], old.attrs["mi_risk"], old.attrs["ihd_risk"]) == (-1.0, 0.0, 0.0)
    # The run's lifecycle keeps those its modules name: the default library reads ascvd_risk alone.
    assert _run_context(RunConfig(n=1))[1].cardio_attributes == {"ascvd_risk"}
    assert "mi_risk" in _run_context(RunConfig(n=1, modules=(str(FIXTURES),), default_modules=False))[1].cardio_attributes


def test_a_module_reading_mi_risk_fires() -> None:
    cfg = RunConfig(n=400, seed=11, modules=(str(FIXTURES),), default_modules=False)
    people = [simulate_person(cfg, i) for i in range(400)]
    old = [p for p in people if p.attrs.get("ascvd_risk") is not None]
    assert old, "nobody reached 40"
    assert all(0.0 <= p.attrs["mi_risk"] < 0.01 for p in old)
    assert sum(bool(p.attrs.get("had_mi")) for p in people) > 0
