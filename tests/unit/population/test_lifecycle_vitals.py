"""Vital signs that follow attributes (Synthea's LifecycleModule.calculateVitalSigns)."""

from __future__ import annotations

import statistics

import pytest

from hygeia.population._vitals import (
    STATIN_ADHERENCE, attribute_vital, growth_z, hba1c_percent, ldl_sampson, uniform,
)
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
    # without diabetes: the pack-mode HbA1c by age (test_glucose_by_age), below 6.5%
    assert all(4.0 <= v <= 6.4 for v in values) and len(set(values)) > 1
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


def test_adult_without_hypertension_is_drawn_below_the_hypertensive_thresholds(lifecycle) -> None:
    """The pack's NHANES blood pressure describes all adults; a person without hypertension is drawn below 140/90."""
    t = 75 * YEAR  # age 75: the reference mean (133 men, 139 women) is near the threshold
    sbp, dbp = [], []
    for seed in range(400):
        p = _person(lifecycle, seed)
        sbp.append(p.vital("Systolic Blood Pressure", t))
        dbp.append(p.vital("Diastolic Blood Pressure", t))
    assert max(sbp) < 140 and max(dbp) < 90
    assert sum(v >= 130 for v in sbp) > 40  # truncated, not squeezed: high-normal readings stay common
    p = _person(lifecycle, 7)
    p.attrs["hypertension"] = True
    assert 140 <= p.vital("Systolic Blood Pressure", t) <= 160  # the hypertensive's comes from its attribute
    child = _person(lifecycle, 7)
    child.extra["z"]["Systolic Blood Pressure"] = 5.0
    assert child.vital("Systolic Blood Pressure", 10 * YEAR) > 120  # children's references are not cut


# -- the pack's lipid panel (Monte Carlo over the lifecycle's own draws) ----------------------------

_PANEL = ("Total Cholesterol", "LDL", "HDL", "Triglycerides")


@pytest.fixture(scope="module")
def panels(lifecycle) -> dict[tuple[str, int], list[dict[str, float]]]:
    """The panel of 3,000 persons at 30, 50 and 70 years, by (sex, age)."""
    out: dict[tuple[str, int], list[dict[str, float]]] = {}
    for i in range(3000):
        p = lifecycle.make_person(i + 1, 10_000 + i)
        p.birth = 0
        for age in (30, 50, 70):
            t = age * YEAR + i * 60_000
            out.setdefault((p.sex, age), []).append({n: p.vital(n, t) for n in _PANEL})
    return out


def _mean(rows, name):
    return sum(r[name] for r in rows) / len(rows)


def test_ldl_is_calculated_from_the_panel_and_tracks_total_cholesterol(panels) -> None:
    rows = [r for group in panels.values() for r in group]
    tc = [r["Total Cholesterol"] for r in rows]
    ldl = [r["LDL"] for r in rows]
    assert statistics.correlation(ldl, tc) >= 0.8
    for r in rows[:500]:
        assert r["LDL"] == pytest.approx(ldl_sampson(r["Total Cholesterol"], r["HDL"], r["Triglycerides"]), abs=0.2)
    assert all(r["LDL"] > 20 and r["HDL"] > 10 and r["Triglycerides"] > 10 for r in rows)


def test_cholesterol_rises_from_young_adults_to_middle_age_and_hdl_is_higher_in_women(panels) -> None:
    for sex in "MF":
        assert _mean(panels[(sex, 50)], "Total Cholesterol") > _mean(panels[(sex, 30)], "Total Cholesterol") + 8
        assert _mean(panels[(sex, 50)], "LDL") > _mean(panels[(sex, 30)], "LDL") + 5
    # Untreated, men's level flattens after 60 (measured, with statins, it falls: NHANES)
    assert _mean(panels[("M", 70)], "Total Cholesterol") < _mean(panels[("M", 50)], "Total Cholesterol") + 3
    assert _mean(panels[("F", 50)], "HDL") > _mean(panels[("M", 50)], "HDL") + 7


def test_a_persons_lipids_track_from_visit_to_visit(lifecycle) -> None:
    first, later = [], []
    for i in range(1500):
        p = lifecycle.make_person(i + 1, 50_000 + i)
        p.birth = 0
        first.append(p.vital("Total Cholesterol", 45 * YEAR))
        later.append(p.vital("Total Cholesterol", 46 * YEAR + 3_600_000))
    r = statistics.correlation(first, later)
    assert 0.8 <= r < 0.99  # a person's own level, plus visit-to-visit variation


