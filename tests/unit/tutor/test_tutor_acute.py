"""Authored acute diseases: files check out, cases validate, vital signs worsen, priority actions carry deadlines."""

from __future__ import annotations

import doctest

import pytest

from hygeia.errors import ConfigError
from hygeia.tutor import _acute
from hygeia.tutor._acute import acute_ids, load_acute, validate_acute
from hygeia.tutor._case_io import read_case, validate_case, write_case
from hygeia.tutor._generate import generate_case


def test_the_three_required_acute_diseases_exist():
    assert {"HYGEIA:sepsis", "HYGEIA:diabetic_ketoacidosis", "HYGEIA:pulmonary_embolism"} <= set(acute_ids())


@pytest.mark.parametrize("did", ["HYGEIA:sepsis", "HYGEIA:diabetic_ketoacidosis", "HYGEIA:pulmonary_embolism"])
def test_acute_case_loads_validates_and_worsens(did, kb, tmp_path):
    data = load_acute(did)
    assert validate_acute(data, kb) == []
    assert all(f["source"] in data["sources"] for f in data["findings"])
    case = generate_case(did, seed=5, kb=kb)
    assert case.acute and case.disease["id"] == did
    assert validate_case(case.to_dict(), kb) == []
    assert read_case(write_case(case, tmp_path / "c.json"), kb=kb).to_dict() == case.to_dict()
    v = case.vitals
    assert len(v) >= 3 and [x.minutes for x in v] == sorted(x.minutes for x in v)
    assert v[-1].systolic < v[0].systolic and v[-1].heart_rate > v[0].heart_rate
    priority = [a for a in case.actions if a.priority]
    assert len(priority) >= 3 and all(a.within_minutes and a.within_minutes > 0 for a in priority)
    assert all("[" in a.why for a in case.actions)            # every action names its source
    assert any(a.harmful for a in case.actions)
    assert case.present() and case.patient.chief_complaint
    assert generate_case(did, seed=5, kb=kb).to_dict() == case.to_dict()


def test_sepsis_labs_follow_the_authored_ranges(kb):
    case = generate_case("HYGEIA:sepsis", seed=2, kb=kb)
    lactate = next(t for t in case.tests if t.key == "lactate").values[0]
    assert 4.0 <= lactate["value"] <= 6.5 and lactate["flag"] == "H"
    xray = next(t for t in case.tests if t.key == "chest_xray")
    assert xray.image["finding"] == "consolidation"


def test_acute_case_in_agentclinic_format_has_its_vital_signs(kb):
    from hygeia.tutor._agentclinic import to_agentclinic

    case = generate_case("HYGEIA:pulmonary_embolism", seed=4, kb=kb)
    osce = to_agentclinic(case, kb=kb)["OSCE_Examination"]
    vitals = osce["Physical_Examination_Findings"]["Vital_Signs"]
    assert vitals["Heart_Rate"] == f"{case.vitals[0].heart_rate:.0f} bpm"
    assert osce["Correct_Diagnosis"] == "Acute pulmonary embolism"
    assert "CT_pulmonary_angiogram" in osce["Test_Results"]


def test_dka_meets_the_ada_criteria(kb):
    case = generate_case("HYGEIA:diabetic_ketoacidosis", seed=9, kb=kb)
    values = {v["loinc"]: v["value"] for t in case.tests for v in t.values}
    assert values["2345-7"] > 250 and values["2028-9"] <= 18 and values["2744-1"] <= 7.30


def test_malformed_acute_document_lists_every_problem(kb):
    data = load_acute("HYGEIA:sepsis")
    data["schema"] = "other/1"
    data["findings"][0]["hpo"] = "HP:0000000x"
    data["findings"][1]["frequency"] = 1.7
    data["findings"][2]["source"] = "a blog"
    data["vitals"][1]["minutes"] = 0
    data["actions"][0].pop("within_minutes")
    problems = validate_acute(data, kb, name="sepsis.json")
    text = "\n".join(problems)
    assert len(problems) == 6, text
    for part in ("unknown schema id 'other/1'", "unknown HPO term 'HP:0000000x'", "expected a probability",
                 "source 'a blog' is not one of the file's sources", "minutes must increase",
                 "a priority action needs 'within_minutes'"):
        assert part in text


def test_unknown_acute_disease(kb):
    with pytest.raises(ConfigError, match="HYGEIA:sepsis"):
        generate_case("HYGEIA:influenza", kb=kb)


def test_noise_and_vagueness_apply_to_acute_cases(kb):
    noisy = generate_case("HYGEIA:sepsis", seed=1, noise=0.5, vague=0.5, kb=kb, tests=False)
    assert any(f.source == "noise" for f in noisy.findings)


def test_doctests():
    assert doctest.testmod(_acute).failed == 0
