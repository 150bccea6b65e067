"""``hygeia tutor`` end to end: find a disease, make a case, check it, play it in the terminal, score it."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from hygeia.cli.main import main


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["tutor", *args], input=input)


@pytest.fixture(scope="module")
def case_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("tutorcli") / "marfan.json"
    res = _run("case", "--disease", "ORPHA:558", "--seed", "7", "--out", str(out),
               "--agentclinic", str(out.with_name("marfan_agentclinic.json")))
    assert res.exit_code == 0, res.output
    assert "Wrote a virtual patient with Marfan syndrome" in res.output and "seed      7" in res.output
    return out


def test_diseases_finds_ids_and_says_when_nothing_matches():
    res = _run("diseases", "marfan", "--limit", "3")
    assert res.exit_code == 0 and "ORPHA:558" in res.output and "Marfan syndrome" in res.output
    assert "HYGEIA:sepsis" in _run("diseases", "septic").output
    res = _run("diseases", "zzqx", "nothing")
    assert res.exit_code != 0 and "no disease name holds 'zzqx nothing'" in res.output


def test_case_is_reproducible_and_has_an_agentclinic_twin(case_file, tmp_path):
    again = tmp_path / "again.json"
    assert _run("case", "--disease", "ORPHA:558", "--seed", "7", "--out", str(again), "-q").output == ""
    assert json.loads(again.read_text()) == json.loads(case_file.read_text())
    osce = json.loads(case_file.with_name("marfan_agentclinic.json").read_text())["OSCE_Examination"]
    assert osce["Correct_Diagnosis"] == "Marfan syndrome"
    res = _run("case", "--disease", "ORPHA:558", "--seed", "7", "--out", str(again))
    assert res.exit_code == 2 and "--overwrite" in res.output


def test_unknown_disease_names_close_ids_and_the_search_command(tmp_path):
    res = _run("case", "--disease", "ORPHA:5580000", "--out", str(tmp_path / "x.json"))
    assert res.exit_code == 2 and "unknown disease 'ORPHA:5580000'" in res.output
    assert "hygeia tutor diseases NAME" in res.output and not (tmp_path / "x.json").exists()


def test_check_lists_every_schema_problem(case_file, tmp_path):
    assert "a valid case (Marfan syndrome" in _run("check", str(case_file)).output
    data = json.loads(case_file.read_text())
    data["findings"][0]["hpo"] = "HP:9999999"
    data["findings"][1]["channel"] = "telepathy"
    del data["patient"]["sex"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    res = _run("check", str(bad))
    assert res.exit_code == 2
    assert all(w in res.output for w in ("HP:9999999", "telepathy", "sex")), res.output


def test_play_in_the_terminal_saves_resumes_and_scores(case_file, tmp_path):
    session = tmp_path / "session.json"
    res = _run("play", str(case_file), "--session", str(session), "--student", "ada",
               input="What brings you in?\nhow is the weather on mars\nexam eyes\n")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert any("about" in x for x in lines[1:3])                        # the chief complaint, in words
    assert any(re.search(r"not sure|put it differently|mean", x) for x in lines), res.output
    saved = json.loads(session.read_text())
    assert saved["student"] == "ada" and len(saved["events"]) == 3
    res = _run("play", str(case_file), "--session", str(session), input="ddx Marfan syndrome\nend\n")
    assert res.exit_code == 0 and "you ranked it 1" in res.output
    report = tmp_path / "report.html"
    res = _run("score", str(session), "--case", str(case_file), "--out", str(report))
    assert res.exit_code == 0 and "Session scored" in res.output and "ranked 1 in the differential" in res.output
    assert "Marfan syndrome" in report.read_text() and "Human Phenotype Ontology" in report.read_text()
