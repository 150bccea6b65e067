"""Vital signs that follow attributes (Synthea's LifecycleModule.calculateVitalSigns)."""

from __future__ import annotations

import pytest

from hygeia.population._vitals import attribute_vital, hba1c_percent, uniform
from hygeia.population.engine._person import Person
from hygeia.population.lifecycle import Lifecycle
from hygeia.population.locale import load_locale

YEAR = 31_556_952_000


@pytest.fixture(scope="module")
def lifecycle() -> Lifecycle:
    return Lifecycle(load_locale("us"), 60 * YEAR)


def _person(lifecycle: Lifecycle, seed: int = 3) -> Person:
    p = lifecycle.make_person(1, seed)
    p.birth = 0
    return p


def test_hba1c_is_a_percentage_by_glycaemic_state(lifecycle) -> None:
    p = _person(lifecycle)
    t = 50 * YEAR
    values = [p.vital("Blood Glucose", t + k * 86_400_000) for k in range(200)]
    assert all(5.0 <= v <= 5.7 for v in values)
    p.attrs["prediabetes"] = True
    assert all(5.8 <= p.vital("Blood Glucose", t + k * 86_400_000) <= 6.4 for k in range(200))
    p.attrs["diabetes"] = True
    assert 6.6 <= p.vital("Blood Glucose", t) <= 12.0


@pytest.mark.parametrize(("bmi", "expected"), [(22.0, 6.6), (27.0, 6.6), (36.0, 9.0), (48.0, 12.0), (55.0, 12.0)])
def test_hba1c_of_diabetes_follows_bmi(bmi: float, expected: float) -> None:
    p = Person(1, 5, 0, "M", "white", "nonhispanic")
    p.attrs["diabetes"] = True
    assert hba1c_percent(p, 0, bmi) == expected


def test_diabetes_drugs_lower_hba1c() -> None:
    p = Person(1, 5, 0, "M", "white", "nonhispanic")
    p.attrs["diabetes"] = True
    p.medications["860975"] = []  # metformin
    assert hba1c_percent(p, 0, 36.0) == 7.5


def test_lipids_and_glucose_follow_diabetes_severity(lifecycle) -> None:
    p = _person(lifecycle)
    t = 50 * YEAR
    assert attribute_vital(p, "HDL", t) is None  # no severity: the pack's reference values
    p.attrs["diabetes_severity"] = 2
    hdl, tc, tg = (p.vital(n, t) for n in ("HDL", "Total Cholesterol", "Triglycerides"))
    assert 20 <= hdl <= 40 and 239 <= tc <= 259 and 199 <= tg <= 499
    assert p.vital("LDL", t) == pytest.approx(tc - hdl - 0.2 * tg, abs=0.2)
    assert 125 <= p.vital("Glucose", t) <= 200
    p.attrs["diabetes_severity"] = 4
    assert 125 <= p.vital("Glucose", t) <= 200  # glucose bands stop at severity 2


def test_kidney_function_follows_ckd_stage(lifecycle) -> None:
    p = _person(lifecycle)
    t = 50 * YEAR
    normal_cr = p.vital("Creatinine", t)
    for stage, (lo, hi) in {1: (60, 90), 2: (30, 59), 3: (15, 29), 4: (1, 15)}.items():
        p.attrs["ckd"] = stage
        assert lo <= p.vital("EGFR", t) <= hi
    assert p.vital("Creatinine", t) > normal_cr
    assert 300 <= p.vital("Microalbumin Creatinine Ratio", t) <= 600


def test_oxygen_saturation_and_blood_pressure_follow_chf_and_hypertension(lifecycle) -> None:
    p = _person(lifecycle)
    t = 50 * YEAR
    p.attrs["chf"] = True
    assert 75 <= p.vital("Oxygen Saturation", t) <= 89
    p.attrs["hypertension"] = True
    assert 140 <= p.vital("Systolic Blood Pressure", t) <= 160
    assert 90 <= p.vital("Diastolic Blood Pressure", t) <= 120
    p.attrs["hypertension_severe"] = True
    assert 160 <= p.vital("Systolic Blood Pressure", t) <= 200


def test_a_state_set_vital_sign_still_wins(lifecycle) -> None:
    p = _person(lifecycle)
    p.attrs["diabetes_severity"] = 3
    p.vitals["Glucose"] = 99.0
    assert p.vital("Glucose", 50 * YEAR) == 99.0


def test_draws_depend_only_on_person_instant_and_name() -> None:
    assert uniform(7, 10**12, "HDL") == uniform(7, 10**12, "HDL")
    draws = {uniform(7, 10**12 + k * 60_000, "HDL") for k in range(100)}
    assert len(draws) == 100 and all(0.0 <= d < 1.0 for d in draws)
    assert uniform(8, 10**12, "HDL") != uniform(7, 10**12, "HDL")
