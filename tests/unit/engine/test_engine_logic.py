"""Logic conditions, one fixture each: probes record whether a condition held; Guard chains
record the exact moment a time-based condition became true."""

from __future__ import annotations

import pytest
from engine_testkit import BIRTH, MONTH, YEAR, load, marks, ms, run, verdicts

from hygeia.population.engine import Person, Simulation


@pytest.mark.parametrize(("sex", "expected"), [("F", {"is_female": True, "is_male": False}),
                                               ("M", {"is_female": False, "is_male": True})])
def test_gender(sex: str, expected: dict) -> None:
    assert verdicts(run("logic_gender.json", sex=sex)) == expected


def test_age_each_operator_in_years_and_months_opens_at_the_exact_threshold() -> None:
    opened = {k: v[0] for k, v in marks(run("logic_age.json")).items()}
    assert opened == {
        "lt_2_years": BIRTH,
        "ge_6_months": BIRTH + 6 * MONTH,
        "ge_18_years": BIRTH + 18 * YEAR,
        "gt_18_years": BIRTH + 19 * YEAR,  # whole years, as Synthea: older than 18 means 19
        "eq_20_years": BIRTH + 20 * YEAR,
        "le_20_years": BIRTH + 20 * YEAR,
        "ne_20_years": BIRTH + 21 * YEAR,
        "gt_299_months": BIRTH + 300 * MONTH,
    }


def test_age_guard_stays_shut_until_the_threshold() -> None:
    opened = marks(run("logic_age.json", end=BIRTH + 19 * YEAR - 1))
    assert "ge_18_years" in opened and "gt_18_years" not in opened


def test_date_year_month_and_date_open_at_the_exact_moment() -> None:
    opened = {k: v[0] for k, v in marks(run("logic_date.json")).items()}
    assert opened == {
        "year_ge_2005": ms("2005-01-01"),
        "month_eq_7": ms("2005-07-01"),
        "date_ge_2010_03_15": ms("2010-03-15"),
        "year_eq_2011": ms("2011-01-01"),
        "date_gt_2012_01_01": ms("2012-01-01") + 1,  # strictly after midnight
        "year_gt_2012": ms("2013-01-01"),
        "month_lt_3": ms("2013-01-01"),
        "month_ne_1": ms("2013-02-01"),
    }


@pytest.mark.parametrize("ses", ["Low", "Middle", "High"])
def test_socioeconomic_status(ses: str) -> None:
    person = Person(1, 1, BIRTH, "F", "white", "nonhispanic")
    person.ses = ses
    Simulation(person, load("logic_socioeconomic_status.json"), BIRTH + YEAR).run()
    assert verdicts(person) == {f"ses_{s.lower()}": s == ses for s in ("Low", "Middle", "High")}


@pytest.mark.parametrize(("race", "ethnicity", "expected"), [
    ("white", "nonhispanic", {"white": True, "black": False, "asian": False, "hispanic": False}),
    ("black", "hispanic", {"white": False, "black": True, "asian": False, "hispanic": True}),
    ("asian", "nonhispanic", {"white": False, "black": False, "asian": True, "hispanic": False}),
])
def test_race_and_hispanic_as_ethnicity(race: str, ethnicity: str, expected: dict) -> None:
    assert verdicts(run("logic_race.json", race=race, ethnicity=ethnicity)) == expected


def test_symptom() -> None:
    assert verdicts(run("logic_symptom.json")) == {
        "fatigue_ge_60": True,  # the highest severity over its causes
        "fatigue_gt_60": False,
        "cough_eq_0": True,  # an absent symptom has severity 0
        "cough_gt_0": False,
    }


def test_observation_numeric_coded_nil_and_latest() -> None:
    assert verdicts(run("logic_observation.json")) == {
        "a1c_gt_7": True,
        "a1c_lt_7": False,
        "a1c_eq_7_5": True,
        "covid_detected": True,
        "covid_not_detected": False,
        "cholesterol_is_nil": True,
        "a1c_is_nil": False,
        "a1c_is_not_nil": True,
        "latest_a1c_gt_7": False,  # a second A1c of 6.0 replaced 7.5
    }


@pytest.mark.parametrize("kind", ["condition", "medication", "careplan", "allergy"])
def test_active_condition_medication_careplan_allergy(kind: str) -> None:
    assert verdicts(run(f"logic_active_{kind}.json")) == {
        "active": True,
        "other_active": False,
        "either_active": True,
        "active_by_attribute": True,
        "active_after_end": False,
        "by_attribute_after_end": False,
    }


def test_attribute_every_operator_on_bool_int_and_str() -> None:
    p = run("logic_attribute.json", attributes={"flag": True, "count": 3, "name": "abc"})
    assert verdicts(p) == {
        "flag_eq_true": True,
        "flag_eq_false": False,
        "flag_ne_false": True,
        "count_eq_3": True,
        "count_eq_3_0": True,
        "count_ne_3": False,
        "count_lt_4": True,
        "count_le_3": True,
        "count_gt_3": False,
        "count_ge_3": True,
        "name_eq_abc": True,
        "name_ne_abc": False,
        "name_ne_xyz": True,
        "missing_is_nil": True,
        "missing_is_not_nil": False,
        "name_is_nil": False,
        "name_is_not_nil": True,
        "missing_gt_0": False,  # nothing compares with a missing attribute
        "missing_eq_0": False,
        "count_gt_3_after_counter": True,
    }


def test_vital_sign() -> None:
    assert verdicts(run("logic_vital_sign.json", vitals={"BMI": 32.0})) == {
        "bmi_gt_30": True,
        "bmi_lt_30": False,
        "bmi_eq_32": True,
        "systolic_is_nil": True,
        "bmi_gt_30_after": False,  # the VitalSign state set BMI to 25
    }


def test_prior_state_plain_within_and_since() -> None:
    assert verdicts(run("logic_prior_state.json")) == {
        "seen_first": True,
        "seen_second": False,
        "first_within_6_months": False,  # First was a year ago
        "first_within_2_years": True,
        "first_since_second": False,  # Second came after First
        "second_since_first": True,
        "first_since_never": True,  # 'since' a state never entered does not apply
    }


@pytest.mark.parametrize(("fixture", "expected"), [
    ("logic_and.json", {"true_and_true": True, "true_and_false": False, "false_and_false": False}),
    ("logic_or.json", {"true_or_false": True, "false_or_false": False}),
    ("logic_not.json", {"not_true": False, "not_false": True}),
    ("logic_at_least.json", {"two_of_ttf": True, "two_of_tff": False}),
    ("logic_at_most.json", {"one_of_tff": True, "one_of_ttf": False}),
    ("logic_true.json", {"true": True}),
    ("logic_false.json", {"false": False}),
], ids=["And", "Or", "Not", "At Least", "At Most", "True", "False"])
def test_boolean_conditions(fixture: str, expected: dict) -> None:
    assert verdicts(run(fixture)) == expected