@pytest.mark.parametrize(("code", "lowering"), [("617310", 0.43), ("259255", 0.55), ("312961", 0.32)])
def test_a_statin_moves_every_component_of_the_panel(lifecycle, code: str, lowering: float) -> None:
    t = 55 * YEAR
    before, after = {n: [] for n in _PANEL}, {n: [] for n in _PANEL}
    for i in range(400):
        p = lifecycle.make_person(i + 1, 90_000 + i)
        p.birth = 0
        if uniform(p.seed, 0, "statin adherence") >= STATIN_ADHERENCE:
            continue  # the adherent: the drug's full effect (the others show half of it)
        for n in _PANEL:
            before[n].append(p.vital(n, t))
        p.medications[code] = []
        p.vitals_t = None  # forget the values cached for this instant
        for n in _PANEL:
            after[n].append(p.vital(n, t))
        assert after["LDL"][-1] == pytest.approx(before["LDL"][-1] * (1 - lowering), abs=0.2)
        assert after["LDL"][-1] == pytest.approx(
            ldl_sampson(after["Total Cholesterol"][-1], after["HDL"][-1], after["Triglycerides"][-1]), abs=0.3)
    ratio = {n: sum(after[n]) / sum(before[n]) for n in _PANEL}
    assert ratio["LDL"] == pytest.approx(1 - lowering, abs=0.005)
    assert ratio["HDL"] == pytest.approx(1.05, abs=0.005)
    assert ratio["Triglycerides"] == pytest.approx(0.8 if lowering >= 0.5 else 0.9, abs=0.005)
    assert 1 - lowering < ratio["Total Cholesterol"] < 0.9  # TC falls by the LDL it loses


def test_the_panel_of_an_instant_is_one_draw(lifecycle) -> None:
    p = _person(lifecycle, seed=11)
    t = 44 * YEAR
    hdl = p.vital("HDL", t)
    assert p.vital("LDL", t) == pytest.approx(
        ldl_sampson(p.vital("Total Cholesterol", t), hdl, p.vital("Triglycerides", t)), abs=0.2)


# -- growth: no impossible height, weight or BMI at any age -----------------------------------------

def test_bmi_stays_within_physiological_limits_at_every_age(lifecycle) -> None:
    """Growth z-scores are correlated and truncated, so BMI never leaves 10-90 kg/m2 (plausibility: 8-100)."""
    for i in range(1500):
        p = lifecycle.make_person(i + 1, 200_000 + i)
        p.birth = 0
        for age in (0.5, 2, 5, 9, 13, 17, 21, 30, 45, 60, 75, 90):
            t = int(age * YEAR)
            bmi = p.vital("BMI", t)
            assert 10.0 <= bmi <= 90.0, (age, p.extra["z"]["height"], p.extra["z"]["weight"], bmi)
            assert 40.0 <= p.vital("Height", t) <= 215.0


@pytest.mark.parametrize("age", [0.0, 1.0, 2.0, 6.0, 12.0, 18.0, 22.0, 40.0, 85.0])
def test_extreme_growth_z_scores_are_truncated(lifecycle, age: float) -> None:
    pack = lifecycle.pack
    for zh, zw in ((9.0, -9.0), (-9.0, 9.0), (9.0, 9.0), (-9.0, -9.0)):
        h, w = growth_z({"height": zh, "weight": zw}, age)
        assert abs(h) <= 4.0 and abs(w) <= 3.5
        for sex in "MF":
            m = pack.height_cm(age, sex, h) / 100
            assert 8.0 < pack.weight_kg(age, sex, w) / (m * m) < 100.0


def test_adult_underweight_is_rare(lifecycle) -> None:
    low = n = 0
    for i in range(4000):
        p = lifecycle.make_person(i + 1, 300_000 + i)
        p.birth = 0
        for age in (25, 45, 65):
            n += 1
            low += p.vital("BMI", age * YEAR) < 18.5
    assert 0.005 < low / n < 0.03  # NHANES: 1.6% of adults 20 and over


def test_non_adherent_statin_users_show_half_the_effect(lifecycle) -> None:
    t, ratios, adherent = 60 * YEAR, [], 0
    for i in range(600):
        p = lifecycle.make_person(i + 1, 120_000 + i)
        p.birth = 0
        before = p.vital("LDL", t)
        p.medications["617310"] = []
        p.vitals_t = None  # forget the values cached for this instant
        ratios.append(p.vital("LDL", t) / before)
        adherent += uniform(p.seed, 0, "statin adherence") < STATIN_ADHERENCE
    assert {round(r, 2) for r in ratios} <= {0.57, 0.78, 0.79, 0.58, 0.56, 0.77}
    assert adherent / 600 == pytest.approx(STATIN_ADHERENCE, abs=0.06)
