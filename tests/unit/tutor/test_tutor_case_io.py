"""Case files: round trip, schema problems gathered in one error, unreadable files, AgentClinic's format."""

from __future__ import annotations

import doctest
import json
import re

import pytest

from hygeia.errors import ConfigError, DataValidationError
from hygeia.tutor._agentclinic import to_agentclinic
from hygeia.tutor._case import CASE_SCHEMA
from hygeia.tutor._case_io import read_case, validate_case, write_case
from hygeia.tutor._generate import generate_case


@pytest.fixture(scope="module")
def case():
    return generate_case("ORPHA:558", seed=21)


def test_round_trip(case, tmp_path, kb):
    path = write_case(case, tmp_path / "case.json")
    back = read_case(path, kb=kb)
    assert back.to_dict() == case.to_dict()
    assert json.loads(path.read_text())["schema"] == CASE_SCHEMA
    assert validate_case(case.to_dict(), kb) == []


def test_every_schema_problem_is_gathered(case, tmp_path, kb):
    data = case.to_dict()
    data["findings"][0]["hpo"] = "HP:9999999"                 # unknown HPO id
    data["findings"][1]["channel"] = "smell"                  # bad channel
    data["patient"]["age_years"] = "forty"                    # wrong type
    del data["patient"]["chief_complaint"]                    # missing field
    data["tests"][0]["image"] = {"modality": "xray", "body_part": "knee", "finding": "nodule"}
    data["surprise"] = 1                                      # unknown field
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataValidationError) as e:
        read_case(path, kb=kb)
    msg = str(e.value)
    assert "(6 problems)" in msg
    for part in ("findings[0].hpo: unknown HPO term 'HP:9999999'", "findings[1].channel: bad channel 'smell'",
                 "patient.age_years: expected a number", "patient: missing field 'chief_complaint'",
                 "a knee image cannot show 'nodule'", "case: unknown field 'surprise'"):
        assert part in msg, part
    assert len(e.value.problems) == 6


def test_consistency_problems(case, kb):
    data = case.to_dict()
    neg = next(i for i, f in enumerate(data["findings"]) if f["source"] == "absent")
    data["findings"][neg]["present"] = True                  # an educator's edit: allowed
    data["patient"]["onset_years"] = data["patient"]["age_years"] + 5
    data["tests"].append(dict(data["tests"][0]))
    text = "\n".join(validate_case(data, kb))
    assert f"findings[{neg}]" not in text
    assert "is after the patient's age" in text
    assert "duplicate test key 'cbc'" in text


def test_unknown_schema_id(case, kb):
    data = dict(case.to_dict(), schema="hygeia.tutor.case/9")
    problems = validate_case(data, kb)
    assert [str(p) for p in problems] == [("schema: unknown schema id 'hygeia.tutor.case/9': expected "
                                           "'hygeia.tutor.case/1'")]


def test_doctests():
    from hygeia.tutor import _agentclinic, _case_io

    for mod in (_agentclinic, _case_io):
        assert doctest.testmod(mod).failed == 0, mod.__name__


def test_unreadable_files(tmp_path, kb):
    with pytest.raises(ConfigError, match="does not exist"):
        read_case(tmp_path / "none.json", kb=kb)
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(DataValidationError, match="the file is empty"):
        read_case(empty, kb=kb)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(DataValidationError, match=re.escape("not a text file")):
        read_case(binary, kb=kb)
    text = tmp_path / "text.json"
    text.write_text("Dies ist kein Fall.")
    with pytest.raises(DataValidationError, match="not valid JSON"):
        read_case(text, kb=kb)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(DataValidationError, match="expected a JSON object"):
        read_case(listed, kb=kb)


def test_agentclinic_field_names(case, kb):
    osce = to_agentclinic(case, kb=kb)
    assert list(osce) == ["OSCE_Examination"]
    o = osce["OSCE_Examination"]
    assert list(o) == ["Objective_for_Doctor", "Patient_Actor", "Physical_Examination_Findings", "Test_Results",
                       "Correct_Diagnosis"]
    assert list(o["Patient_Actor"]) == ["Demographics", "History", "Symptoms", "Past_Medical_History",
                                        "Social_History", "Review_of_Systems"]
    assert list(o["Patient_Actor"]["Symptoms"]) == ["Primary_Symptom", "Secondary_Symptoms"]
    assert "Vital_Signs" in o["Physical_Examination_Findings"]
    assert o["Correct_Diagnosis"] == "Marfan syndrome"
    assert o["Patient_Actor"]["Demographics"].endswith(("male", "female"))
    abnormal = {t.name for t in case.tests if t.abnormal}
    assert len(o["Test_Results"]) == len(abnormal)
    json.dumps(osce)
